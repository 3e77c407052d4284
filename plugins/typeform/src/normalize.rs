//! Typeform webhook → normalized event: `typeform.<event_type>` (`typeform.form_response`),
//! about the response (`form_response.token`) within its form (`form_response.form_id`).
//!
//! Payment answers carry a decimal `amount` but no currency (that lives in the form's
//! settings), so no amount is set: a bare number without its currency is not money.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one Typeform delivery (Typeform sends one response per request).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["event_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event_id"))?;
    let native = body["event_type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event_type"))?;
    let response = &body["form_response"];
    let mut event = Event::new(id, format!("typeform.{}", native.to_ascii_lowercase()))
        .meta("typeform_event", native);
    event = match response["token"].as_str() {
        Some(token) => event.entity("form_response", token),
        None => event.entity("typeform", id),
    };
    let form_id = response["form_id"]
        .as_str()
        .or(response["definition"]["id"].as_str());
    if let Some(form_id) = form_id {
        event = event.meta("form_id", form_id);
    }
    // Submission time; a partial response has none yet, only when the form was opened.
    if let Some(time) = ["submitted_at", "landed_at"]
        .iter()
        .filter_map(|k| response[*k].as_str())
        .find(|t| parse_rfc3339(t).is_some())
    {
        event = event.occurred_at(time);
    }
    if let Some(ending) = response["ending"]["ref"].as_str() {
        event = event.meta("ending_ref", ending);
    }
    Ok(event)
}

/// Unix seconds of an RFC 3339 date-time (`2018-01-18T18:17:02Z`, `2021-04-26T17:36:27.458Z`,
/// `2011-12-12T14:27:31+02:00`); `None` for anything else. The SDK converts only the other way
/// (`rfc3339_from_unix`), so the few lines live here.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let digits = |from: usize, to: usize| -> Option<i64> {
        let s = text.get(from..to)?;
        s.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let at = |i: usize, allowed: &[u8]| text.as_bytes().get(i).is_some_and(|b| allowed.contains(b));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0, 4)?, digits(5, 7)?, digits(8, 10)?);
    let (hour, minute, second) = (digits(11, 13)?, digits(14, 16)?, digits(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = fraction.get(end..)?;
    }
    let offset = zone_offset_secs(rest)?;
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// `Z` or `±HH:MM`, in seconds east of UTC.
fn zone_offset_secs(zone: &str) -> Option<i64> {
    if zone == "Z" || zone == "z" {
        return Some(0);
    }
    let sign = match zone.get(..1)? {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let (hours, minutes) = zone.get(1..)?.split_once(':')?;
    if hours.len() != 2
        || minutes.len() != 2
        || !(hours.bytes().chain(minutes.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_response() {
        let e = normalize(&Request::post(
            r#"{"event_id":"01KBYWTTXW2SXX86TBH2SGNCCS","event_type":"form_response_partial",
                "form_response":{"form_id":"lT4Z3j","token":"t1","landed_at":"2018-01-18T18:07:02Z"}}"#,
        ))
        .unwrap();
        assert_eq!(e.platform_event_id, "01KBYWTTXW2SXX86TBH2SGNCCS");
        assert_eq!(e.event_type, "typeform.form_response_partial");
        assert_eq!(e.entity_id.as_deref(), Some("t1"));
        assert_eq!(e.occurred_at.as_deref(), Some("2018-01-18T18:07:02Z"));
    }

    #[test]
    fn without_a_response_token_the_event_is_its_own_entity() {
        let e = normalize(&Request::post(
            r#"{"event_id":"e1","event_type":"form_response"}"#,
        ))
        .unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("typeform"), Some("e1"))
        );
        assert_eq!(e.occurred_at, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("[]")).is_err());
        assert!(normalize(&Request::post(r#"{"event_type":"form_response"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event_id":"e1"}"#)).is_err());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2018-01-18T18:17:02Z"), Some(1_516_299_422));
        assert_eq!(
            parse_rfc3339("2018-01-18T19:17:02.5+01:00"),
            Some(1_516_299_422)
        );
        for bad in [
            "",
            "2018-01-18",
            "2018-01-18 18:17:02Z",
            "2018-13-18T18:17:02Z",
            "2018-02-30T18:17:02Z",
            "2018-01-18T18:17:02",
            "2018-01-18T18:17:02.Z",
            "2018-01-18T18:17:02+0100",
            "+018-01-18T18:17:02Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
