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
mod sqlite;

pub use sqlite::SqliteStore;

use crate::event::{EventRecord, NewEvents};

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

/// A delivery job: one (event, route) pair, created with the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The event it delivers.
    pub event_id: String,
    /// The route it delivers along.
    pub route: String,
    /// `pending` until the delivery engine picks it up.
    pub status: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next due, Unix ms.
    pub due_at_ms: i64,
}

/// A storage backend.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Stores the events durably and idempotently, each new pending event together with one
    /// delivery job per route it goes to, in the same transaction; returns after the commit.
    /// A duplicate creates no jobs.
    async fn insert(&self, events: NewEvents) -> Result<Receipt, StoreError>;

    /// The delivery jobs of an event, by route name.
    async fn jobs_for_event(&self, event_id: &str) -> Result<Vec<JobRecord>, StoreError>;

    /// Looks an event up by id.
    async fn get_event(&self, id: &str) -> Result<Option<EventRecord>, StoreError>;

    /// Number of stored events (for tests and status pages).
    async fn count_events(&self) -> Result<u64, StoreError>;

    /// Whether the store can currently serve reads and writes.
    async fn ping(&self) -> Result<(), StoreError>;
}
