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

/// Formats Unix milliseconds as RFC 3339 in UTC with milliseconds (`2017-04-21T11:36:17.123Z`),
/// for platforms that time their events in milliseconds.
pub fn rfc3339_from_unix_ms(ms: i64) -> String {
    let seconds = rfc3339_from_unix(ms.div_euclid(1000));
    let base = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{base}.{:03}Z", ms.rem_euclid(1000))
}

/// Parses an HTTP-date (RFC 9110 section 5.6.7) into Unix seconds: the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and, because recipients must accept them, the obsolete
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms.
/// The weekday is checked for form only, not against the date. RFC 850 two-digit years are
/// read as 1970–2069, which needs no clock.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let (weekday, rest) = text.split_once([',', ' '])?;
    if weekday.len() < 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let (year, month, day, time) = if text.as_bytes()[weekday.len()] == b' ' {
        // asctime: `Sun Nov  6 08:49:37 1994`
        match fields[..] {
            [month, day, time, year] if year.len() == 4 && day.len() <= 2 => {
                (digits(year)?, month, day, time)
            }
            _ => return None,
        }
    } else {
        match fields[..] {
            // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
            [day, month, year, time, "GMT"] if year.len() == 4 && day.len() == 2 => {
                (digits(year)?, month, day, time)
            }
            // RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`
            [date, time, "GMT"] => {
                let mut parts = date.split('-');
                let (day, month, yy) = (parts.next()?, parts.next()?, parts.next()?);
                if parts.next().is_some() || yy.len() != 2 || day.len() != 2 {
                    return None;
                }
                let yy: i64 = digits(yy)?;
                (
                    if yy < 70 { 2000 + yy } else { 1900 + yy },
                    month,
                    day,
                    time,
                )
            }
            _ => return None,
        }
    };
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let day: u32 = digits(day).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s): (i64, i64, i64) = (digits(h)?, digits(m)?, digits(s)?);
    // 60 seconds allows a leap second, as RFC 9110 does.
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Unix seconds of an RFC 3339 date-time (`2018-01-18T18:17:02Z`, `2021-04-26T17:36:27.458Z`,
/// `2011-12-12T14:27:31+02:00`; a fraction is truncated, a leap second reads as the next
/// second); `None` for anything else. Platforms time their events this way; with
/// [`rfc3339_from_unix`] it normalizes a platform's offset into UTC.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let at = |i: usize, allowed: &[u8]| text.as_bytes().get(i).is_some_and(|b| allowed.contains(b));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let part = |from: usize, to: usize| text.get(from..to).and_then(digits::<u32>);
    let year = i64::from(part(0, 4)?);
    let (month, day) = (part(5, 7)?, part(8, 10)?);
    let (hour, minute, second) = (part(11, 13)?, part(14, 16)?, part(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut zone = text.get(19..)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        zone = fraction.get(end..)?;
    }
    let offset = zone_offset_secs(zone)?;
    Some(
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second)
            - offset,
    )
}

/// `Z` or `±HH:MM`, in seconds east of UTC.
fn zone_offset_secs(zone: &str) -> Option<i64> {
    if zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match zone.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let (hours, minutes) = zone.get(1..)?.split_once(':')?;
    let (hours, minutes): (i64, i64) = (digits(hours)?, digits(minutes)?);
    (hours < 24 && minutes < 60 && zone.len() == 6).then_some(sign * (hours * 3600 + minutes * 60))
}

/// The integer JavaScript's `parseInt(text, 10)` reads: optional leading whitespace and sign,
/// then the longest run of digits (`1700000000.5` and `1700000000abc` read 1700000000); `None`
/// when there is no digit. The Standard Webhooks libraries read their timestamp header so.
pub fn parse_int_prefix(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let count = rest.bytes().take_while(u8::is_ascii_digit).count();
    let value: i64 = rest.get(..count).filter(|d| !d.is_empty())?.parse().ok()?;
    Some(if negative { -value } else { value })
}

/// Parses ASCII digits only (no sign, no spaces), unlike `str::parse`, which accepts `+`.
fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Converts a proleptic Gregorian date to days since 1970-01-01; the inverse of
/// [`civil_from_days`], from the same Howard Hinnant algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
    fn rfc3339_reads_zones_fractions_and_refuses_the_rest() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2021-04-26T17:36:27.458Z"),
            Some(1_619_458_587)
        );
        assert_eq!(
            parse_rfc3339("2011-12-12T14:27:31+02:00"),
            parse_rfc3339("2011-12-12T12:27:31Z")
        );
        assert_eq!(
            parse_rfc3339("2011-12-12T10:27:31-02:00")
                .map(rfc3339_from_unix)
                .as_deref(),
            Some("2011-12-12T12:27:31Z")
        );
        for bad in [
            "",
            "2021-02-29T00:00:00Z",
            "2021-04-26T24:00:00Z",
            "2021-04-26T17:36:27",
            "2021-04-26T17:36:27.Z",
            "2021-04-26T17:36:27+2:00",
            "2021-04-26 17:36",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn milliseconds_keep_their_fraction() {
        assert_eq!(
            rfc3339_from_unix_ms(1_492_774_577_123),
            "2017-04-21T11:36:17.123Z"
        );
        assert_eq!(rfc3339_from_unix_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn int_prefix_reads_like_javascript_parse_int() {
        assert_eq!(parse_int_prefix("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_int_prefix(" +1700000000.75"), Some(1_700_000_000));
        assert_eq!(parse_int_prefix("-5abc"), Some(-5));
        assert_eq!(parse_int_prefix("abc"), None);
        assert_eq!(parse_int_prefix(""), None);
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix(1_492_774_577), "2017-04-21T11:36:17Z");
        assert_eq!(rfc3339_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_from_unix(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_the_three_http_date_forms() {
        // RFC 9110's example instant, in each form it lists.
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            " Sun, 06 Nov 1994 08:49:37 GMT ",
        ] {
            assert_eq!(parse_http_date(form), Some(784_111_777), "{form}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        assert_eq!(
            parse_http_date("Friday, 21-Apr-17 11:36:17 GMT"),
            Some(1_492_774_577)
        );
    }

    #[test]
    fn date_round_trips_through_both_conversions() {
        for days in [-719_468, -1, 0, 1, 10_957, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn rejects_malformed_http_dates() {
        for bad in [
            "",
            "5",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 6 Nov 94 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94",
            "1, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
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
