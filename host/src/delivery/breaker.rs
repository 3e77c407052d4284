//! A circuit breaker per destination, judged by its failure rate: the circuit opens when, over
//! the last `window`, at least `min_attempts` attempts were made and at least `failure_rate`
//! of them failed. A receiver that refuses some events and takes the rest is not a dead
//! destination: its failing events retry on their own schedules while the others flow, and
//! the circuit stays closed. Once open, the route is skipped for the cooldown; then, half-open,
//! up to `probes` attempts go through: the first success closes the circuit, and when every
//! one of them failed it opens again for twice as long (up to 16x), so one failing event
//! taken as the probe cannot keep a healthy destination shut. While it is open the route's
//! jobs stay in the store, so a dead destination costs nothing but a skipped row in the lease
//! query.

use crate::config::BreakerConfig;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Longest cooldown, as a multiple of the configured one.
const MAX_BACKOFF: u32 = 16;
/// The window is counted in this many buckets, each a tenth of it: attempts leave the count
/// a bucket at a time as they age out.
const BUCKETS: usize = 10;

/// The state as shown to operators (and read back by admin clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Deliveries flow.
    Closed,
    /// Deliveries wait until the cooldown ends.
    Open,
    /// A few probes are allowed (or in flight).
    HalfOpen,
}

/// Attempts and failures over the last window, in buckets.
#[derive(Debug)]
struct Window {
    epoch: Instant,
    width: Duration,
    /// Index (since `epoch`, in bucket widths) of the newest bucket.
    newest: u64,
    buckets: [(u32, u32); BUCKETS],
}

impl Window {
    fn new(window: Duration, now: Instant) -> Window {
        Window {
            epoch: now,
            width: (window / BUCKETS as u32).max(Duration::from_millis(1)),
            newest: 0,
            buckets: [(0, 0); BUCKETS],
        }
    }

    /// Counts one attempt at `now`; returns (attempts, failures) over the window.
    fn record(&mut self, now: Instant, failed: bool) -> (u32, u32) {
        let index = (now.saturating_duration_since(self.epoch).as_nanos()
            / self.width.as_nanos().max(1)) as u64;
        if index > self.newest {
            // Buckets that aged out of the window start empty.
            for i in (self.newest + 1)..=index.min(self.newest + BUCKETS as u64) {
                self.buckets[(i % BUCKETS as u64) as usize] = (0, 0);
            }
            self.newest = index;
        }
        let bucket = &mut self.buckets[(self.newest % BUCKETS as u64) as usize];
        bucket.0 = bucket.0.saturating_add(1);
        bucket.1 = bucket.1.saturating_add(u32::from(failed));
        self.buckets.iter().fold((0, 0), |(a, f), (ba, bf)| {
            (a.saturating_add(*ba), f.saturating_add(*bf))
        })
    }

    fn clear(&mut self) {
        self.buckets = [(0, 0); BUCKETS];
    }
}

