//! Durable storage behind one trait, so the pipeline does not care which backend runs.
//!
//! The contract every backend keeps (and [`conformance`] checks):
//! - `insert` returns only after the events are durable (committed and fsynced); its
//!   [`Receipt`] is the only way to build a 2xx response.
//! - Duplicates are recognised atomically: the event id (derived from source + platform event
//!   id) is a unique key, so concurrent copies of one delivery store exactly one event.
//! - A failed `insert` stored nothing that the caller was told about: the caller answers 503
//!   and the platform retries.

pub mod conformance;
pub mod queue;
pub mod redis;
mod shared;
mod sqlite;

pub use self::redis::{RedisOptions, RedisShared, RedisStore};
pub use queue::{
    Attempt, DeadLetter, DisabledRoute, DlqFilter, DlqPage, EventFilter, EventPage, EventSummary,
    Finished, LeasedJob, Next, QueueStats,
};
pub use shared::{MAX_TOKEN_WAIT, SharedState};
pub use sqlite::SqliteStore;

use crate::model::{EventRecord, NewEvents};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why the store could not do what was asked. Always a 503 at the edge.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The backend is unreachable or failing (I/O error, disk full, database locked...).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The write queue is full; shedding load instead of queueing without bound.
    #[error("store overloaded: write queue full")]
    Overloaded,
    /// Stored data could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// Whether an event was new or already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Newly stored by this call.
    New,
    /// Already stored (a redelivery or a concurrent copy).
    Duplicate,
}

/// Proof that events are durably stored. Only backends create receipts, after their commit.
#[derive(Debug, Clone)]
pub struct Receipt {
    events: Vec<(String, Inserted)>,
}

impl Receipt {
    /// Built by a backend after its commit.
    pub(crate) fn committed(events: Vec<(String, Inserted)>) -> Self {
        Receipt { events }
    }

    /// Every event id of the request with its outcome, in request order.
    pub fn events(&self) -> &[(String, Inserted)] {
        &self.events
    }

    /// True when nothing new was stored: the whole request was a redelivery.
    pub fn all_duplicates(&self) -> bool {
        self.events.iter().all(|(_, i)| *i == Inserted::Duplicate)
    }
}

/// A request on its way to [`Store::insert`] (its plugin is verifying and normalizing it),
/// from [`Store::incoming`]. Dropping it withdraws the notice: drop it before calling
/// `insert`, and on every path that does not insert.
#[derive(Debug)]
pub struct Incoming(Option<Arc<AtomicUsize>>);

impl Incoming {
    /// A notice counted in `counter` until dropped.
    pub(crate) fn counted(counter: &Arc<AtomicUsize>) -> Incoming {
        counter.fetch_add(1, Ordering::AcqRel);
        Incoming(Some(counter.clone()))
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if let Some(counter) = &self.0 {
            counter.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A delivery job: one (event, route) pair, created with the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The event it delivers.
    pub event_id: String,
    /// The route it delivers along.
    pub route: String,
    /// `pending`, `delivered` or `dead_lettered` (see [`queue::status`]).
    pub status: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next due, Unix ms.
    pub due_at_ms: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

/// A storage backend.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Stores the events durably and idempotently, each new pending event together with one
    /// delivery job per route it goes to, in the same transaction; returns after the commit.
    /// A duplicate creates no jobs.
    async fn insert(&self, events: NewEvents) -> Result<Receipt, StoreError>;

    /// Tells the backend that an insert is probably coming, so one that group-commits can
    /// hold a commit for it briefly (fewer, larger commits under load) instead of committing
    /// just before it arrives. Others ignore it.
    fn incoming(&self) -> Incoming {
        Incoming(None)
    }

    /// The delivery jobs of an event, by route name.
    async fn jobs_for_event(&self, event_id: &str) -> Result<Vec<JobRecord>, StoreError>;

    /// Looks an event up by id.
    async fn get_event(&self, id: &str) -> Result<Option<EventRecord>, StoreError>;

    /// Number of stored events (for tests and status pages).
    async fn count_events(&self) -> Result<u64, StoreError>;

    /// Whether the store can currently serve reads and writes.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Leases up to `limit` pending jobs due at `now_ms` whose lease (if any) has expired,
    /// oldest due first, skipping `skip_routes`; each lease lasts `lease_ms`.
    async fn lease(
        &self,
        now_ms: i64,
        lease_ms: i64,
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

    /// [`Store::finish`] for several attempts at once, one answer per item in order. The
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

    /// Every attempt of every job of an event, oldest first.
    async fn attempts_for_event(&self, event_id: &str) -> Result<Vec<Attempt>, StoreError>;

    /// One page of dead-lettered jobs, newest first.
    async fn dead_letters(
        &self,
        filter: DlqFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DlqPage, StoreError>;

    /// Queues an event again along `routes` (the current routes it matches), due at
    /// `now_ms`: dead-lettered jobs of those routes become pending with a fresh retry schedule
    /// (`attempts` back to 0; the attempt history is kept), routes without a job get one;
    /// delivered and pending jobs are left alone. Returns the routes queued.
    async fn replay(
        &self,
        event_id: &str,
        routes: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// Marks a route disabled (kept across restarts until re-enabled).
    async fn disable_route(&self, route: &str, reason: &str, now_ms: i64)
    -> Result<(), StoreError>;

    /// Re-enables a route; whether it was disabled.
    async fn enable_route(&self, route: &str) -> Result<bool, StoreError>;

    /// Disabled routes.
    async fn disabled_routes(&self) -> Result<Vec<DisabledRoute>, StoreError>;

    /// One page of stored events, newest first, with their jobs' progress.
    async fn list_events(
        &self,
        filter: EventFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError>;

    /// Queue depth, oldest due job and dead-letter count, for `/metrics`.
    async fn queue_stats(&self, now_ms: i64) -> Result<QueueStats, StoreError>;

    /// The newest `received_at_ms` of the events of `source` (schedules store each tick as an
    /// event of source `schedule:<name>` received at the tick's time).
    async fn last_received(&self, source: &str) -> Result<Option<i64>, StoreError>;
}
