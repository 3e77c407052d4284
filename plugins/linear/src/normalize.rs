//! Linear webhook → normalized event: `linear.<resource>.<action>` (`linear.issue.create`,
//! `linear.issue_label.update`), the resource being the payload's `type` in snake case and
//! `data.id` the object concerned.

use crate::verify::DELIVERY;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `IssueLabel` → `issue_label`, `IssueSLA` → `issue_sla`, `OAuthApp` → `oauth_app`.
pub fn snake_case(native: &str) -> String {
    let mut out = String::with_capacity(native.len() + 4);
    let mut previous: Option<char> = None;
    for c in native.chars() {
        if c.is_ascii_uppercase()
            && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            out.push('_');
        }
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
        previous = Some(c);
    }
    out
}

/// Normalizes one Linear webhook (Linear never batches). The id is the `Linear-Delivery`
/// header, Linear's own delivery id (not signed); without it, `{type}:{action}:{data.id}:
/// {createdAt}`, all signed, which names one change of one object.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let native = body["type"]
        .as_str()
        .ok_or(NormalizeError::missing("type"))?;
    let action = body["action"].as_str();
    let resource = snake_case(native);
    let data = &body["data"];
    let object = data["id"].as_str();
    let id = match req.header_text(DELIVERY) {
        Some(delivery) => delivery.to_owned(),
        None => [Some(native), action, object, body["createdAt"].as_str()]
            .iter()
            .map(|part| part.unwrap_or(""))
            .collect::<Vec<_>>()
            .join(":"),
    };
    let event_type = match action {
        Some(action) => format!("linear.{resource}.{}", snake_case(action)),
        None => format!("linear.{resource}"),
    };
    let mut event = Event::new(id.as_str(), event_type)
        .meta("linear_type", native)
        .user(body["actor"]["id"].as_str());
    event = match object {
        Some(object) => event.entity(resource.as_str(), object),
        None => event.entity("linear", id.as_str()),
    };
    if let Some(time) = body["createdAt"].as_str() {
        event = event.occurred_at(time);
    }
    for (key, value) in [
        ("action", action),
        ("organization_id", body["organizationId"].as_str()),
        ("webhook_id", body["webhookId"].as_str()),
        ("team_id", data["teamId"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_in_snake_case() {
        assert_eq!(snake_case("Issue"), "issue");
        assert_eq!(snake_case("IssueLabel"), "issue_label");
        assert_eq!(snake_case("IssueSLA"), "issue_sla");
        assert_eq!(snake_case("OAuthApp"), "oauth_app");
        assert_eq!(snake_case("AgentSessionEvent"), "agent_session_event");
    }

    #[test]
    fn without_a_delivery_header_the_id_is_signed_content() {
        let body = r#"{"action":"update","type":"Issue","createdAt":"2024-05-01T10:00:00.000Z","data":{"id":"i1","teamId":"t1"},"actor":{"id":"u1"}}"#;
        let event = normalize(&Request::post(body)).unwrap();
        assert_eq!(
            event.platform_event_id,
            "Issue:update:i1:2024-05-01T10:00:00.000Z"
        );
        assert_eq!(event.event_type, "linear.issue.update");
        assert_eq!(event.user_id.as_deref(), Some("u1"));
        assert!(event.metadata.contains(&("team_id".into(), "t1".into())));
        let with = Request::post(body).with_header("Linear-Delivery", "d-1");
        assert_eq!(normalize(&with).unwrap().platform_event_id, "d-1");
    }

    #[test]
    fn special_payloads_without_action_or_object() {
        let revoked =
            r#"{"type":"OAuthApp","action":"revoked","organizationId":"o1","oauthClientId":"c1"}"#;
        let event =
            normalize(&Request::post(revoked).with_header("Linear-Delivery", "d-2")).unwrap();
        assert_eq!(event.event_type, "linear.oauth_app.revoked");
        assert_eq!(
            (event.entity_type.as_deref(), event.entity_id.as_deref()),
            (Some("linear"), Some("d-2"))
        );
        let untyped = normalize(&Request::post(r#"{"type":"Thing"}"#)).unwrap();
        assert_eq!(untyped.event_type, "linear.thing");
        assert!(normalize(&Request::post(r#"{"action":"create"}"#)).is_err());
    }
}
