//! `Retry-After` (RFC 9110 section 10.2.3): how long a destination asks a sender to wait, as
//! delta-seconds (`120`) or an HTTP-date. Parsed against the `now` the host hands in, never a
//! clock of the plugin's own, so the same delivery always computes the same wait.
//!
//! The result is the destination's wish, uncapped: the host clamps it to its own bounds so a
//! receiver cannot stall a route for days.

use crate::time::parse_http_date;

/// The wait a `Retry-After` value asks for, in milliseconds from `now_unix_ms`. A date in the
/// past means "now" (0). `None` when the value is neither delta-seconds nor an HTTP-date, so
/// the caller falls back to its own schedule.
pub fn retry_after_ms(value: &str, now_unix_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still a (very long) delay: saturate, the host caps it.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(secs.saturating_mul(1000));
    }
    let date_ms = parse_http_date(value)?.saturating_mul(1000);
    let now_ms = i64::try_from(now_unix_ms).unwrap_or(i64::MAX);
    Some(u64::try_from(date_ms.saturating_sub(now_ms)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sun, 06 Nov 1994 08:49:37 GMT` in Unix milliseconds.
    const DATE_MS: u64 = 784_111_777_000;

    #[test]
    fn delta_seconds() {
        assert_eq!(retry_after_ms("120", 0), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", 5), Some(0));
        assert_eq!(retry_after_ms("99999999999999999999999", 0), Some(u64::MAX));
    }

    #[test]
    fn dates_are_relative_to_the_given_now() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(retry_after_ms(date, DATE_MS - 1_500), Some(1_500));
        assert_eq!(retry_after_ms(date, DATE_MS), Some(0));
        assert_eq!(retry_after_ms(date, DATE_MS + 60_000), Some(0));
        assert_eq!(
            retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", DATE_MS - 2_000),
            Some(2_000)
        );
        assert_eq!(
            retry_after_ms("Sun Nov  6 08:49:37 1994", DATE_MS - 3_000),
            Some(3_000)
        );
    }

    #[test]
    fn garbage_is_none() {
        for bad in ["", " ", "-5", "+5", "1.5", "5s", "soon", "Sun, 06 Nov 1994"] {
            assert_eq!(retry_after_ms(bad, DATE_MS), None, "{bad:?}");
        }
    }
}
