//! The admin API's answers as types: the handlers build them, `hookgate dlq|events|plugins`
//! reads them back, and `openapi.json` documents them (a test holds the three together). One
//! definition per answer means the server and the CLI cannot drift apart field by field.
//!
//! Every field is always serialized, `None` as `null`: clients test `disabled` or
//! `next_cursor` for null, so no field is ever skipped. Times are RFC 3339 strings with
//! milliseconds ([`rfc3339_ms`]), never Unix numbers, because operators read them.

use crate::delivery::BulkReplay;
use crate::model::{
    AttemptOutcome, EventId, EventRecord, EventStatus, JobStatus, rfc3339_ms, unix_ms,
};
use crate::runtime::PluginInfo;
use crate::store;
use serde::{Deserialize, Serialize};

/// An entry of `GET /admin/routes`: the delivery engine's own operator view, served as is.
pub use crate::delivery::destinations::DestinationStatus;

/// Declares a one-word `status` value: a type per word, so an answer cannot carry another
/// answer's word and a client refuses a body whose word is not the one expected.
macro_rules! status_word {
    ($(#[$meta:meta])* $name:ident = $word:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[doc = concat!("`\"", $word, "\"`")]
            #[default]
            #[serde(rename = $word)]
            $name,
        }
    };
}

status_word!(
    /// `"error"`: the `status` of every failed admin request.
    Failed = "error"
);
status_word!(
    /// `"queued"`: a replay was queued.
    Queued = "queued"
);
status_word!(
    /// `"enabled"`: a route takes deliveries again.
    Enabled = "enabled"
);

/// The body of every admin error: `{"status":"error","error":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`. Defaulted when reading, so a client still shows the message of an
    /// answer that carries only `error` (a proxy's, say).
    #[serde(default)]
    pub status: Failed,
    /// What went wrong, for a person.
    pub error: String,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The entries.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// An entry of `GET /admin/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventItem {
    /// hookgate event id (`evt_…`).
    pub id: EventId,
    /// Source name.
    pub source: String,
    /// Normalized type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, or `dead_lettered` when the payload could not be normalized.
    pub status: EventStatus,
    /// When it was received.
    pub received_at: String,
    /// Its delivery jobs.
    pub jobs: u32,
    /// Jobs delivered.
    pub delivered: u32,
    /// Jobs dead-lettered.
    pub dead_lettered: u32,
}

impl From<store::EventSummary> for EventItem {
    fn from(e: store::EventSummary) -> Self {
        EventItem {
            id: e.id,
            source: e.source,
            event_type: e.event_type,
            status: e.status,
            received_at: rfc3339_ms(e.received_at_ms),
            jobs: e.jobs,
            delivered: e.delivered,
            dead_lettered: e.dead_lettered,
        }
    }
}

/// `GET /admin/events/{id}`: the event as actions receive it, where it stands, and every
/// delivery job with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// The normalized event with its original payload: exactly what actions receive. Kept as
    /// JSON because it is the platform's data, not hookgate's schema.
    pub event: serde_json::Value,
    /// `pending`, or `dead_lettered` when the payload could not be normalized.
    pub status: EventStatus,
    /// Where delivery stands across the jobs, in one word.
    pub delivery: Delivery,
    /// Why the payload could not be normalized, when it could not.
    pub error: Option<String>,
    /// The platform's own id of the event.
    pub platform_event_id: String,
    /// When it was received.
    pub received_at: String,
    /// Its delivery jobs, by route.
    pub jobs: Vec<Job>,
}

impl EventDetail {
    /// The detail of `event` with its `jobs` and their `attempts` (any order; each attempt
    /// goes to the job of its route, oldest first as given).
    pub fn new(
        event: EventRecord,
        jobs: Vec<store::JobRecord>,
        attempts: &[store::Attempt],
    ) -> Self {
        // Exactly what actions receive.
        let normalized = serde_json::from_slice(&crate::model::delivery_json(
            &event.envelope,
            &event.payload,
        ))
        .unwrap_or_default();
        let jobs: Vec<Job> = jobs
            .into_iter()
            .map(|j| Job {
                history: attempts
                    .iter()
                    .filter(|a| a.route == j.route)
                    .map(Attempt::from)
                    .collect(),
                route: j.route,
                status: j.status,
                attempts: j.attempts,
                due_at: rfc3339_ms(j.due_at_ms),
                last_error: j.last_error,
            })
            .collect();
        EventDetail {
            event: normalized,
            status: event.status,
            delivery: Delivery::of(event.status, &jobs),
            error: event.error,
            platform_event_id: event.platform_event_id,
            received_at: rfc3339_ms(event.received_at_ms),
            jobs,
        }
    }
}

