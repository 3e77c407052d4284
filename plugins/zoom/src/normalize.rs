//! Zoom event → normalized event, and the `endpoint.url_validation` challenge. A Zoom event is
//! `{"event": "meeting.started", "event_ts": <ms>, "payload": {"account_id", "object": {…}}}`.

use hookgate_sdk::prelude::*;
use serde_json::{Value, json};

/// The event Zoom sends to validate an endpoint (when it is saved, then every 72 hours).
pub const URL_VALIDATION: &str = "endpoint.url_validation";

/// The `plainToken` of a URL validation request, if this is one.
pub fn plain_token(req: &Request) -> Option<String> {
    let body: Value = serde_json::from_slice(&req.body).ok()?;
    (body["event"] == URL_VALIDATION)
        .then(|| body["payload"]["plainToken"].as_str().map(str::to_owned))?
}

/// The answer to a URL validation: the token, and its hex HMAC-SHA256 under the secret token.
pub fn url_validation_answer(plain_token: &str, secret: &[u8]) -> Response {
    let encrypted = hex_encode(&hmac(Hash::Sha256, secret, &[plain_token.as_bytes()]));
    let body = json!({ "plainToken": plain_token, "encryptedToken": encrypted });
    Response::ok("application/json", body.to_string())
}

/// A JSON id (meeting ids are numbers in some events, strings in others) as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Unix milliseconds as RFC 3339 with milliseconds.
fn rfc3339_ms(ms: i64) -> String {
    let text = rfc3339_from_unix(ms.div_euclid(1000));
    let stem = text.strip_suffix('Z').unwrap_or(&text);
    format!("{stem}.{:03}Z", ms.rem_euclid(1000))
}

/// Normalizes one Zoom event (Zoom never batches). Zoom gives events no id: the id is
/// `{event}:{event_ts}` and the object's `uuid` (else `id`), all signed, which a retry of the
/// same notification repeats.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let native = body["event"]
        .as_str()
        .ok_or(NormalizeError::missing("event"))?;
    let ts = body["event_ts"]
        .as_i64()
        .ok_or(NormalizeError::missing("event_ts"))?;
    let payload = &body["payload"];
    let object = &payload["object"];
    let object_id = text(&object["id"]);
    let mut id = format!("{native}:{ts}");
    if let Some(key) = text(&object["uuid"]).or_else(|| object_id.clone()) {
        id = format!("{id}:{key}");
    }
    let kind = native.split('.').next().unwrap_or(native);
    let mut event = Event::new(id.as_str(), format!("zoom.{native}"))
        .occurred_at(rfc3339_ms(ts))
        .meta("zoom_type", native);
    event = match &object_id {
        Some(oid) => event.entity(kind, oid.as_str()),
        None => event.entity(kind, id.as_str()),
    };
    let user = if kind == "user" {
        object_id.clone()
    } else {
        text(&object["host_id"]).or_else(|| text(&payload["operator_id"]))
    };
    event = event.user(user);
    for (key, value) in [
        ("account_id", text(&payload["account_id"])),
        ("object_uuid", text(&object["uuid"])),
        (
            "tracking_id",
            req.header_text("x-zm-trackingid").map(str::to_owned),
        ),
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
    fn url_validation_is_recognised_and_answered() {
        let req = Request::post(crate::verify::tests::BODY);
        assert_eq!(plain_token(&req).as_deref(), Some("qgg8vlvZRS6UYooatFL8Aw"));
        assert_eq!(
            plain_token(&Request::post(r#"{"event":"meeting.started"}"#)),
            None
        );
        let answer = url_validation_answer(
            "qgg8vlvZRS6UYooatFL8Aw",
            crate::verify::tests::SECRET.as_bytes(),
        );
        assert_eq!(answer.status, 200);
        // encryptedToken computed independently with Python's hmac.
        let body: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(
            body,
            json!({
                "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
                "encryptedToken": "fa52ecf98b4919aaa696f04cdc156ea40b1eba020707f76b8c9e455168295b87"
            })
        );
    }

    #[test]
    fn users_numeric_ids_and_missing_fields() {
        let user = r#"{"event":"user.created","event_ts":1700000000123,"payload":{"account_id":"A1","operator_id":"U0","object":{"id":"U9","email":"a@example.com"}}}"#;
        let event = normalize(&Request::post(user)).unwrap();
        assert_eq!(event.platform_event_id, "user.created:1700000000123:U9");
        assert_eq!(event.user_id.as_deref(), Some("U9"));
        assert_eq!(
            event.occurred_at.as_deref(),
            Some("2023-11-14T22:13:20.123Z")
        );
        let numeric = r#"{"event":"meeting.ended","event_ts":1,"payload":{"object":{"id":85012345678,"host_id":"H1"}}}"#;
        let event = normalize(&Request::post(numeric)).unwrap();
        assert_eq!(event.entity_id.as_deref(), Some("85012345678"));
        assert_eq!(event.user_id.as_deref(), Some("H1"));
        assert!(normalize(&Request::post(r#"{"event":"x.y"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event_ts":1}"#)).is_err());
        let bare = normalize(&Request::post(
            r#"{"event":"app.deauthorized","event_ts":5,"payload":{}}"#,
        ))
        .unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("app"), Some("app.deauthorized:5"))
        );
    }
}
