//! Time as stored: instants are Unix milliseconds (UTC) in the store and RFC 3339 in the
//! event schema.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A duration in whole milliseconds, to add to a stored instant (saturating: a duration too
/// long for an `i64` of milliseconds is as good as forever).
pub fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 (UTC, milliseconds) of Unix milliseconds.
pub fn rfc3339_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(f).unwrap_or_default()
}

/// Validates a plugin's RFC 3339 time and converts it to UTC; `None` when unparsable.
pub fn normalize_rfc3339(text: &str) -> Option<String> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_normalized_to_utc() {
        assert_eq!(
            normalize_rfc3339("2023-03-29T14:00:27-04:00").as_deref(),
            Some("2023-03-29T18:00:27Z")
        );
        assert_eq!(normalize_rfc3339("yesterday"), None);
        assert_eq!(rfc3339_ms(1_492_774_577_123), "2017-04-21T11:36:17.123Z");
    }
}
