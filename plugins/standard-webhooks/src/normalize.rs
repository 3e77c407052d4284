//! Standard Webhooks payload → normalized event. The spec's payload is
//! `{"type": "user.created", "timestamp": "…", "data": {…}}`; its types are already dotted and
//! platform-neutral in form, so they are kept (lower-cased) rather than prefixed.

use crate::verify::headers_of;
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// Normalizes one message.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let names = headers_of(req);
    let id = req
        .header_text(names.id)
        .ok_or(NormalizeError::missing("webhook-id header"))?;
    let body: Value = req.json()?;
    let native = body["type"]
        .as_str()
        .or(body["event_type"].as_str())
        .ok_or(NormalizeError::missing("type"))?;
    let mut event = Event::new(id, native.to_ascii_lowercase());
    if let Some(at) = body["timestamp"].as_str() {
        event = event.occurred_at(at);
    } else if let Some(ts) = req.header_text(names.timestamp).and_then(parse_unix_secs) {
        event = event.occurred_at_unix(ts);
    }
    let data = &body["data"];
    if let Some(oid) = data["id"].as_str() {
        let kind = data["object"]
            .as_str()
            .or_else(|| native.split('.').next())
            .unwrap_or("object");
        event = event.entity(kind, oid);
    }
    event = event.user(data["user_id"].as_str().or(data["customer_id"].as_str()));
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_type_is_an_error() {
        let req = Request::post("{}").with_header("webhook-id", "m1");
        assert!(normalize(&req).is_err());
    }
}
