//! What happens to an event after it is stored: which routes it goes to ([`router`]), the
//! engine that delivers each (event, route) job ([`deliver`]) with retries ([`retry`]), a
//! circuit breaker and rate limit per destination ([`breaker`], [`destinations`]), and the
//! cron ticks that become jobs too ([`scheduler`]). On several nodes, [`shared`] keeps each
//! node's view of rate limits, holds and disabled routes in step with the others.

pub mod breaker;
pub mod deliver;
pub mod destinations;
mod recorder;
pub mod retry;
pub mod router;
pub mod scheduler;
pub mod shared;