/// One word for where an event stands across its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// No route took the event.
    NoRoutes,
    /// Something is still to be delivered.
    Pending,
    /// Every job delivered.
    Delivered,
    /// Every job gave up, or the payload could not be normalized.
    DeadLettered,
    /// Some jobs delivered, the others gave up.
    PartiallyDeadLettered,
}

impl Delivery {
    /// The summary of an event in `status` with `jobs`.
    pub fn of(status: EventStatus, jobs: &[Job]) -> Delivery {
        let count = |s: JobStatus| jobs.iter().filter(|j| j.status == s).count();
        let (pending, delivered, dead) = (
            count(JobStatus::Pending),
            count(JobStatus::Delivered),
            count(JobStatus::DeadLettered),
        );
        match (status, pending, delivered, dead) {
            (EventStatus::DeadLettered, ..) => Delivery::DeadLettered,
            (_, 0, 0, 0) => Delivery::NoRoutes,
            (_, p, ..) if p > 0 => Delivery::Pending,
            (_, _, _, 0) => Delivery::Delivered,
            (_, _, 0, _) => Delivery::DeadLettered,
            _ => Delivery::PartiallyDeadLettered,
        }
    }
}

/// A delivery job of an event, with its attempts (`Job` in openapi.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Route (or `schedule:<name>`).
    pub route: String,
    /// Where the job stands.
    pub status: JobStatus,
    /// Attempts in the current schedule (a replay starts again at 0).
    pub attempts: u32,
    /// When it is (or was last) due.
    pub due_at: String,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Every attempt, oldest first, replays included.
    pub history: Vec<Attempt>,
}

/// One delivery attempt (`Attempt` in openapi.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based number within its schedule.
    pub attempt: u32,
    /// When it started.
    pub at: String,
    /// Wall time it took.
    pub duration_ms: i64,
    /// What it came to.
    pub outcome: AttemptOutcome,
    /// The destination's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
}

impl From<&store::Attempt> for Attempt {
    fn from(a: &store::Attempt) -> Self {
        Attempt {
            attempt: a.number,
            at: rfc3339_ms(a.started_at_ms),
            duration_ms: a.duration_ms,
            outcome: a.outcome,
            http_status: a.http_status,
            error: a.error.clone(),
        }
    }
}

/// An entry of `GET /admin/dlq` (`DeadLetter` in openapi.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The event id (replay takes it).
    pub event_id: EventId,
    /// The route that gave up; null for a payload that could not be normalized.
    pub route: Option<String>,
    /// The event's source.
    pub source: String,
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The platform's own id of the event (Stripe's `evt_…`).
    pub platform_event_id: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: Option<String>,
    /// When the event was received.
    pub received_at: String,
    /// When it was dead-lettered.
    pub dead_lettered_at: String,
}

impl From<store::DeadLetter> for DeadLetter {
    fn from(d: store::DeadLetter) -> Self {
        DeadLetter {
            event_id: d.event_id,
            route: d.route,
            source: d.source,
            event_type: d.event_type,
            platform_event_id: d.platform_event_id,
            attempts: d.attempts,
            error: d.error,
            received_at: rfc3339_ms(d.received_at_ms),
            dead_lettered_at: rfc3339_ms(d.dead_lettered_at_ms),
        }
    }
}

/// `POST /admin/dlq/{id}/replay`: the event is queued again along `routes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replayed {
    /// `"queued"`.
    pub status: Queued,
    /// The event.
    pub event_id: EventId,
    /// The routes queued.
    pub routes: Vec<String>,
}

