//! Resend event → normalized event. One event per POST:
//! `{"type": "email.bounced", "created_at": "…", "data": {…}}`. The body has no id: the event
//! is identified by its signed `svix-id` header.

use crate::verify::headers_of;
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The normalized type of a Resend type: its events are about emails, contacts, domains and
/// suppressions, none of which has a neutral name, so `resend.<type>`.
pub fn event_type(native: &str) -> String {
    format!("resend.{}", native.to_ascii_lowercase())
}

/// Normalizes one Resend event.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let names = headers_of(req);
    let id = req
        .header_text(names.id)
        .ok_or(NormalizeError::missing("svix-id header"))?;
    let body: Value = req.json()?;
    let native = body["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("type"))?;
    let event_type = event_type(native);
    let mut event = Event::new(id, &event_type).meta("resend_type", native);
    if let Some(at) = body["created_at"].as_str() {
        event = event.occurred_at(at);
    }
    let data = &body["data"];
    let kind = native.split('.').next().unwrap_or(native);
    // Email events name the email in `email_id`; contacts, domains and suppressions in `id`.
    let entity = if kind == "email" {
        data["email_id"].as_str().or(data["id"].as_str())
    } else {
        data["id"].as_str()
    };
    event = match entity.filter(|s| !s.is_empty()) {
        Some(oid) => event.entity(kind, oid),
        None => event.entity("resend", id),
    };
    let facts = [
        ("broadcast_id", data["broadcast_id"].as_str()),
        ("template_id", data["template_id"].as_str()),
        ("audience_id", data["audience_id"].as_str()),
        ("bounce_type", data["bounce"]["type"].as_str()),
        ("bounce_subtype", data["bounce"]["subType"].as_str()),
    ];
    for (key, value) in facts {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Request {
        Request::post(body)
            .with_header("svix-id", "msg_1")
            .with_header("svix-timestamp", "1")
            .with_header("svix-signature", "v1,x")
    }

    #[test]
    fn entities_by_kind() {
        let email = normalize(&req(
            r#"{"type":"email.delivered","data":{"email_id":"e1","created_at":"2025-01-01T00:00:00Z"}}"#,
        ))
        .unwrap();
        assert_eq!(email.event_type, "resend.email.delivered");
        assert_eq!(
            (email.entity_type.as_deref(), email.entity_id.as_deref()),
            (Some("email"), Some("e1"))
        );
        let contact = normalize(&req(
            r#"{"type":"contact.created","data":{"id":"c1","audience_id":"a1"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (contact.entity_type.as_deref(), contact.entity_id.as_deref()),
            (Some("contact"), Some("c1"))
        );
        let bare = normalize(&req(r#"{"type":"domain.updated","data":{}}"#)).unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("resend"), Some("msg_1"))
        );
    }

    #[test]
    fn the_id_is_the_svix_id_or_its_fallback() {
        let fallback = Request::post(r#"{"type":"email.sent","data":{}}"#)
            .with_header("webhook-id", "msg_2")
            .with_header("webhook-timestamp", "1")
            .with_header("webhook-signature", "v1,x");
        assert_eq!(normalize(&fallback).unwrap().platform_event_id, "msg_2");
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post(r#"{"type":"email.sent"}"#)).is_err());
        assert!(normalize(&req("not json")).is_err());
        assert!(normalize(&req(r#"{"data":{}}"#)).is_err());
    }
}
