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
