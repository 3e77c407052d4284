//! A circuit breaker per destination: after `failures` consecutive failed attempts the route
//! stops being tried for a cooldown, then one probe goes through (half-open). A success
//! closes the circuit; a failed probe opens it again for twice as long (up to 16x). While it
//! is open the route's jobs stay in the store, so a dead destination costs nothing but a
//! skipped row in the lease query.

use crate::config::BreakerConfig;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Longest cooldown, as a multiple of the configured one.
const MAX_BACKOFF: u32 = 16;

/// The state as shown to operators (and read back by admin clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Deliveries flow.
    Closed,
    /// Deliveries wait until the cooldown ends.
    Open,
    /// One probe is allowed (or in flight).
    HalfOpen,
}

/// One destination's breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    consecutive_failures: u32,
    open_until: Option<Instant>,
    backoff: u32,
    probe_in_flight: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            consecutive_failures: 0,
            open_until: None,
            backoff: 1,
            probe_in_flight: false,
        }
    }

    /// The state at `now`.
    pub fn state(&self, now: Instant) -> CircuitState {
        match self.open_until {
            None => CircuitState::Closed,
            Some(until) if now < until => CircuitState::Open,
            Some(_) => CircuitState::HalfOpen,
        }
    }

    /// When the circuit lets work through again, if it does not now.
    pub fn blocked_until(&self, now: Instant) -> Option<Instant> {
        match self.state(now) {
            CircuitState::Closed => None,
            CircuitState::Open => self.open_until,
            // Half-open: one probe at a time.
            CircuitState::HalfOpen => self
                .probe_in_flight
                .then_some(now + Duration::from_millis(100)),
        }
    }

    /// Called when an attempt starts; in the half-open state it becomes the probe.
    pub fn on_start(&mut self, now: Instant) {
        if self.state(now) == CircuitState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    /// Records a successful attempt: the circuit closes.
    pub fn on_success(&mut self) {
        self.consecutive_failures = 0;
        self.open_until = None;
        self.backoff = 1;
        self.probe_in_flight = false;
    }

    /// Records a failed attempt; returns true when this opened the circuit.
    pub fn on_failure(&mut self, now: Instant) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let was_probe = std::mem::take(&mut self.probe_in_flight);
        if was_probe {
            self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        }
        if was_probe || self.consecutive_failures >= self.config.failures {
            let opening = self.state(now) == CircuitState::Closed || was_probe;
            self.open_until = Some(now + self.config.cooldown * self.backoff);
            return opening;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failures: 3,
            cooldown: Duration::from_secs(10),
        })
    }

    #[test]
    fn opens_after_consecutive_failures_only() {
        let mut b = breaker();
        let t = Instant::now();
        assert!(!b.on_failure(t));
        assert!(!b.on_failure(t));
        b.on_success();
        assert!(!b.on_failure(t));
        assert!(!b.on_failure(t));
        assert_eq!(b.state(t), CircuitState::Closed);
        assert!(b.on_failure(t), "third consecutive failure opens");
        assert_eq!(b.state(t), CircuitState::Open);
        assert_eq!(b.blocked_until(t), Some(t + Duration::from_secs(10)));
    }

    #[test]
    fn half_open_lets_one_probe_through_and_success_closes() {
        let mut b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            b.on_failure(t);
        }
        let later = t + Duration::from_secs(11);
        assert_eq!(b.state(later), CircuitState::HalfOpen);
        assert_eq!(b.blocked_until(later), None);
        b.on_start(later);
        assert!(b.blocked_until(later).is_some(), "only one probe at a time");
        b.on_success();
        assert_eq!(b.state(later), CircuitState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_for_longer() {
        let mut b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            b.on_failure(t);
        }
        let later = t + Duration::from_secs(11);
        b.on_start(later);
        assert!(b.on_failure(later));
        assert_eq!(
            b.blocked_until(later),
            Some(later + Duration::from_secs(20))
        );
    }
}
