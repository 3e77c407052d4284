//! Zendesk webhook → normalized event. An event-subscribed webhook's envelope gives the id,
//! type (`zen:event-type:ticket.status_changed` → `zendesk.ticket.status_changed`), subject
//! (`zen:ticket:5158` → ticket `5158`) and time; a trigger or automation webhook's body is the
//! admin's template, so only the invocation header identifies it.

use crate::verify::INVOCATION_ID;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The prefix of Zendesk's event types.
const EVENT_TYPE_PREFIX: &str = "zen:event-type:";

/// The type of a trigger or automation webhook, whose body names no event.
pub const TRIGGER_TYPE: &str = "zendesk.webhook";

/// `zen:event-type:ticket.created` → `zendesk.ticket.created`. Zendesk's events have no
/// platform-neutral names (its users are agents as well as customers).
pub fn event_type(native: &str) -> String {
    let name = native.strip_prefix(EVENT_TYPE_PREFIX).unwrap_or(native);
    format!("zendesk.{}", name.trim().to_ascii_lowercase())
}

/// Normalizes one Zendesk webhook (Zendesk never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Option<Value> = serde_json::from_slice(&req.body).ok();
    let envelope = body.as_ref().filter(|b| {
        b["type"]
            .as_str()
            .is_some_and(|t| t.starts_with(EVENT_TYPE_PREFIX))
    });
    let mut event = match envelope {
        Some(body) => subscribed(body)?,
        None => trigger(req)?,
    };
    for (header, name) in [
        ("x-zendesk-webhook-id", "webhook_id"),
        (INVOCATION_ID, "invocation_id"),
    ] {
        if let Some(value) = req.header_text(header) {
            event = event.meta(name, value);
        }
    }
    let account = envelope
        .and_then(|b| text(&b["account_id"]))
        .or_else(|| req.header_text("x-zendesk-account-id").map(str::to_owned));
    if let Some(account) = account {
        event = event.meta("account_id", account);
    }
    Ok(event)
}

/// An event-subscribed webhook: Zendesk's envelope.
fn subscribed(body: &Value) -> Result<Event, NormalizeError> {
    let id = body["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("id"))?;
    let native = body["type"].as_str().unwrap_or_default();
    let event_type = event_type(native);
    let detail = &body["detail"];
    let mut event = Event::new(id, event_type.as_str()).meta("zendesk_type", native);
    // `zen:ticket:5158` → (ticket, 5158).
    let subject = body["subject"]
        .as_str()
        .and_then(|s| s.strip_prefix("zen:"))
        .and_then(|s| s.split_once(':'))
        .filter(|(kind, oid)| !kind.is_empty() && !oid.is_empty());
    let first = event_type
        .strip_prefix("zendesk.")
        .and_then(|t| t.split('.').next())
        .unwrap_or("zendesk");
    event = match (subject, text(&detail["id"])) {
        (Some((kind, oid)), _) => event.entity(kind, oid),
        (None, Some(oid)) => event.entity(first, oid),
        (None, None) => event.entity("zendesk", id),
    };
    if let Some(at) = body["time"].as_str().filter(|s| !s.is_empty()) {
        event = event.occurred_at(at);
    }
    let user = if first == "user" {
        text(&detail["id"])
    } else {
        text(&detail["requester_id"])
    };
    event = event.user(user);
    if let Some(version) = body["zendesk_event_version"].as_str() {
        event = event.meta("zendesk_event_version", version);
    }
    Ok(event)
}

/// A trigger or automation webhook: the body is the admin's, the invocation id Zendesk's.
fn trigger(req: &Request) -> Result<Event, NormalizeError> {
    let id = req
        .header_text(INVOCATION_ID)
        .ok_or(NormalizeError::missing(
            "X-Zendesk-Webhook-Invocation-Id header (the body is no Zendesk event)",
        ))?;
    Ok(Event::new(id, TRIGGER_TYPE).entity("zendesk", id))
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

    #[test]
    fn type_mapping() {
        assert_eq!(
            event_type("zen:event-type:ticket.status_changed"),
            "zendesk.ticket.status_changed"
        );
        assert_eq!(
            event_type("zen:event-type:user.created"),
            "zendesk.user.created"
        );
    }

    #[test]
    fn a_user_event_names_its_user() {
        let body = r#"{"account_id":1,"detail":{"id":"35436","role":"end-user"},"id":"e1",
            "subject":"zen:user:35436","time":"2024-03-05T12:00:00Z","type":"zen:event-type:user.created"}"#;
        let e = normalize(&Request::post(body)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("user"), Some("35436"))
        );
        assert_eq!(e.user_id.as_deref(), Some("35436"));
        assert!(e.metadata.contains(&("account_id".into(), "1".into())));
    }

    #[test]
    fn a_trigger_webhook_is_identified_by_its_invocation() {
        let form = Request::post("ticket_id=5158&status=open")
            .with_header("X-Zendesk-Webhook-Invocation-Id", "8350205582921")
            .with_header("X-Zendesk-Webhook-Id", "01GXK2N8AJ8P3H3S0V5M9Q7B6C");
        let e = normalize(&form).unwrap();
        assert_eq!(e.platform_event_id, "8350205582921");
        assert_eq!(e.event_type, TRIGGER_TYPE);
        assert_eq!(e.entity_type.as_deref(), Some("zendesk"));
        // JSON without Zendesk's envelope is a template too.
        let json = Request::post(r#"{"ticket":"5158"}"#)
            .with_header("X-Zendesk-Webhook-Invocation-Id", "8350205582922");
        assert_eq!(normalize(&json).unwrap().event_type, TRIGGER_TYPE);
        assert!(normalize(&Request::post("ticket_id=5158")).is_err());
    }

    #[test]
    fn an_envelope_without_id_is_an_error() {
        let body = r#"{"type":"zen:event-type:ticket.created","subject":"zen:ticket:1"}"#;
        assert!(normalize(&Request::post(body)).is_err());
    }
}