/// One destination's breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    window: Window,
    open_until: Option<Instant>,
    backoff: u32,
    /// Half-open: probes let through, and how many of them failed.
    probes_started: u32,
    probes_failed: u32,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            window: Window::new(config.window, Instant::now()),
            open_until: None,
            backoff: 1,
            probes_started: 0,
            probes_failed: 0,
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
            // Half-open: `probes` attempts, then wait for their outcomes.
            CircuitState::HalfOpen => (self.probes_started >= self.config.probes)
                .then_some(now + Duration::from_millis(100)),
        }
    }

    /// Called when an attempt starts; in the half-open state it is one of the probes.
    pub fn on_start(&mut self, now: Instant) {
        if self.state(now) == CircuitState::HalfOpen {
            self.probes_started += 1;
        }
    }

    /// Records a successful attempt: counted, and a half-open circuit closes.
    pub fn on_success(&mut self, now: Instant) {
        match self.state(now) {
            CircuitState::Closed => {
                self.window.record(now, false);
            }
            CircuitState::HalfOpen => self.reset(),
            // An attempt begun before the circuit opened: the decision stands until the probes.
            CircuitState::Open => {}
        }
    }

    /// Closes the circuit and forgets the past (a route enabled again starts afresh).
    pub fn reset(&mut self) {
        self.window.clear();
        self.open_until = None;
        self.backoff = 1;
        self.probes_started = 0;
        self.probes_failed = 0;
    }

    /// Records a failed attempt; returns true when this opened the circuit.
    pub fn on_failure(&mut self, now: Instant) -> bool {
        match self.state(now) {
            CircuitState::Closed => {
                let (attempts, failures) = self.window.record(now, true);
                let rate = f64::from(failures) / f64::from(attempts.max(1));
                if attempts >= self.config.min_attempts && rate >= self.config.failure_rate {
                    self.open(now);
                    return true;
                }
                false
            }
            CircuitState::HalfOpen => {
                self.probes_failed += 1;
                if self.probes_failed >= self.config.probes {
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    self.open(now);
                    return true;
                }
                false
            }
            CircuitState::Open => false,
        }
    }

    fn open(&mut self, now: Instant) {
        self.open_until = Some(now + self.config.cooldown * self.backoff);
        self.probes_started = 0;
        self.probes_failed = 0;
        self.window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            min_attempts: 4,
            failure_rate: 0.5,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(10),
            probes: 3,
        })
    }

    /// Half-open, with its probes let through.
    fn half_open(b: &mut Breaker, t: Instant) -> Instant {
        for _ in 0..4 {
            b.on_failure(t);
        }
        let later = t + Duration::from_secs(11);
        assert_eq!(b.state(later), CircuitState::HalfOpen);
        later
    }

    #[test]
    fn opens_at_the_failure_rate_once_the_volume_is_reached() {
        let mut b = breaker();
        let t = Instant::now();
        assert!(!b.on_failure(t));
        assert!(!b.on_failure(t));
        assert!(!b.on_failure(t), "three attempts are under the volume");
        assert!(b.on_failure(t), "four of four failed");
        assert_eq!(b.state(t), CircuitState::Open);
        assert_eq!(b.blocked_until(t), Some(t + Duration::from_secs(10)));
    }

    /// Issue 17 item 17: a receiver refusing a third of the events never opens the circuit.
    #[test]
    fn a_destination_that_fails_some_events_stays_closed() {
        let mut b = breaker();
        let t = Instant::now();
        for i in 0..300u64 {
            let now = t + Duration::from_millis(i * 400);
            if i % 3 == 2 {
                assert!(!b.on_failure(now), "attempt {i}");
            } else {
                b.on_success(now);
            }
        }
        assert_eq!(b.state(t + Duration::from_secs(120)), CircuitState::Closed);
    }

    #[test]
    fn failures_age_out_of_the_window() {
        let mut b = breaker();
        let t = Instant::now();
        for _ in 0..3 {
            b.on_failure(t);
        }
        let later = t + Duration::from_secs(61);
        assert!(
            !b.on_failure(later),
            "the three earlier ones left the window"
        );
        b.on_success(later);
        assert_eq!(b.state(later), CircuitState::Closed);
    }

    #[test]
    fn half_open_lets_several_probes_through_and_one_success_closes() {
        let mut b = breaker();
        let later = half_open(&mut b, Instant::now());
        for _ in 0..3 {
            assert_eq!(b.blocked_until(later), None);
            b.on_start(later);
        }
        assert!(b.blocked_until(later).is_some(), "three probes at a time");
        assert!(!b.on_failure(later), "one failing event is not the verdict");
        assert!(!b.on_failure(later));
        b.on_success(later);
        assert_eq!(b.state(later), CircuitState::Closed);
    }

    #[test]
    fn when_every_probe_fails_it_reopens_for_longer() {
        let mut b = breaker();
        let later = half_open(&mut b, Instant::now());
        for _ in 0..3 {
            b.on_start(later);
        }
        assert!(!b.on_failure(later));
        assert!(!b.on_failure(later));
        assert!(b.on_failure(later));
        assert_eq!(
            b.blocked_until(later),
            Some(later + Duration::from_secs(20))
        );
    }

    #[test]
    fn attempts_ending_while_open_change_nothing() {
        let mut b = breaker();
        let t = Instant::now();
        half_open(&mut b, t);
        assert!(!b.on_failure(t));
        b.on_success(t);
        assert_eq!(b.state(t), CircuitState::Open);
    }
}
