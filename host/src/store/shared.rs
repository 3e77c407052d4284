//! The storage role of a backend that several nodes share: what they must agree on beyond the
//! store's own data (rate-limit buckets and holds). [`crate::cluster`] decides how a node uses
//! it; a backend that several nodes can share implements it.

use super::StoreError;
use crate::config::RateLimit;
use std::time::Duration;

/// The longest wait a bucket reports (a tiny rate must not overflow anything).
pub const MAX_TOKEN_WAIT: Duration = Duration::from_secs(86_400);

/// A shared bucket's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// A token was taken: go ahead.
    Granted,
    /// None left; one is available after this long (at most [`MAX_TOKEN_WAIT`]).
    WaitFor(Duration),
}

impl Token {
    /// `Ok` when granted, else how long to wait: the shape of a local bucket's answer.
    pub fn granted(self) -> Result<(), Duration> {
        match self {
            Token::Granted => Ok(()),
            Token::WaitFor(wait) => Err(wait),
        }
    }
}

/// Coordination state shared by every node of a cluster.
#[async_trait::async_trait]
pub trait SharedState: Send + Sync + std::fmt::Debug + 'static {
    /// Takes one token from `bucket` (refilled at `limit.per_second` up to `limit.burst`), or
    /// says how long until one is available (at most [`MAX_TOKEN_WAIT`]).
    async fn take_token(&self, bucket: &str, limit: RateLimit) -> Result<Token, StoreError>;

    /// Publishes that `route` takes no deliveries for the next `duration`, unless it is
    /// already held for longer. Returns how long it is held now.
    async fn hold(&self, route: &str, duration: Duration) -> Result<Duration, StoreError>;

    /// Every current hold: route and the time it still has to run.
    async fn holds(&self) -> Result<Vec<(String, Duration)>, StoreError>;
}
