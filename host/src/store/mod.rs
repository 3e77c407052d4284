//! Durable storage behind role traits ([`EventLog`] for ingest, [`JobQueue`] for delivery,
//! [`RouteState`], [`Inspection`] for the admin API and monitoring; [`Store`] is all four), so
//! the pipeline does not care which backend runs, and a fake store implements only the role it
//! fakes.
//!
//! The contract every backend keeps (and [`conformance`] checks):
//! - [`EventLog::insert`] returns only after the events are durable (committed and fsynced); its
//!   [`Receipt`] is the only way to build a 2xx response.
//! - Duplicates are recognised atomically: the event id (derived from source + platform event
//!   id) is a unique key, so concurrent copies of one delivery store exactly one event.
//! - A failed `insert` stored nothing that the caller was told about: the caller answers 503
//!   and the platform retries.

pub(crate) mod batch;
pub mod conformance;
mod page;
pub mod pruning;
pub mod queue;
pub mod redis;
mod roles;
mod shared;
mod sqlite;

pub use self::redis::{RedisOptions, RedisShared, RedisStore};
pub use queue::{
    Attempt, DeadLetter, DisabledRoute, DlqFilter, DlqPage, EventFilter, EventPage, EventSummary,
    Finished, LeasedJob, Next, PrunePolicy, Pruned, QueueStats,
};
pub use roles::{EventLog, Inspection, JobQueue, Retention, RouteState, Store};
pub use shared::{MAX_TOKEN_WAIT, SharedState, Token};
pub use sqlite::SqliteStore;

use crate::model::{EventId, JobStatus};
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
    events: Vec<(EventId, Inserted)>,
}

impl Receipt {
    /// Built by a backend after its commit.
    pub(crate) fn committed(events: Vec<(EventId, Inserted)>) -> Self {
        Receipt { events }
    }

    /// Every event id of the request with its outcome, in request order.
    pub fn events(&self) -> &[(EventId, Inserted)] {
        &self.events
    }

    /// True when nothing new was stored: the whole request was a redelivery.
    pub fn all_duplicates(&self) -> bool {
        self.events.iter().all(|(_, i)| *i == Inserted::Duplicate)
    }
}

/// Notice of a request on its way to [`EventLog::insert`] (its plugin is verifying and
/// normalizing it), from [`EventLog::incoming`]. The insert takes it, so the notice ends
/// exactly when the events are handed to the backend; a request that never gets there (refused,
/// plugin fault) withdraws it by dropping it.
#[derive(Debug)]
pub struct Incoming(Option<Arc<AtomicUsize>>);

impl Incoming {
    /// No notice: for a backend that does not group-commit.
    pub fn unannounced() -> Incoming {
        Incoming(None)
    }

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
    pub event_id: EventId,
    /// The route it delivers along.
    pub route: String,
    /// Where it stands.
    pub status: JobStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next due, Unix ms.
    pub due_at_ms: i64,
    /// The last attempt's error.
    pub last_error: Option<String>,
}
