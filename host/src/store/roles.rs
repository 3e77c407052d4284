//! What a backend does, by role. Each stage depends on the role it uses: ingest on
//! [`EventLog`], the delivery engine on [`JobQueue`] and [`RouteState`], the admin API and
//! `/metrics` on [`Inspection`]. A backend implements each role in the file of its kind of
//! work, under these names; [`Store`] is every role at once, for the code that wires them.

use super::queue::{
    Attempt, DisabledRoute, DlqFilter, DlqPage, EventFilter, EventPage, Finished, LeasedJob, Next,
    PrunePolicy, Pruned, QueueStats,
};
use super::{Incoming, JobRecord, Receipt, StoreError};
use crate::model::{EventId, EventRecord, NewEvents};

/// The durable, idempotent log of received events.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync + std::fmt::Debug + 'static {
    /// Announces that an insert is probably coming, so a backend that group-commits can hold a
    /// commit for it briefly (fewer, larger commits under load) instead of committing just
    /// before it arrives. Others hand out [`Incoming::unannounced`].
    fn incoming(&self) -> Incoming {
        Incoming::unannounced()
    }

    /// Stores the events durably and idempotently, each new pending event together with one
    /// delivery job per route it goes to, in the same transaction; returns after the commit.
    /// A duplicate creates no jobs. Takes the request's notice (see [`EventLog::incoming`]).
    async fn insert(&self, notice: Incoming, events: NewEvents) -> Result<Receipt, StoreError>;

    /// Looks an event up by id.
    async fn get_event(&self, id: &EventId) -> Result<Option<EventRecord>, StoreError>;

    /// The newest `received_at_ms` of the events of `source` (schedules store each tick as an
    /// event of source `schedule:<name>` received at the tick's time).
    async fn last_received(&self, source: &str) -> Result<Option<i64>, StoreError>;
}

/// The delivery jobs: leased by workers, finished with an attempt, deferred, replayed.
#[async_trait::async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug + 'static {
    /// Leases up to `limit` pending jobs due at `now_ms` whose lease (if any) has expired,
    /// oldest due first, skipping `skip_routes`; each lease lasts `lease` (instants are Unix
    /// ms, as stored; durations are durations).
    async fn lease(
        &self,
        now_ms: i64,
        lease: std::time::Duration,
        limit: usize,
        skip_routes: Vec<String>,
    ) -> Result<Vec<LeasedJob>, StoreError>;

    /// Records an attempt of a leased job and moves the job on. The attempt is always
    /// recorded; the job changes only while `lease_until_ms` is still its lease (a worker
    /// whose lease expired and was taken over must not overwrite the newer state). Returns
    /// whether the job changed.
    async fn finish(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        attempt: Attempt,
        next: Next,
    ) -> Result<bool, StoreError>;

    /// [`JobQueue::finish`] for several attempts at once, one answer per item in order. The
    /// default runs them concurrently; a backend with group commit writes them in one go, so
    /// the attempts that end while one commit runs share the next instead of one commit each.
    async fn finish_many(&self, finished: Vec<Finished>) -> Vec<Result<bool, StoreError>> {
        futures_util::future::join_all(
            finished
                .into_iter()
                .map(|f| self.finish(f.job_id, f.lease_until_ms, f.attempt, f.next)),
        )
        .await
    }

    /// Gives a leased job back without an attempt, due again at `due_at_ms` (its route is
    /// paused: circuit open, rate limited, disabled).
    async fn defer(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        due_at_ms: i64,
    ) -> Result<(), StoreError>;

    /// Queues an event again along `routes` (the current routes it matches), due at
    /// `now_ms`: dead-lettered jobs of those routes become pending with a fresh retry schedule
    /// (`attempts` back to 0; the attempt history is kept), routes without a job get one;
    /// delivered and pending jobs are left alone. Returns the routes queued.
    async fn replay(
        &self,
        event_id: &EventId,
        routes: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError>;
}

/// Routes the delivery engine stopped using, kept across restarts (and shared by every node).
#[async_trait::async_trait]
pub trait RouteState: Send + Sync + std::fmt::Debug + 'static {
    /// Marks a route disabled (kept across restarts until re-enabled).
    async fn disable_route(&self, route: &str, reason: &str, now_ms: i64)
    -> Result<(), StoreError>;

    /// Re-enables a route; whether it was disabled.
    async fn enable_route(&self, route: &str) -> Result<bool, StoreError>;

    /// Disabled routes.
    async fn disabled_routes(&self) -> Result<Vec<DisabledRoute>, StoreError>;
}

/// Reading the store for people and monitors: the admin API, `/metrics`, `/ready`.
#[async_trait::async_trait]
pub trait Inspection: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the store can currently serve reads and writes.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Number of stored events (for tests and status pages).
    async fn count_events(&self) -> Result<u64, StoreError>;

    /// The delivery jobs of an event, by route name.
    async fn jobs_for_event(&self, event_id: &EventId) -> Result<Vec<JobRecord>, StoreError>;

    /// Every attempt of every job of an event, oldest first.
    async fn attempts_for_event(&self, event_id: &EventId) -> Result<Vec<Attempt>, StoreError>;

    /// One page of dead-lettered jobs, newest first.
    async fn dead_letters(
        &self,
        filter: DlqFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DlqPage, StoreError>;

    /// One page of stored events, newest first, with their jobs' progress.
    async fn list_events(
        &self,
        filter: EventFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError>;

    /// Queue depth, oldest due job and dead-letter count, for `/metrics`.
    async fn queue_stats(&self, now_ms: i64) -> Result<QueueStats, StoreError>;
}

/// Keeping the store bounded: deleting what `[storage.retention]` lets go (see
/// [`crate::store::pruning`], which calls it in the background), and its size.
#[async_trait::async_trait]
pub trait Retention: Send + Sync + std::fmt::Debug + 'static {
    /// Deletes up to `max` of the events `policy` lets go, each with its jobs and attempts,
    /// in one short step, walking events by receive time from `cursor` (a previous call's
    /// [`Pruned::next`]; `None` starts a pass from the oldest).
    async fn prune(
        &self,
        policy: PrunePolicy,
        cursor: Option<String>,
        max: usize,
    ) -> Result<Pruned, StoreError>;

    /// Bytes the store takes: SQLite its files (database and WAL), Redis the server's used
    /// memory (shared with anything else on that server).
    async fn size_bytes(&self) -> Result<u64, StoreError>;
}

/// A whole backend: every role.
pub trait Store: EventLog + JobQueue + RouteState + Inspection + Retention {}

impl<T: EventLog + JobQueue + RouteState + Inspection + Retention> Store for T {}
