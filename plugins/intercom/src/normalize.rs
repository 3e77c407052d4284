//! Intercom notification → normalized event. The topic names the event (`conversation.user.
//! created`, `contact.lead.created`, …); the object is `data.item` (its `type` and `id`).
//! Intercom users (contacts with the `user` role) are the workspace's customers, so their
//! creation, update and deletion map to the neutral `customer.*` types; leads and everything
//! else keep `intercom.<topic>`.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Maps an Intercom topic to hookgate's neutral type where one exists.
pub fn event_type(topic: &str) -> String {
    let neutral = match topic {
        "user.created" | "contact.user.created" => "customer.created",
        "contact.user.updated" => "customer.updated",
        "user.deleted" => "customer.deleted",
        _ => return format!("intercom.{}", topic.to_ascii_lowercase()),
    };
    neutral.to_owned()
}

/// Normalizes one Intercom notification (Intercom sends one per request).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("id"))?;
    let topic = body["topic"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("topic"))?;
    let event_type = event_type(topic);
    let item = &body["data"]["item"];
    let mut event = Event::new(id, event_type.as_str()).meta("topic", topic);
    // Some topics' items omit `type`; the topic's first segment names the object then.
    let kind = item["type"]
        .as_str()
        .or_else(|| topic.split('.').next())
        .unwrap_or("intercom");
    event = match text(&item["id"]) {
        Some(item_id) => event.entity(kind, item_id),
        None => event.entity(event_type.split('.').next().unwrap_or("intercom"), id),
    };
    event = event.user(user_of(item, kind));
    if let Some(created) = body["created_at"].as_i64() {
        event = event.occurred_at_unix(created);
    }
    if let Some(app) = body["app_id"].as_str() {
        event = event.meta("app_id", app);
    }
    Ok(event)
}

/// The person concerned, by the workspace's own id for them (`external_id`, legacy `user_id`)
/// when it has one, else Intercom's: the contact itself, or the one a conversation is with.
fn user_of(item: &Value, kind: &str) -> Option<String> {
    let person = match kind {
        "user" | "contact" | "lead" => item,
        "conversation" => {
            let first_contact = &item["contacts"]["contacts"][0];
            if first_contact.is_object() {
                first_contact
            } else {
                &item["user"]
            }
        }
        _ => return None,
    };
    text(&person["external_id"])
        .or_else(|| text(&person["user_id"]))
        .or_else(|| text(&person["id"]))
}

/// A non-empty string, or a number as text (Intercom ids are strings; some legacy ones are
/// numbers).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("contact.user.created"), "customer.created");
        assert_eq!(event_type("user.created"), "customer.created");
        assert_eq!(event_type("contact.user.updated"), "customer.updated");
        assert_eq!(event_type("user.deleted"), "customer.deleted");
        assert_eq!(
            event_type("contact.lead.created"),
            "intercom.contact.lead.created"
        );
        assert_eq!(
            event_type("conversation.admin.replied"),
            "intercom.conversation.admin.replied"
        );
        assert_eq!(event_type("ping"), "intercom.ping");
    }

    #[test]
    fn an_item_without_type_is_named_by_its_topic() {
        let e = normalize(&Request::post(
            r#"{"id":"notif_1","topic":"contact.lead.created","data":{"item":{"id":"6a1b"}}}"#,
        ))
        .unwrap();
        assert_eq!(e.entity_type.as_deref(), Some("contact"));
        assert_eq!(e.entity_id.as_deref(), Some("6a1b"));
        assert_eq!(e.user_id.as_deref(), Some("6a1b"));
    }

    #[test]
    fn a_ping_without_item_is_its_own_entity() {
        let e = normalize(&Request::post(
            r#"{"type":"notification_event","id":"notif_2","topic":"ping","data":{"item":{"type":"ping","message":"hi"}}}"#,
        ))
        .unwrap();
        assert_eq!(e.event_type, "intercom.ping");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("intercom"), Some("notif_2"))
        );
    }

    #[test]
    fn a_legacy_conversation_names_its_user() {
        let e = normalize(&Request::post(
            r#"{"id":"notif_3","topic":"conversation.user.replied","created_at":1392731331,
                "data":{"item":{"type":"conversation","id":"147",
                "user":{"type":"user","id":"5310d8e8598c9a0b24000005","user_id":"25"}}}}"#,
        ))
        .unwrap();
        assert_eq!(e.user_id.as_deref(), Some("25"));
        assert_eq!(e.occurred_at.as_deref(), Some("2014-02-18T13:48:51Z"));
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"topic":"user.created"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"id":"notif_1"}"#)).is_err());
    }
}
