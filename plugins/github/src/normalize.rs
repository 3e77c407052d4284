//! GitHub delivery → normalized event: `github.<event>` or `github.<event>.<action>`.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json;
use serde::Deserialize;

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

/// The few fields normalization reads. Everything else is skipped while parsing (validated,
/// not built), so even a 25 MB push fits comfortably in the plugin's memory.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Delivery {
    action: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    after: Option<String>,
    pull_request: Option<Object>,
    issue: Option<Object>,
    release: Option<Object>,
    check_run: Option<Object>,
    workflow_run: Option<Object>,
    deployment: Option<Object>,
    comment: Option<Object>,
    repository: Option<Object>,
    sender: Option<Object>,
    installation: Option<Object>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    id: Option<Id>,
    full_name: Option<String>,
    login: Option<String>,
}

/// GitHub ids are numbers; a few objects (deployments in some payloads) use strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    fn text(&self) -> String {
        match self {
            Id::Number(n) => n.to_string(),
            Id::Text(s) => s.clone(),
        }
    }
}

fn id_of(object: &Option<Object>) -> Option<String> {
    object.as_ref()?.id.as_ref().map(Id::text)
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
    let json: &[u8] = form.as_deref().map_or(&req.body, str::as_bytes);
    let body: Delivery = serde_json::from_slice(json)
        .map_err(|e| NormalizeError::new(format!("payload is not a GitHub delivery: {e}")))?;
    let event_type = match &body.action {
        Some(a) => format!("github.{name}.{a}"),
        None => format!("github.{name}"),
    }
    .to_ascii_lowercase();
    let mut event = Event::new(id, event_type).meta("github_event", name);
    if let Some(text) = form {
        // The stored payload is the JSON GitHub sent inside the form, not the form encoding.
        event.payload = hookgate_sdk::event::Payload::Json(text);
    }
    if let Some(a) = &body.action {
        event = event.meta("action", a.as_str());
    }
    // The object the event is about: the first of these the payload carries.
    let candidates = [
        ("pull_request", &body.pull_request),
        ("issue", &body.issue),
        ("release", &body.release),
        ("check_run", &body.check_run),
        ("workflow_run", &body.workflow_run),
        ("deployment", &body.deployment),
        ("comment", &body.comment),
    ];
    if let Some((kind, oid)) = candidates
        .iter()
        .find_map(|(k, o)| id_of(o).map(|id| (*k, id)))
    {
        event = event.entity(kind, oid);
    } else if let Some(after) = &body.after {
        event = event.entity("commit", after.as_str());
    } else if let Some(rid) = id_of(&body.repository) {
        event = event.entity("repository", rid);
    }
    event = event.user(body.sender.as_ref().and_then(|s| s.login.clone()));
    if let Some(repo) = body
        .repository
        .as_ref()
        .and_then(|r| r.full_name.as_deref())
    {
        event = event.meta("repository", repo);
    }
    if let Some(r) = &body.git_ref {
        event = event.meta("ref", r.as_str());
    }
    if let Some(inst) = id_of(&body.installation) {
        event = event.meta("installation_id", inst);
    }
    if let Some(hook) = req.header_text("x-github-hook-id") {
        event = event.meta("hook_id", hook);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

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
