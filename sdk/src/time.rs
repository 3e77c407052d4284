//! Time helpers without a clock: plugins get `now` from the host and only convert formats.

/// Parses a Unix timestamp in seconds (ASCII digits, optional leading `-`); `None` otherwise.
/// Fractional timestamps (`1531420618.123`) are truncated to the second.
pub fn parse_unix_secs(text: &str) -> Option<i64> {
    let text = text.trim();
    let int = text.split_once('.').map_or(text, |(i, f)| {
        if f.bytes().all(|b| b.is_ascii_digit()) {
            i
        } else {
            ""
        }
    });
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

/// Formats Unix seconds as RFC 3339 in UTC (`2017-04-21T11:36:17Z`). Uses the proleptic
/// Gregorian calendar (days-from-civil inverse), so it needs no date library inside wasm.
pub fn rfc3339_from_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Converts days since 1970-01-01 to (year, month, day); Howard Hinnant's civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_492_774_577), "2017-04-21T11:36:17Z");
        assert_eq!(rfc3339_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_unix(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_unix_seconds_strictly() {
        assert_eq!(parse_unix_secs("1531420618"), Some(1_531_420_618));
        assert_eq!(parse_unix_secs(" 1531420618.5 "), Some(1_531_420_618));
        assert_eq!(parse_unix_secs("-5"), Some(-5));
        for bad in ["", "abc", "12a", "1e9", "+5", "1.x", "9999999999999999999"] {
            assert_eq!(parse_unix_secs(bad), None, "{bad}");
        }
    }
}
