//! SendGrid Event Webhook batch → one normalized event per element. Each element is one email
//! event (`processed`, `delivered`, `bounce`, `open`, `click`…) with its own `sg_event_id`;
//! the message it concerns is `sg_message_id`, the recipient `email`.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes a SendGrid POST: an array of events (one object is taken as a batch of one).
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    match req.json::<Value>()? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(at, item)| event(item, at).map(|e| e.payload_json(item)))
            .collect(),
        item @ Value::Object(_) => Ok(vec![event(&item, 0)?.whole_body()]),
        _ => Err(NormalizeError::new(
            "the body must be a JSON array of events",
        )),
    }
}

/// One element. Its id is `sg_event_id`, unique per event and covered by the signature (the
/// whole body is signed).
fn event(item: &Value, at: usize) -> Result<Event, NormalizeError> {
    let missing = |field: &str| NormalizeError::missing(&format!("[{at}].{field}"));
    let id = item["sg_event_id"]
        .as_str()
        .ok_or_else(|| missing("sg_event_id"))?;
    let native = item["event"].as_str().ok_or_else(|| missing("event"))?;
    let mut event = Event::new(id, format!("sendgrid.{}", segment(native)))
        .meta("sendgrid_event", native)
        .user(item["email"].as_str());
    event = match item["sg_message_id"].as_str() {
        Some(message) => event.entity("message", message),
        None => event.entity("sendgrid", id),
    };
    if let Some(ts) = item["timestamp"].as_i64() {
        event = event.occurred_at_unix(ts);
    }
    // `bounce` events say in `type` whether the address bounced or the message was blocked.
    if let Some(kind) = item["type"].as_str() {
        event = event.meta("bounce_type", kind);
    }
    let category = match &item["category"] {
        Value::String(one) => Some(one.clone()),
        Value::Array(many) => Some(
            many.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    if let Some(category) = category.filter(|c| !c.is_empty()) {
        event = event.meta("category", category);
    }
    if let Some(group) = item["asm_group_id"].as_i64() {
        event = event.meta("asm_group_id", group.to_string());
    }
    Ok(event)
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
    fn a_batch_is_one_event_per_element_with_its_own_payload() {
        let body = "[{\"email\":\"a@example.com\",\"event\":\"open\",\"sg_event_id\":\"e1\",\"sg_message_id\":\"m1.filter\",\"timestamp\":1700000000,\"category\":[\"news\",\"weekly\"]},\r\n{\"email\":\"b@example.com\",\"event\":\"group_unsubscribe\",\"sg_event_id\":\"e2\",\"asm_group_id\":42,\"timestamp\":1700000001}]\r\n";
        let events = normalize(&Request::post(body)).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].event_type, "sendgrid.open");
        assert!(
            events[0]
                .metadata
                .contains(&("category".into(), "news,weekly".into()))
        );
        assert_eq!(events[1].platform_event_id, "e2");
        assert_eq!(events[1].event_type, "sendgrid.group_unsubscribe");
        assert_eq!(
            (
                events[1].entity_type.as_deref(),
                events[1].entity_id.as_deref()
            ),
            (Some("sendgrid"), Some("e2"))
        );
        assert!(
            events[1]
                .metadata
                .contains(&("asm_group_id".into(), "42".into()))
        );
        let hookgate_sdk::event::Payload::Json(second) = &events[1].payload else {
            panic!("batch elements carry their own payload");
        };
        assert!(second.contains("\"sg_event_id\":\"e2\""));
    }

    #[test]
    fn an_element_without_id_names_itself() {
        let body = r#"[{"event":"open","sg_event_id":"e1"},{"event":"click"}]"#;
        let error = normalize(&Request::post(body)).unwrap_err();
        assert!(error.0.contains("[1].sg_event_id"), "{error}");
        assert!(normalize(&Request::post("\"x\"")).is_err());
        assert!(normalize(&Request::post("[]")).unwrap().is_empty());
    }
}
