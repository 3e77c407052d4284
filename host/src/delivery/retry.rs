//! When a failed delivery runs again. The default schedule spans about 27 hours (the span
//! most platforms themselves retry for), each delay jittered by ±20% so a destination that
//! comes back is not hit by every queued job in the same second. A destination's own
//! `Retry-After` replaces the schedule's delay, within bounds.

use std::time::Duration;

/// Delays after the 1st, 2nd, ... failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
/// (27 h 35 min in all, 8 attempts).
pub const DEFAULT_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The longest wait a destination's `Retry-After` (or rate-limit reset) can impose; a longer
/// one is clamped, so a misconfigured header cannot park a job for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Jitter applied to scheduled delays, as a fraction either way.
const JITTER: f64 = 0.2;

/// The delay before the next attempt after `attempts_made` failed ones, or `None` when the
/// schedule is exhausted. `hint` is the destination's requested wait; `unit` is a uniform
/// random number in [0, 1) for the jitter.
pub fn next_delay(
    schedule: &[Duration],
    attempts_made: u32,
    hint: Option<Duration>,
    unit: f64,
) -> Option<Duration> {
    let index = usize::try_from(attempts_made).ok()?.checked_sub(1)?;
    let scheduled = *schedule.get(index)?;
    let jittered = scheduled.mul_f64(1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0));
    // A destination's hint can lengthen the wait but never shorten it below the schedule: a
    // short Retry-After must not burn through the whole schedule in seconds.
    Some(match hint {
        Some(hint) => hint.min(MAX_RETRY_AFTER).max(jittered),
        None => jittered,
    })
}

/// A cheap uniform number in [0, 1) for jitter (not for anything secret).
pub fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_about_27_hours() {
        let total: Duration = DEFAULT_SCHEDULE.iter().sum();
        assert_eq!(total.as_secs(), 27 * 3600 + 35 * 60 + 5);
    }

    #[test]
    fn delays_follow_the_schedule_with_bounded_jitter() {
        let schedule = [Duration::from_secs(10), Duration::from_secs(100)];
        assert_eq!(
            next_delay(&schedule, 1, None, 0.5),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            next_delay(&schedule, 1, None, 0.0),
            Some(Duration::from_secs(8))
        );
        assert_eq!(
            next_delay(&schedule, 2, None, 1.0),
            Some(Duration::from_secs(120))
        );
        assert_eq!(next_delay(&schedule, 3, None, 0.5), None, "exhausted");
        assert_eq!(next_delay(&schedule, 0, None, 0.5), None);
    }

    #[test]
    fn retry_after_replaces_the_delay_but_is_clamped() {
        let schedule = [Duration::from_secs(1); 3];
        assert_eq!(
            next_delay(&schedule, 1, Some(Duration::from_secs(30)), 0.5),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            next_delay(&schedule, 1, Some(Duration::from_secs(30 * 86_400)), 0.5),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            next_delay(&schedule, 3, Some(Duration::from_millis(10)), 0.5),
            Some(Duration::from_secs(1)),
            "a shorter hint does not shorten the schedule"
        );
        assert_eq!(
            next_delay(&schedule, 4, Some(Duration::from_secs(1)), 0.5),
            None
        );
    }

    #[test]
    fn jitter_units_are_in_range() {
        for _ in 0..1000 {
            let u = jitter_unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
