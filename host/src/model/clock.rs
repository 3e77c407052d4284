//! The time the pipeline reads and waits on, passed in rather than called directly, so a test
//! can run the scheduler's hours in milliseconds: with tokio's clock paused, [`TokioClock`]
//! tells the wall time that tokio's (auto-advancing) clock implies.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// Wall-clock time and waiting on it.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, on the wall clock.
    fn now(&self) -> SystemTime;

    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The system's clock and tokio's timers: what the gateway runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Wall time that advances with tokio's clock from `base`: under `start_paused` tests, time
/// moves only as tasks sleep, and instantly.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: SystemTime,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `base` now.
    pub fn starting_at(base: SystemTime) -> TokioClock {
        TokioClock {
            base,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.base + self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A wall clock that stands still until told to move: for tests of what happens hours later
/// (a retry's due time), without waiting. Its waits are real.
#[cfg(test)]
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<SystemTime>,
}

#[cfg(test)]
impl ManualClock {
    /// A clock that reads `at`.
    pub fn at(at: SystemTime) -> ManualClock {
        ManualClock {
            now: std::sync::Mutex::new(at),
        }
    }

    /// Moves the clock `by` ahead.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock lock") += by;
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().expect("clock lock")
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(duration))
    }
}
