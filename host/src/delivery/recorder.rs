//! Records finished attempts in batches: the attempts that end while the store writes one
//! batch go together in the next [`crate::store::JobQueue::finish_many`] call, through the store's own
//! group-commit [`Batcher`]. Deliveries end one by one, so recording each on its own made a
//! store write (with SQLite, a commit and an fsync) per delivery; measured end to end that was
//! most of the writer's work, and delivery throughput roughly doubled once attempts shared
//! writes.

use crate::store::batch::{BatchLimits, BatchWrite, Batcher};
use crate::store::{Finished, Store, StoreError};
use std::sync::Arc;

/// The recorder's batching. Its queue never fills: every attempt belongs to a delivery holding
/// one of the engine's in-flight slots, and there are fewer than its capacity. Attempts are
/// small (a row and an update), so 512 share a call; they are not metered here, as the store
/// meters its own writes.
const RECORDER: BatchLimits = BatchLimits {
    name: "hookgate-attempt-recorder",
    capacity: crate::config::MAX_IN_FLIGHT_TOTAL as usize,
    max_items: 512,
    max_weight: usize::MAX,
    window: std::time::Duration::ZERO,
    metered: false,
};

/// The batch write: one `finish_many` call, run through the runtime the recorder started on.
struct Attempts {
    queue: Arc<dyn Store>,
    runtime: tokio::runtime::Handle,
}

impl BatchWrite for Attempts {
    type Item = Finished;
    type Output = bool;

    fn write(&mut self, batch: Vec<Finished>) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
        Ok(self.runtime.block_on(self.queue.finish_many(batch)))
    }
}

/// The handle attempts are recorded through; the batching thread stops when it is dropped.
#[derive(Debug)]
pub struct Recorder {
    batcher: Batcher<Finished, bool>,
}

impl Recorder {
    /// Starts the batching thread, writing through the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Result<Recorder, StoreError> {
        let attempts = Attempts {
            queue: store,
            runtime: tokio::runtime::Handle::current(),
        };
        Ok(Recorder {
            batcher: Batcher::start(attempts, RECORDER)?,
        })
    }

    /// Records one attempt; returns once it is durable, with whether the job changed (false:
    /// its lease was lost to another worker).
    pub async fn record(&self, finished: Finished) -> Result<bool, StoreError> {
        self.batcher.submit(finished).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event_id;
    use crate::store::conformance::routed;
    use crate::store::{Attempt, Next, SqliteStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attempts_recorded_at_once_each_get_their_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let routes: Vec<String> = (0..40).map(|i| format!("r{i}")).collect();
        let names: Vec<&str> = routes.iter().map(String::as_str).collect();
        store
            .insert(store.incoming(), routed("rec", "rec-1", &names))
            .await
            .unwrap();
        let now = 1_700_000_100_000;
        let jobs = store
            .lease(now, std::time::Duration::from_secs(60), 100, Vec::new())
            .await
            .unwrap();
        assert_eq!(jobs.len(), 40);
        let recorder = Arc::new(Recorder::start(store.clone()).unwrap());
        let tasks: Vec<_> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| {
                // Every third attempt ran under a lease that is no longer the job's.
                let stale = i % 3 == 0;
                let finished = Finished {
                    job_id: job.id,
                    lease_until_ms: job.lease_until_ms - i64::from(stale),
                    attempt: Attempt {
                        number: 1,
                        route: job.route.clone(),
                        started_at_ms: now,
                        duration_ms: 3,
                        outcome: crate::model::AttemptOutcome::Delivered,
                        http_status: Some(200),
                        error: None,
                    },
                    next: Next::Delivered,
                };
                let recorder = recorder.clone();
                tokio::spawn(async move { (stale, recorder.record(finished).await) })
            })
            .collect();
        for task in tasks {
            let (stale, answer) = task.await.unwrap();
            assert_eq!(answer.unwrap(), !stale, "stale: {stale}");
        }
        let delivered = store
            .jobs_for_event(&event_id("rec", "rec-1"))
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.status == crate::model::JobStatus::Delivered)
            .count();
        assert_eq!(delivered, 40 - 14, "the 14 stale attempts changed nothing");
        let history = store
            .attempts_for_event(&event_id("rec", "rec-1"))
            .await
            .unwrap();
        assert_eq!(history.len(), 40, "every attempt is kept");
    }
}
