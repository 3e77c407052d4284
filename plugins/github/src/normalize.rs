//! GitHub delivery → normalized event: `github.<event>` or `github.<event>.<action>`.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The payload's JSON text when sent as `payload=` form data (a GitHub content-type option);
/// `None` for JSON bodies.
fn form_payload(req: &Request) -> Result<Option<String>, NormalizeError> {
    let form = req
        .header_text("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok(None);
    }
    form_value(&req.body, "payload")
        .map(Some)
        .ok_or(NormalizeError::missing("payload"))
}

/// Normalizes one GitHub delivery.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let id = req
        .header_text("x-github-delivery")
        .ok_or(NormalizeError::missing("X-GitHub-Delivery header"))?;
    let name = req
        .header_text("x-github-event")
        .ok_or(NormalizeError::missing("X-GitHub-Event header"))?;
    let form = form_payload(req)?;
    let body: Value = match &form {
        Some(text) => hookgate_sdk::serde_json::from_str(text)
            .map_err(|e| NormalizeError::new(format!("payload is not valid JSON: {e}")))?,
        None => req.json()?,
    };
    let action = body["action"].as_str();
    let event_type = match action {
        Some(a) => format!("github.{name}.{a}"),
        None => format!("github.{name}"),
    }
    .to_ascii_lowercase();
    let mut event = Event::new(id, event_type).meta("github_event", name);
    if let Some(text) = form {
        // The stored payload is the JSON GitHub sent inside the form, not the form encoding.
        event.payload = hookgate_sdk::event::Payload::Json(text);
    }
    if let Some(a) = action {
        event = event.meta("action", a);
    }
    // The object the event is about: the first of these the payload carries.
    for kind in [
        "pull_request",
        "issue",
        "release",
        "check_run",
        "workflow_run",
        "deployment",
        "comment",
    ] {
        if let Some(oid) = id_of(&body[kind]) {
            event = event.entity(kind, oid);
            break;
        }
    }
    if event.entity_id.is_none() {
        if let Some(after) = body["after"].as_str() {
            event = event.entity("commit", after);
        } else if let Some(rid) = id_of(&body["repository"]) {
            event = event.entity("repository", rid);
        }
    }
    event = event.user(body["sender"]["login"].as_str());
    if let Some(repo) = body["repository"]["full_name"].as_str() {
        event = event.meta("repository", repo);
    }
    if let Some(r) = body["ref"].as_str() {
        event = event.meta("ref", r);
    }
    if let Some(inst) = body["installation"]["id"].as_i64() {
        event = event.meta("installation_id", inst.to_string());
    }
    if let Some(hook) = req.header_text("x-github-hook-id") {
        event = event.meta("hook_id", hook);
    }
    Ok(event)
}

fn id_of(v: &Value) -> Option<String> {
    match &v["id"] {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::event::assert_golden;
    use std::path::Path;

    fn fixture(name: &str, event: &str) -> Request {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        Request::post(std::fs::read(dir.join(name)).unwrap())
            .with_header("X-GitHub-Event", event)
            .with_header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            .with_header("content-type", "application/json")
    }

    #[test]
    fn pull_request_opened_golden() {
        let event = normalize(&fixture("pull_request.opened.json", "pull_request")).unwrap();
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pull_request.opened.golden.json");
        assert_golden(&[event], &golden);
    }

    #[test]
    fn form_encoded_payload() {
        let req = Request::post("payload=%7B%22zen%22%3A%22Keep+it+logically+awesome.%22%7D")
            .with_header("X-GitHub-Event", "ping")
            .with_header("X-GitHub-Delivery", "d1")
            .with_header("content-type", "application/x-www-form-urlencoded");
        let event = normalize(&req).unwrap();
        assert_eq!(event.event_type, "github.ping");
        assert_eq!(event.platform_event_id, "d1");
        assert_eq!(
            event.payload,
            hookgate_sdk::event::Payload::Json(r#"{"zen":"Keep it logically awesome."}"#.into())
        );
    }

    #[test]
    fn missing_headers_are_errors() {
        let no_id = Request::post("{}").with_header("X-GitHub-Event", "push");
        assert!(normalize(&no_id).is_err());
        let no_event = Request::post("{}").with_header("X-GitHub-Delivery", "d");
        assert!(normalize(&no_event).is_err());
    }
}
