//! A verified request to one event: its id from the configured header or body field (else the
//! body's SHA-256), its type `<type_prefix>.<type field>`; the entity is the event itself, as
//! the contract says for payloads that name none.

use crate::settings::{IdFrom, Scheme};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The type given when the body names none.
const UNTYPED: &str = "event";

/// Normalizes a verified request.
pub fn normalize(scheme: &Scheme, request: &Request) -> Result<Event, NormalizeError> {
    let body: Option<Value> = serde_json::from_slice(&request.body).ok();
    let id = match scheme.id {
        IdFrom::Header(name) => request
            .header_text(name)
            .ok_or_else(|| NormalizeError::new(format!("header {name} is missing")))?
            .to_owned(),
        IdFrom::Field(path) => body
            .as_ref()
            .and_then(|b| text_at(b, path))
            .unwrap_or_else(|| format!("sha256:{}", hex_encode(&sha256(&[&request.body])))),
    };
    let native = body.as_ref().and_then(|b| text_at(b, scheme.type_field));
    let event_type = format!(
        "{}.{}",
        scheme.type_prefix,
        native
            .as_deref()
            .map_or_else(|| UNTYPED.to_owned(), type_segment)
    );
    let mut event = Event::new(id.clone(), event_type).entity(scheme.type_prefix, id);
    if let Some(native) = native {
        event = event.meta("native_type", native);
    }
    Ok(event.whole_body())
}

/// A string or number at a dotted path of a JSON document.
fn text_at(document: &Value, path: &str) -> Option<String> {
    let value = path
        .split('.')
        .try_fold(document, |value, key| value.get(key))?;
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A sender's type as a dotted, lower-case type segment (`Invoice Paid` → `invoice_paid`).
fn type_segment(native: &str) -> String {
    native
        .trim()
        .chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' => {
                c.to_ascii_lowercase()
            }
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scheme_with(extra: Value) -> Settings {
        let mut settings = json!({ "header": "X-Sig" });
        settings
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Settings::from_json(settings)
    }

    fn event(extra: Value, request: &Request) -> Event {
        let settings = scheme_with(extra);
        normalize(&Scheme::parse(&settings).unwrap(), request).unwrap()
    }

    #[test]
    fn id_and_type_come_from_the_configured_fields() {
        let request = Request::post(r#"{"data":{"uid":42},"event":{"kind":"Order Created"}}"#);
        let e = event(
            json!({ "id_field": "data.uid", "type_field": "event.kind", "type_prefix": "shop" }),
            &request,
        );
        assert_eq!(e.platform_event_id, "42");
        assert_eq!(e.event_type, "shop.order_created");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("shop"), Some("42"))
        );
    }

    #[test]
    fn without_an_id_the_body_hash_identifies_the_event() {
        let request = Request::post("plain text, not JSON");
        let e = event(json!({}), &request);
        assert_eq!(
            e.platform_event_id,
            format!("sha256:{}", hex_encode(&sha256(&[&request.body])))
        );
        assert_eq!(e.event_type, "webhook.event");
    }

    #[test]
    fn an_id_header_is_required_when_configured() {
        let settings = scheme_with(json!({ "id_header": "X-Delivery" }));
        let scheme = Scheme::parse(&settings).unwrap();
        assert!(normalize(&scheme, &Request::post("{}")).is_err());
        let e = normalize(
            &scheme,
            &Request::post("{}").with_header("X-Delivery", "d-1"),
        )
        .unwrap();
        assert_eq!(e.platform_event_id, "d-1");
    }
}