/// The body of `POST /admin/dlq/replay`: which dead letters, and optionally one page of them.
/// Unknown fields are refused, so a misspelt filter cannot widen a replay to everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkReplayRequest {
    /// Only events of this source.
    pub source: Option<String>,
    /// Only this route (and only this route of each event is revived).
    pub route: Option<String>,
    /// Dead-lettered at or after (RFC 3339 or Unix ms).
    pub since: Option<String>,
    /// Dead-lettered before (RFC 3339 or Unix ms).
    pub until: Option<String>,
    /// Required (true) when no filter is given: replaying everything is never an accident.
    #[serde(default)]
    pub all: bool,
    /// Replay one page of at most this many (up to 500); without it, up to 10,000.
    pub limit: Option<usize>,
    /// A previous answer's `next_cursor`.
    pub cursor: Option<String>,
}

/// `POST /admin/dlq/replay`: what a bulk replay queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReplayed {
    /// `"queued"`.
    pub status: Queued,
    /// How many events were queued again.
    pub replayed: usize,
    /// Those events, in id order.
    pub event_ids: Vec<EventId>,
    /// Events that could not be replayed, with why.
    pub failed: Vec<ReplayFailure>,
    /// Where the next page starts while more remain (after `limit` entries, or 10,000
    /// without one); null when done.
    pub next_cursor: Option<String>,
}

impl From<BulkReplay> for BulkReplayed {
    fn from(done: BulkReplay) -> Self {
        BulkReplayed {
            status: Queued::Queued,
            replayed: done.queued.len(),
            event_ids: done.queued,
            failed: done
                .failed
                .into_iter()
                .map(|(event_id, error)| ReplayFailure { event_id, error })
                .collect(),
            next_cursor: done.next_cursor,
        }
    }
}

/// A dead letter a bulk replay could not queue (no route matches it any more, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayFailure {
    /// The event.
    pub event_id: EventId,
    /// Why.
    pub error: String,
}

/// `GET /admin/routes`: every route and schedule, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    /// This node's view of each destination (see [`DestinationStatus`]).
    pub routes: Vec<DestinationStatus>,
}

/// `POST /admin/routes/{name}/enable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEnabled {
    /// `"enabled"`.
    pub status: Enabled,
    /// The route.
    pub route: String,
    /// Whether it was disabled (false: enabling changed nothing).
    pub was_disabled: bool,
}

/// `GET /admin/plugins`: what is loaded, and what failed to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plugins {
    /// Platform plugins, then action plugins.
    pub plugins: Vec<Plugin>,
    /// The last load error of every file that failed, by file.
    pub errors: Vec<PluginError>,
    /// How many times each file was rejected, by file.
    pub rejections: Vec<Rejection>,
}

/// Which side of the pipeline a plugin serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// Verifies and normalizes a platform's webhooks.
    Platform,
    /// Delivers events along routes.
    Action,
}

impl PluginKind {
    /// The word the API says (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Platform => "platform",
            PluginKind::Action => "action",
        }
    }
}

/// A loaded plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plugin {
    /// The name sources and routes refer to.
    pub name: String,
    /// Platform or action.
    pub kind: PluginKind,
    /// The plugin's own version.
    pub version: String,
    /// The WIT package version it was built against.
    pub wit_version: String,
    /// Its description.
    pub description: String,
    /// The file it was loaded from.
    pub file: String,
    /// SHA-256 of the file, hex: which build is serving.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: String,
    /// Whether its machine code came from the compiled-code cache.
    pub from_cache: bool,
    /// Calls since it was loaded.
    pub calls: u64,
    /// Failed calls (trap, timeout, memory) since it was loaded.
    pub failures: u64,
}

impl Plugin {
    /// The entry of a plugin of `kind` described by `info`, with its counters.
    pub fn new(kind: PluginKind, info: &PluginInfo, calls: u64, failures: u64) -> Plugin {
        Plugin {
            name: info.name.to_string(),
            kind,
            version: info.version.clone(),
            wit_version: info.wit_version.clone(),
            description: info.description.clone(),
            file: info.file.display().to_string(),
            sha256: info.sha256.clone(),
            loaded_at: rfc3339_ms(unix_ms(info.loaded_at)),
            from_cache: info.from_cache,
            calls,
            failures,
        }
    }
}

/// The last load error of a plugin file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginError {
    /// The file.
    pub file: String,
    /// Why it was not loaded.
    pub error: String,
}

/// How many times a plugin file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The file.
    pub file: String,
    /// Rejections so far.
    pub count: u64,
}
