//! PagerDuty v3 event → normalized event: `pagerduty.<event_type>` (`pagerduty.incident.
//! triggered`, `pagerduty.service.updated`, …), about `event.data` (an incident, incident note,
//! service, …). v3 payloads carry exactly one event; there are no amounts.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one PagerDuty webhook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let inner = &body["event"];
    let id = inner["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event.id"))?;
    let native = inner["event_type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event.event_type"))?;
    let event_type = format!("pagerduty.{}", native.to_ascii_lowercase());
    let data = &inner["data"];
    let mut event = Event::new(id, event_type.as_str()).meta("pagerduty_event", native);
    event = match (data["type"].as_str(), data["id"].as_str()) {
        (Some(kind), Some(oid)) => event.entity(kind, oid),
        _ => event.entity(native.split('.').next().unwrap_or("pagerduty"), id),
    };
    if let Some(time) = inner["occurred_at"]
        .as_str()
        .filter(|t| parse_rfc3339(t).is_some())
    {
        event = event.occurred_at(time);
    }
    // The agent is whoever caused the event: a user, or an integration/service reference.
    let agent = &inner["agent"];
    if agent["type"].as_str() == Some("user_reference") {
        event = event.user(agent["id"].as_str());
    }
    let facts = [
        ("resource_type", &inner["resource_type"]),
        ("incident_id", &data["incident"]["id"]),
        ("service_id", &data["service"]["id"]),
        ("status", &data["status"]),
        ("urgency", &data["urgency"]),
        ("priority", &data["priority"]["summary"]),
    ];
    for (key, value) in facts {
        if let Some(text) = value.as_str() {
            event = event.meta(key, text);
        }
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
    fn a_service_event_without_agent() {
        let e = normalize(&Request::post(
            r#"{"event":{"id":"5ac64822-4adc-4fda-ade0-410becf0de4f","event_type":"service.updated",
                "resource_type":"service","occurred_at":"2020-10-02T18:45:22.169Z","agent":null,
                "data":{"id":"PF9KMXH","type":"service","summary":"API Service"}}}"#,
        ))
        .unwrap();
        assert_eq!(e.event_type, "pagerduty.service.updated");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("service"), Some("PF9KMXH"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2020-10-02T18:45:22.169Z"));
        assert_eq!(e.user_id, None);
    }

    #[test]
    fn without_data_the_event_is_its_own_entity() {
        let e = normalize(&Request::post(
            r#"{"event":{"id":"01C","event_type":"pagey.ping","occurred_at":"yesterday"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("pagey"), Some("01C"))
        );
        assert_eq!(e.occurred_at, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("")).is_err());
        assert!(normalize(&Request::post(r#"{"messages":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event":{"id":"x"}}"#)).is_err());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(
            parse_rfc3339("2021-04-26T17:36:27.458Z"),
            Some(1_619_458_587)
        );
        assert_eq!(
            parse_rfc3339("2021-04-26T19:36:27+02:00"),
            Some(1_619_458_587)
        );
        assert_eq!(parse_rfc3339("2021-04-26 17:36:27Z"), None);
        assert_eq!(parse_rfc3339("2021-04-26T17:36:27"), None);
    }
}
