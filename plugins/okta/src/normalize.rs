//! Okta event hook delivery → normalized events: one per System Log event in `data.events[]`.
//!
//! The envelope (`eventType: com.okta.event_hook`, `eventId`, `eventTime`) describes the
//! delivery; each element of `data.events` is a `LogEvent` with its own `uuid` (Okta's
//! documented duplicate key), `eventType`, `published` time, `actor` and `target[]`.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The normalized type of an Okta event type. Okta's users are identities, not customers, so
/// no neutral type fits: `okta.<eventType>` (`okta.user.lifecycle.create`).
pub fn event_type(native: &str) -> String {
    format!("okta.{}", native.to_ascii_lowercase())
}

/// Normalizes one delivery into its events.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    let events = body["data"]["events"]
        .as_array()
        .ok_or(NormalizeError::missing("data.events"))?;
    if events.is_empty() {
        return Err(NormalizeError::new("data.events is empty"));
    }
    let delivery = body["eventId"].as_str();
    events.iter().map(|item| event(item, delivery)).collect()
}

/// One System Log event.
fn event(item: &Value, delivery: Option<&str>) -> Result<Event, NormalizeError> {
    let id = item["uuid"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("data.events[].uuid"))?;
    let native = item["eventType"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("data.events[].eventType"))?;
    let mut event = Event::new(id, event_type(native))
        .meta("okta_type", native)
        .payload_json(item);
    if let Some(published) = item["published"].as_str() {
        event = event.occurred_at(published);
    }
    let targets: Vec<(&str, &str)> = item["target"]
        .as_array()
        .map(|targets| targets.iter().filter_map(object).collect())
        .unwrap_or_default();
    let actor = object(&item["actor"]);
    // The event is about its first target (the user deactivated, the app assigned); events
    // without one (a sign-in) are about their actor.
    event = match targets.first().copied().or(actor) {
        Some((kind, oid)) => event.entity(snake_case(kind), oid),
        None => event.entity("okta", id),
    };
    // The user concerned: a target user, else the acting user (not an admin's client app).
    let user = targets
        .iter()
        .chain(actor.iter())
        .find(|(kind, _)| kind.eq_ignore_ascii_case("user"))
        .map(|(_, oid)| *oid);
    event = event.user(user);
    let facts = [
        ("outcome", item["outcome"]["result"].as_str()),
        ("severity", item["severity"].as_str()),
        ("actor_id", actor.map(|(_, oid)| oid)),
        ("transaction_id", item["transaction"]["id"].as_str()),
        ("legacy_event_type", item["legacyEventType"].as_str()),
        ("delivery_id", delivery),
    ];
    for (key, value) in facts {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// `(type, id)` of an actor or target object.
fn object(value: &Value) -> Option<(&str, &str)> {
    let kind = value["type"].as_str().filter(|s| !s.is_empty())?;
    let oid = value["id"].as_str().filter(|s| !s.is_empty())?;
    Some((kind, oid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(events: &str) -> Request {
        Request::post(format!(
            r#"{{"eventType":"com.okta.event_hook","eventId":"d1","data":{{"events":{events}}}}}"#
        ))
    }

    #[test]
    fn a_batch_is_split_into_its_events() {
        let req = delivery(
            r#"[{"uuid":"u1","eventType":"user.session.start","actor":{"id":"00u1","type":"User"}},
                {"uuid":"u2","eventType":"user.lifecycle.deactivate","actor":{"id":"00uA","type":"User"},
                 "target":[{"id":"00u2","type":"User"}]}]"#,
        );
        let events = normalize(&req).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].platform_event_id, "u1");
        assert_eq!(events[0].event_type, "okta.user.session.start");
        assert_eq!(events[0].entity_id.as_deref(), Some("00u1"));
        assert_eq!(events[1].platform_event_id, "u2");
        assert_eq!(events[1].entity_id.as_deref(), Some("00u2"));
        assert_eq!(events[1].user_id.as_deref(), Some("00u2"));
        // Each event's payload is its own LogEvent, not the delivery.
        let hookgate_sdk::event::Payload::Json(payload) = &events[1].payload else {
            panic!("a batch element's payload is its own JSON");
        };
        assert!(payload.contains(r#""uuid":"u2""#) && !payload.contains("u1"));
    }

    #[test]
    fn an_event_without_actor_or_target_is_about_itself() {
        let events = normalize(&delivery(r#"[{"uuid":"u1","eventType":"system.x"}]"#)).unwrap();
        assert_eq!(
            (
                events[0].entity_type.as_deref(),
                events[0].entity_id.as_deref()
            ),
            (Some("okta"), Some("u1"))
        );
    }

    #[test]
    fn object_types_become_snake_case() {
        assert_eq!(snake_case("AppInstance"), "app_instance");
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("PolicyRule"), "policy_rule");
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"data":{}}"#)).is_err());
        assert!(normalize(&delivery("[]")).is_err());
        assert!(normalize(&delivery(r#"[{"eventType":"user.session.start"}]"#)).is_err());
        assert!(normalize(&delivery(r#"[{"uuid":"u1"}]"#)).is_err());
    }
}
