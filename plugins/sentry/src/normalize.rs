//! Sentry webhook → normalized event: `sentry.<resource>.<action>`, the resource's object
//! (issue, error, comment, alert, installation), the event's own time where the payload has one
//! (else Sentry's send time).

use crate::verify::{REQUEST_ID, RESOURCE, TIMESTAMP};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// How many hex digits of the body's SHA-256 go into the event id (128 bits).
const BODY_HASH_HEX_DIGITS: usize = 32;

/// `issue` + `resolved` → `sentry.issue.resolved`. Sentry's events have no platform-neutral
/// names.
pub fn event_type(resource: &str, action: Option<&str>) -> String {
    let resource = resource.trim().to_ascii_lowercase();
    match action {
        Some(action) => format!("sentry.{resource}.{}", action.to_ascii_lowercase()),
        None => format!("sentry.{resource}"),
    }
}

/// Normalizes one Sentry webhook (Sentry never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let resource = req
        .header_text(RESOURCE)
        .ok_or(NormalizeError::missing("Sentry-Hook-Resource header"))?;
    let body: Value = req.json()?;
    let action = body["action"].as_str().filter(|s| !s.is_empty());
    let event_type = event_type(resource, action);
    let digest = hex_encode(&sha256(&[&req.body]));
    let id = format!(
        "{}:{}",
        event_type.strip_prefix("sentry.").unwrap_or(&event_type),
        digest.get(..BODY_HASH_HEX_DIGITS).unwrap_or(&digest)
    );
    let data = &body["data"];
    let mut event = Event::new(id.as_str(), event_type.as_str()).meta("resource", resource);
    if let Some(action) = action {
        event = event.meta("action", action);
    }
    event = match entity(resource, &body) {
        Some((kind, oid)) => event.entity(kind, oid),
        None => event.entity("sentry", id),
    };
    if let Some(at) = occurred_at(resource, action, data) {
        event = event.occurred_at(at);
    } else if let Some(ts) = req.header_text(TIMESTAMP).and_then(parse_unix_secs) {
        event = event.occurred_at_unix(ts);
    }
    let actor = &body["actor"];
    if actor["type"] == "user" {
        event = event.user(text(&actor["id"]));
    }
    let issue = &data["issue"];
    let project = issue["project"]["slug"]
        .as_str()
        .or(data["event"]["project"].as_str());
    for (name, value) in [
        ("installation_uuid", body["installation"]["uuid"].as_str()),
        ("issue_short_id", issue["shortId"].as_str()),
        ("project", project),
    ] {
        if let Some(value) = value {
            event = event.meta(name, value);
        }
    }
    if let Some(request_id) = req.header_text(REQUEST_ID) {
        event = event.meta("request_id", request_id);
    }
    Ok(event)
}

/// The object an event is about, by resource.
fn entity(resource: &str, body: &Value) -> Option<(&'static str, String)> {
    let data = &body["data"];
    match resource {
        "issue" => text(&data["issue"]["id"]).map(|id| ("issue", id)),
        "error" => text(&data["error"]["event_id"]).map(|id| ("error", id)),
        "comment" => text(&data["comment_id"]).map(|id| ("comment", id)),
        "event_alert" => text(&data["event"]["event_id"]).map(|id| ("event", id)),
        "metric_alert" => text(&data["metric_alert"]["id"]).map(|id| ("metric_alert", id)),
        "installation" => text(&body["installation"]["uuid"]).map(|id| ("installation", id)),
        _ => None,
    }
}

/// The payload's own time: an error's or alerted event's `datetime`, a new issue's
/// `firstSeen`. Other changes (a resolution, an alert) carry no time of their own.
fn occurred_at(resource: &str, action: Option<&str>, data: &Value) -> Option<String> {
    match (resource, action) {
        ("error", _) => text(&data["error"]["datetime"]),
        ("event_alert", _) => text(&data["event"]["datetime"]),
        ("issue", Some("created")) => text(&data["issue"]["firstSeen"]),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook(resource: &str, body: &str) -> Request {
        Request::post(body)
            .with_header("Sentry-Hook-Resource", resource)
            .with_header("Sentry-Hook-Timestamp", "1566248317")
            .with_header("Request-ID", "9c1a3d2e4f5b4c6d8e7f0a1b2c3d4e5f")
    }

    #[test]
    fn type_mapping() {
        assert_eq!(
            event_type("issue", Some("resolved")),
            "sentry.issue.resolved"
        );
        assert_eq!(
            event_type("metric_alert", Some("critical")),
            "sentry.metric_alert.critical"
        );
        assert_eq!(event_type("seer", None), "sentry.seer");
    }

    #[test]
    fn the_id_survives_a_new_request_id_but_not_a_new_body() {
        let body = r#"{"action":"resolved","data":{"issue":{"id":"1"}}}"#;
        let a = normalize(&webhook("issue", body)).unwrap();
        let b = normalize(&webhook("issue", body).with_header("Request-ID", "other")).unwrap();
        assert_eq!(a.platform_event_id, b.platform_event_id);
        assert!(a.platform_event_id.starts_with("issue.resolved:"));
        let c = normalize(&webhook("issue", &body.replace("resolved", "unresolved"))).unwrap();
        assert_ne!(a.platform_event_id, c.platform_event_id);
    }

    #[test]
    fn entities_and_times_by_resource() {
        let error = r#"{"action":"created","data":{"error":{"event_id":"ec5bd3d9b4a24f7c8a3e5b5f9d0c6a21","datetime":"2019-08-19T20:58:37.391000Z"}}}"#;
        let e = normalize(&webhook("error", error)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("error"), Some("ec5bd3d9b4a24f7c8a3e5b5f9d0c6a21"))
        );
        assert_eq!(
            e.occurred_at.as_deref(),
            Some("2019-08-19T20:58:37.391000Z")
        );
        let comment = r#"{"action":"updated","data":{"comment_id":"45","issue_id":"1"},"actor":{"type":"user","id":12,"name":"A"}}"#;
        let e = normalize(&webhook("comment", comment)).unwrap();
        assert_eq!(e.entity_id.as_deref(), Some("45"));
        assert_eq!(e.user_id.as_deref(), Some("12"));
        // No time of its own: Sentry's send time.
        assert_eq!(e.occurred_at.as_deref(), Some("2019-08-19T20:58:37Z"));
        let alert = r#"{"action":"critical","data":{"metric_alert":{"id":"7"}}}"#;
        let e = normalize(&webhook("metric_alert", alert)).unwrap();
        assert_eq!(e.entity_type.as_deref(), Some("metric_alert"));
        let unknown = normalize(&webhook("size_analysis", r#"{"action":"completed"}"#)).unwrap();
        assert_eq!(unknown.entity_type.as_deref(), Some("sentry"));
        assert_eq!(
            unknown.entity_id.as_deref(),
            Some(unknown.platform_event_id.as_str())
        );
    }

    #[test]
    fn a_missing_resource_header_is_an_error() {
        assert!(normalize(&Request::post(r#"{"action":"created"}"#)).is_err());
        assert!(normalize(&webhook("issue", "not json")).is_err());
    }
}
