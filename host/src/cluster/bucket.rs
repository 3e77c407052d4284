//! Token buckets for per-source ingest rate limits. A refused request learns how long until a
//! token is available, which becomes its `Retry-After`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket: `burst` tokens, refilled at `per_second`.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            per_second,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// How long until a token is available, without taking one.
    pub fn ready_in(&self) -> Duration {
        let state = self.state.lock().expect("lock poisoned");
        let (tokens, last) = *state;
        let tokens = (tokens
            + Instant::now().saturating_duration_since(last).as_secs_f64() * self.per_second)
            .min(self.burst);
        if tokens >= 1.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64((1.0 - tokens) / self.per_second)
                .unwrap_or(Duration::MAX)
                .min(Duration::from_secs(86_400))
        }
    }

    /// Takes a token, or says how long until one is available.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        self.try_acquire_at(Instant::now())
    }

    fn try_acquire_at(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().expect("lock poisoned");
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let tokens = (tokens + elapsed * self.per_second).min(self.burst);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            Ok(())
        } else {
            *state = (tokens, now);
            // Capped at a day, so a tiny rate cannot overflow the conversion.
            let wait = Duration::try_from_secs_f64((1.0 - tokens) / self.per_second)
                .unwrap_or(Duration::MAX);
            Err(wait.min(Duration::from_secs(86_400)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let bucket = TokenBucket::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(bucket.try_acquire_at(t0).is_ok());
        }
        let wait = bucket.try_acquire_at(t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert!(
            bucket
                .try_acquire_at(t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            bucket
                .try_acquire_at(t0 + Duration::from_millis(500))
                .is_err()
        );
    }
}
