//! Failed admin tokens are throttled per client address: after [`MAX_FAILURES`] wrong or
//! missing tokens within [`WINDOW`], that address gets 429 + Retry-After until the window ends,
//! without its token being looked at, so a token cannot be guessed at network speed. Other
//! addresses (the operator's) are not affected; a right token clears the address's count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts an address may make per window.
pub const MAX_FAILURES: u32 = 10;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; beyond it, expired windows are dropped, then the oldest.
const MAX_TRACKED: usize = 4096;

/// Failures per client address.
#[derive(Debug, Default)]
pub struct FailedTokens {
    by_peer: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl FailedTokens {
    /// `Err(wait)` when `peer` used up its failures in the current window.
    pub fn check(&self, peer: IpAddr, now: Instant) -> Result<(), Duration> {
        let by_peer = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        match by_peer.get(&peer) {
            Some(&(count, started)) if count >= MAX_FAILURES && now < started + WINDOW => {
                Err(started + WINDOW - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt from `peer`.
    pub fn failed(&self, peer: IpAddr, now: Instant) {
        let mut by_peer = self.by_peer.lock().unwrap_or_else(|p| p.into_inner());
        if by_peer.len() >= MAX_TRACKED && !by_peer.contains_key(&peer) {
            by_peer.retain(|_, (_, started)| now < *started + WINDOW);
            if by_peer.len() >= MAX_TRACKED
                && let Some(oldest) = by_peer.iter().min_by_key(|(_, (_, s))| *s).map(|(p, _)| *p)
            {
                by_peer.remove(&oldest);
            }
        }
        let entry = by_peer.entry(peer).or_insert((0, now));
        if now >= entry.1 + WINDOW {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// A right token from `peer`: its count starts again.
    pub fn succeeded(&self, peer: IpAddr) {
        self.by_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_off_after_its_failures_others_are_not() {
        let throttle = FailedTokens::default();
        let (guesser, operator) = ("192.0.2.7".parse().unwrap(), "192.0.2.8".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(throttle.check(guesser, t0).is_ok());
            throttle.failed(guesser, t0);
        }
        let wait = throttle
            .check(guesser, t0 + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(wait, WINDOW - Duration::from_secs(1));
        assert!(throttle.check(operator, t0).is_ok());
        assert!(
            throttle.check(guesser, t0 + WINDOW).is_ok(),
            "the window ends"
        );
        throttle.failed(guesser, t0 + WINDOW);
        assert!(
            throttle.check(guesser, t0 + WINDOW).is_ok(),
            "a new window counts from one"
        );
        throttle.succeeded(guesser);
        assert!(throttle.by_peer.lock().unwrap().is_empty());
    }
}
