//! The delivery side of the store: jobs leased by workers, the attempt history, the
//! dead-letter queue and route state. Every state change of a job is one durable write, so a
//! crash at any point leaves each job either still pending (and run again once its lease
//! expires) or finished with its history.

use crate::model::{AttemptOutcome, EventId, EventStatus};
use serde::Serialize;

/// A job a worker has leased: the job and the event it delivers.
#[derive(Debug, Clone)]
pub struct LeasedJob {
    /// Job id.
    pub id: i64,
    /// The event it delivers.
    pub event_id: EventId,
    /// The route (or `schedule:<name>`) it delivers along.
    pub route: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The lease: if the worker has not finished by then, another may run the job.
    pub lease_until_ms: i64,
    /// The event's type.
    pub event_type: String,
    /// The event's envelope (normalized event without payload) as JSON.
    pub envelope: String,
    /// The original payload bytes.
    pub payload: Vec<u8>,
}

/// What one attempt did, for the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// 1-based attempt number within the job's current schedule (a replay starts again at 1).
    pub number: u32,
    /// Route of the job.
    pub route: String,
    /// Start, Unix ms.
    pub started_at_ms: i64,
    /// Wall time of the attempt.
    pub duration_ms: i64,
    /// What it came to.
    pub outcome: AttemptOutcome,
    /// The destination's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
}

/// An attempt to record and where its job goes next: one item of [`crate::store::Store::finish_many`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The job.
    pub job_id: i64,
    /// The lease the attempt ran under; the job changes only while it is still this one.
    pub lease_until_ms: i64,
    /// What the attempt did.
    pub attempt: Attempt,
    /// Where the job goes.
    pub next: Next,
}

/// What happens to a job after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Done.
    Delivered,
    /// Run again at this time (Unix ms).
    RetryAt(i64),
    /// Give up, with this error.
    DeadLetter(String),
}

/// A dead letter, as listed by `GET /admin/dlq`: a delivery job that gave up, or a verified
/// payload that could not be normalized (no route; it waits for a plugin fix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    /// The event id (replay takes it).
    pub event_id: EventId,
    /// The route that gave up; `None` for a payload that could not be normalized.
    pub route: Option<String>,
    /// The event's source.
    pub source: String,
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The platform's own id of the event (Stripe's `evt_…`, GitHub's delivery id), so an
    /// operator finds a platform's event without opening every entry.
    pub platform_event_id: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: Option<String>,
    /// When the event was received, Unix ms.
    pub received_at_ms: i64,
    /// When it was dead-lettered, Unix ms.
    pub dead_lettered_at_ms: i64,
}

/// Which dead letters to list or replay. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DlqFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this route.
    pub route: Option<String>,
    /// Dead-lettered at or after (Unix ms).
    pub since_ms: Option<i64>,
    /// Dead-lettered before (Unix ms).
    pub until_ms: Option<i64>,
}

/// One page of the dead-letter queue, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqPage {
    /// The entries.
    pub items: Vec<DeadLetter>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A stored event, as listed by `GET /admin/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSummary {
    /// Event id.
    pub id: EventId,
    /// Source.
    pub source: String,
    /// Normalized type.
    pub event_type: String,
    /// Pending, or dead-lettered (not normalizable).
    pub status: EventStatus,
    /// Receive time, Unix ms.
    pub received_at_ms: i64,
    /// Jobs of the event, and how many are delivered / dead-lettered.
    pub jobs: u32,
    /// Delivered jobs.
    pub delivered: u32,
    /// Dead-lettered jobs.
    pub dead_lettered: u32,
}

/// Which events to list; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this source.
    pub source: Option<String>,
    /// Only this normalized type.
    pub event_type: Option<String>,
    /// Received at or after (Unix ms).
    pub since_ms: Option<i64>,
    /// Received before (Unix ms).
    pub until_ms: Option<i64>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventPage {
    /// The events.
    pub items: Vec<EventSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Delivery queue figures for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Pending jobs, due now or later.
    pub pending: u64,
    /// Due time of the oldest pending job that is due, Unix ms.
    pub oldest_due_ms: Option<i64>,
    /// Dead letters: jobs that gave up plus payloads that could not be normalized.
    pub dead_letters: u64,
}

/// A route the delivery engine stopped using (a destination answered 410 Gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisabledRoute {
    /// Route name.
    pub route: String,
    /// Why.
    pub reason: String,
    /// Since when, Unix ms.
    pub since_ms: i64,
}

/// What a prune may delete, as cut-off instants (Unix ms). An event with a pending job is
/// never deleted, whatever its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Events whose jobs were all delivered (or that had none), received before this.
    pub delivered_before_ms: i64,
    /// Events with a dead-lettered job (or stored dead-lettered), received before this.
    pub dead_lettered_before_ms: i64,
    /// Events received at or after this are inside the dedupe window: a backend whose
    /// duplicate check is the stored event itself keeps its id (a tombstone) until the window
    /// has passed, so a redelivery is still recognised.
    pub dedupe_since_ms: i64,
}

/// What one prune call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Events deleted, with their jobs and attempts.
    pub events: usize,
    /// Where the next call continues; `None` once the pass reached events too young to go.
    pub next: Option<String>,
}
