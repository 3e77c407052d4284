//! The delivery half of the pipeline: what happens to a job after its event is stored. The
//! [`engine`] leases due jobs and runs each through its destination's action plugin; [`retry`]
//! says when to try again; [`destinations`] keeps each route's circuit ([`breaker`]), rate
//! limit, pause and disabled state; [`recorder`] writes attempts in batches; [`dlq`] lists and
//! replays what gave up; [`scheduler`] turns cron ticks into jobs too. On several nodes,
//! [`shared`] keeps this node's view of rate limits, holds and disabled routes in step with
//! the others.

pub mod breaker;
pub mod destinations;
pub mod dlq;
pub mod engine;
mod recorder;
pub mod retry;
pub mod scheduler;
pub mod shared;
#[cfg(test)]
mod tests;

pub use dlq::{BulkReplay, Dlq, ReplayError};
pub use engine::Deliverer;
