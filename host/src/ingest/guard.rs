//! The cheap check before verification. A source's `rate_limit` is spent only by requests
//! that verified, so a sender of junk cannot push a platform's genuine webhooks into 429s;
//! what bounds the cost of junk (a plugin call each) is this guard: a token bucket per client
//! address at [`GUARD_FACTOR`] times the source's rate and burst. A genuine sender on another
//! address is untouched by a flood; one sharing the flood's address (behind the same proxy)
//! meets it only beyond that multiple.

use crate::cluster::TokenBucket;
use crate::config::RateLimit;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// How many times a source's rate one address may send before verification.
pub const GUARD_FACTOR: f64 = 4.0;
/// Addresses tracked per source; beyond it, the table starts afresh (every address full).
const MAX_PEERS: usize = 4096;

/// The per-address buckets of one source.
#[derive(Debug)]
pub struct PeerGuard {
    per_second: f64,
    burst: u32,
    peers: Mutex<HashMap<IpAddr, TokenBucket>>,
}

impl PeerGuard {
    /// The guard of a source limited to `limit`.
    pub fn new(limit: RateLimit) -> PeerGuard {
        PeerGuard {
            per_second: limit.per_second * GUARD_FACTOR,
            burst: (f64::from(limit.burst.max(1)) * GUARD_FACTOR).min(f64::from(u32::MAX)) as u32,
            peers: Mutex::default(),
        }
    }

    /// Takes a token for `peer`, or says how long until one is available.
    pub fn try_acquire(&self, peer: IpAddr) -> Result<(), Duration> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
            peers.clear();
        }
        peers
            .entry(peer)
            .or_insert_with(|| TokenBucket::new(self.per_second, self.burst))
            .try_acquire()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_a_multiple_of_the_sources_burst() {
        let guard = PeerGuard::new(RateLimit {
            per_second: 0.001,
            burst: 2,
        });
        let (flood, platform): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..8 {
            guard.try_acquire(flood).unwrap();
        }
        assert!(guard.try_acquire(flood).is_err(), "4 × a burst of 2");
        assert!(
            guard.try_acquire(platform).is_ok(),
            "another address is untouched"
        );
    }
}
