//! What several nodes sharing one store must agree on beyond the store's own data: rate-limit
//! buckets and holds (a destination that takes no deliveries for a while, because some node's
//! circuit breaker opened or the destination asked for a pause with a 429).
//!
//! A node is either alone ([`Cluster::Local`]: its in-process token buckets and breakers
//! decide, exactly as before clustering existed) or one of several ([`Cluster::Shared`]: the
//! buckets live in the shared backend, and holds are published there for every node).
//!
//! Invariants of a [`SharedState`]:
//! - A bucket hands out at most `burst + per_second × elapsed` tokens over any interval,
//!   however many nodes take from it: taking is one atomic step on the backend, timed by the
//!   backend's clock, so nodes whose clocks disagree cannot mint extra tokens.
//! - A hold only ever grows until it ends: publishing a shorter one than the current one
//!   changes nothing. Holds are durations on the backend's clock too, so each node converts
//!   the remaining time into its own `Instant`.
//! - A failure of the backend is a [`StoreError`](crate::store::StoreError); callers must neither drop nor wrongly
//!   refuse because of one (ingest answers 503 + Retry-After; delivery defers the job).

mod bucket;

pub use bucket::TokenBucket;

pub use crate::store::{MAX_TOKEN_WAIT, SharedState, Token};

use std::sync::Arc;

/// Whether this node coordinates with others, and through what.
///
/// An enum rather than a do-nothing `SharedState` for the single node: a local "shared"
/// bucket that always says yes would let a caller forget the in-process bucket, and the
/// compiler could not tell. Matching on this makes every caller say what alone means.
#[derive(Debug, Clone, Default)]
pub enum Cluster {
    /// One node (or a store that cannot coordinate): in-process buckets and breakers.
    #[default]
    Local,
    /// Several nodes on one shared backend.
    Shared(Arc<dyn SharedState>),
}

impl Cluster {
    /// The shared state, when there is one.
    pub fn shared(&self) -> Option<&dyn SharedState> {
        match self {
            Cluster::Local => None,
            Cluster::Shared(shared) => Some(shared.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_alone_by_default() {
        assert!(Cluster::default().shared().is_none());
    }
}
