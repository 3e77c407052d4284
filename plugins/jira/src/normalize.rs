//! Jira webhook → normalized event: `jira.<webhookEvent>` (without Jira's `jira:` prefix), the
//! object named by the event (`comment_created` → the `comment`), the body's millisecond
//! `timestamp` as the time.

use crate::verify::IDENTIFIER;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `jira:issue_updated` → `jira.issue_updated`, `sprint_started` → `jira.sprint_started`.
/// Jira's events have no platform-neutral names.
pub fn event_type(webhook_event: &str) -> String {
    format!("jira.{}", native_name(webhook_event).replace(':', "."))
}

/// The event name without the `jira:` some events carry, in lower case.
fn native_name(webhook_event: &str) -> String {
    let name = webhook_event.trim();
    name.strip_prefix("jira:")
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// Normalizes one Jira webhook (Jira never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let id = req.header_text(IDENTIFIER).ok_or(NormalizeError::missing(
        "X-Atlassian-Webhook-Identifier header",
    ))?;
    let body: Value = req.json()?;
    let webhook_event = body["webhookEvent"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("webhookEvent"))?;
    let mut event = Event::new(id, event_type(webhook_event)).meta("webhook_event", webhook_event);
    event = match entity(&native_name(webhook_event), &body) {
        Some((kind, oid)) => event.entity(kind, oid),
        None => event.entity("jira", id),
    };
    if let Some(ms) = body["timestamp"].as_i64() {
        event = event.occurred_at(rfc3339_from_unix_ms(ms));
    }
    // Who acted: the event's user, else the author of the comment or worklog it is about.
    let actor = ["user", "comment", "worklog"].iter().find_map(|key| {
        let object = &body[key];
        object["accountId"]
            .as_str()
            .or(object["author"]["accountId"].as_str())
    });
    event = event.user(actor);
    let issue = &body["issue"];
    let project = issue["fields"]["project"]["key"]
        .as_str()
        .or(body["project"]["key"].as_str());
    for (name, value) in [
        (
            "issue_event_type_name",
            body["issue_event_type_name"].as_str(),
        ),
        ("issue_key", issue["key"].as_str()),
        ("project_key", project),
    ] {
        if let Some(value) = value {
            event = event.meta(name, value);
        }
    }
    for (header, name) in [
        ("x-atlassian-webhook-flow", "flow"),
        ("x-atlassian-webhook-retry", "retry"),
    ] {
        if let Some(value) = req.header_text(header) {
            event = event.meta(name, value);
        }
    }
    Ok(event)
}

/// The object an event is about: the body's object named by the event (`worklog_updated` →
/// `worklog`, `issuelink_created` → `issueLink`), else the first of the usual ones present.
fn entity(name: &str, body: &Value) -> Option<(String, String)> {
    let named = name.rsplit_once('_').map(|(kind, _)| kind);
    let object = body.as_object()?;
    named
        .into_iter()
        .chain([
            "comment", "worklog", "issue", "sprint", "version", "project", "board",
        ])
        .find_map(|kind| {
            let (key, value) = object
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(kind))?;
            let id = text(&value["id"]).or_else(|| text(&value["accountId"]))?;
            Some((key.to_ascii_lowercase(), id))
        })
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

    fn webhook(body: &str) -> Request {
        Request::post(body).with_header("X-Atlassian-Webhook-Identifier", "3241958718402")
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("jira:issue_created"), "jira.issue_created");
        assert_eq!(event_type("comment_deleted"), "jira.comment_deleted");
        assert_eq!(event_type("jira:version_released"), "jira.version_released");
    }

    #[test]
    fn the_entity_follows_the_event() {
        let body = r#"{"timestamp":1525698237764,"webhookEvent":"comment_created",
            "comment":{"id":"10500"},"issue":{"id":"10001","key":"TEST-1"}}"#;
        let e = normalize(&webhook(body)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("comment"), Some("10500"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2018-05-07T13:03:57.764Z"));
        let link = r#"{"webhookEvent":"issuelink_created","issueLink":{"id":10010}}"#;
        let e = normalize(&webhook(link)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("issuelink"), Some("10010"))
        );
        let user =
            r#"{"webhookEvent":"user_created","user":{"accountId":"5b10ac8d82e05b22cc7d4ef5"}}"#;
        let e = normalize(&webhook(user)).unwrap();
        assert_eq!(e.entity_id.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
        let bare = normalize(&webhook(r#"{"webhookEvent":"jira:something_new"}"#)).unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("jira"), Some("3241958718402"))
        );
    }

    #[test]
    fn milliseconds_are_kept() {
        assert_eq!(rfc3339_from_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_from_unix_ms(1_700_000_000_005),
            "2023-11-14T22:13:20.005Z"
        );
    }

    #[test]
    fn missing_identifier_or_event_is_an_error() {
        assert!(normalize(&Request::post(r#"{"webhookEvent":"x"}"#)).is_err());
        assert!(normalize(&webhook(r#"{"timestamp":1}"#)).is_err());
        assert!(normalize(&webhook("not json")).is_err());
    }
}
