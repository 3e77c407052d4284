//! The data every stage shares: the normalized event and its stored record, ids, names and
//! time. Nothing here depends on any other part of the crate; every other folder may use it.

pub mod clock;
pub mod event;
pub mod ids;
pub mod job;
pub mod names;
pub mod time;

pub use clock::{Clock, SystemClock};
pub use event::{Envelope, EventRecord, EventStatus, NewEvents, UNNORMALIZED_TYPE, delivery_json};
pub use ids::{EventId, event_id};
pub use job::{AttemptOutcome, JobStatus};
pub use time::{duration_ms, rfc3339_ms, unix_ms};
