//! Mailgun webhook → normalized event. The body is `{"signature": {…}, "event-data": {…}}`;
//! the event is `event-data`: `event` (`delivered`, `failed`, `opened`…), its `id`, the
//! `recipient`, the message's `message-id` header and a fractional Unix `timestamp`.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one Mailgun webhook (one event per request). The id is `event-data.id`,
/// Mailgun's event id, the same on retries; it is *not* signed (Mailgun signs only the
/// timestamp and token), which the crate doc states.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let data = &body["event-data"];
    if !data.is_object() {
        return Err(NormalizeError::missing("event-data"));
    }
    let id = data["id"]
        .as_str()
        .ok_or(NormalizeError::missing("event-data.id"))?;
    let native = data["event"]
        .as_str()
        .ok_or(NormalizeError::missing("event-data.event"))?;
    let severity = data["severity"].as_str();
    // `failed` says in `severity` whether Mailgun gave up (permanent) or will retry.
    let event_type = match severity {
        Some(severity) if native == "failed" => {
            format!("mailgun.failed.{}", segment(severity))
        }
        _ => format!("mailgun.{}", segment(native)),
    };
    let mut event = Event::new(id, event_type)
        .meta("mailgun_event", native)
        .user(data["recipient"].as_str());
    event = match data["message"]["headers"]["message-id"].as_str() {
        Some(message) => event.entity("message", message),
        None => event.entity("mailgun", id),
    };
    if let Some(time) = data["timestamp"]
        .as_number()
        .and_then(|n| fractional_time(&n.to_string()))
    {
        event = event.occurred_at(time);
    }
    for (key, value) in [
        ("severity", severity),
        ("log_level", data["log-level"].as_str()),
        ("domain", data["domain"]["name"].as_str()),
        ("account_id", data["account"]["id"].as_str()),
        ("reason", data["reason"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// A fractional Unix timestamp as Mailgun writes it (`1770920771.845071`) in RFC 3339, keeping
/// its fraction: the digits of the number's decimal text (serde_json writes back the shortest
/// form that reads as the same double, which keeps microseconds at today's magnitudes).
pub fn fractional_time(text: &str) -> Option<String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let formatted = rfc3339_from_unix(parse_unix_secs(whole)?);
    let digits = fraction.get(..fraction.len().min(9)).unwrap_or_default();
    if digits.is_empty() {
        return Some(formatted);
    }
    let stem = formatted.strip_suffix('Z')?;
    Some(format!("{stem}.{digits}Z"))
}

/// A native name as a type segment: lower case, `[a-z0-9._-]`, anything else `_`.
fn segment(native: &str) -> String {
    native
        .trim()
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_timestamps_keep_their_fraction() {
        assert_eq!(
            fractional_time("1770920771.845071").as_deref(),
            Some("2026-02-12T18:26:11.845071Z")
        );
        assert_eq!(
            fractional_time("1770920771").as_deref(),
            Some("2026-02-12T18:26:11Z")
        );
        assert_eq!(fractional_time("1.5e9"), None);
    }

    #[test]
    fn a_permanent_failure_with_its_message_and_reason() {
        // Shaped as Mailgun's webhook-payloads page shows a `failed` event.
        let body = r#"{"signature":{"token":"t","timestamp":"1","signature":"00"},"event-data":{"id":"G9Bn5sl1TC6tAd1u6nmCIA","event":"failed","severity":"permanent","reason":"bounce","log-level":"error","timestamp":1521233195.375624,"recipient":"alice@example.com","message":{"headers":{"message-id":"20130503182626.18666.16540@example.com"}},"delivery-status":{"code":550,"message":"5.1.1 The email account that you tried to reach does not exist."},"domain":{"name":"example.com"}}}"#;
        let event = normalize(&Request::post(body)).unwrap();
        assert_eq!(event.event_type, "mailgun.failed.permanent");
        assert_eq!(event.platform_event_id, "G9Bn5sl1TC6tAd1u6nmCIA");
        assert_eq!(
            event.entity_id.as_deref(),
            Some("20130503182626.18666.16540@example.com")
        );
        assert_eq!(
            event.occurred_at.as_deref(),
            Some("2018-03-16T20:46:35.375624Z")
        );
        assert!(event.metadata.contains(&("reason".into(), "bounce".into())));
        assert!(
            event
                .metadata
                .contains(&("log_level".into(), "error".into()))
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post(r#"{"signature":{}}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event-data":{"event":"opened"}}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event-data":{"id":"x"}}"#)).is_err());
        let bare = normalize(&Request::post(
            r#"{"event-data":{"id":"x","event":"list_member_uploaded"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("mailgun"), Some("x"))
        );
    }
}
