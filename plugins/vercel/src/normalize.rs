//! Vercel webhook → normalized event: `vercel.<type>`, the deployment, project, domain or
//! integration configuration in `payload`, the envelope's `createdAt` (Unix milliseconds) as
//! the time.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The dotted name of a legacy hyphenated event, where Vercel documents the two as the same
/// event; other names are kept as sent.
fn modern_name(native: &str) -> &str {
    match native {
        "deployment" => "deployment.created",
        "deployment-ready" => "deployment.ready",
        "deployment-error" => "deployment.error",
        "project-created" => "project.created",
        "project-removed" => "project.removed",
        "domain-created" => "domain.created",
        "integration-configuration-removed" => "integration-configuration.removed",
        other => other,
    }
}

/// `deployment.succeeded` → `vercel.deployment.succeeded`, legacy `deployment-ready` →
/// `vercel.deployment.ready`. Vercel's events have no platform-neutral names (its marketplace
/// invoices bill integrations' customers, not the receiver's).
pub fn event_type(native: &str) -> String {
    format!("vercel.{}", modern_name(native.trim()).to_ascii_lowercase())
}

/// Normalizes one Vercel webhook (Vercel never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("id"))?;
    let native = body["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("type"))?;
    let payload = &body["payload"];
    let mut event = Event::new(id, event_type(native)).meta("vercel_type", native);
    event = match entity(payload) {
        Some((kind, oid)) => event.entity(kind, oid),
        None => event.entity("vercel", id),
    };
    if let Some(ms) = body["createdAt"].as_i64() {
        event = event.occurred_at(rfc3339_from_unix_ms(ms));
    }
    event = event.user(text(&payload["user"]["id"]));
    let project = text(&payload["project"]["id"]).or_else(|| text(&payload["projectId"]));
    for (name, value) in [
        ("team_id", text(&payload["team"]["id"])),
        ("project_id", project),
        ("target", text(&payload["target"])),
        ("deployment_url", text(&payload["deployment"]["url"])),
        ("region", text(&body["region"])),
    ] {
        if let Some(value) = value {
            event = event.meta(name, value);
        }
    }
    Ok(event)
}

/// The object an event is about: the deployment, else the project, domain or integration
/// configuration the payload names.
fn entity(payload: &Value) -> Option<(&'static str, String)> {
    [
        ("deployment", &payload["deployment"]["id"]),
        ("project", &payload["project"]["id"]),
        ("domain", &payload["domain"]["name"]),
        ("integration_configuration", &payload["configuration"]["id"]),
    ]
    .into_iter()
    .find_map(|(kind, id)| text(id).map(|id| (kind, id)))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping_accepts_legacy_names() {
        assert_eq!(
            event_type("deployment.succeeded"),
            "vercel.deployment.succeeded"
        );
        assert_eq!(event_type("deployment"), "vercel.deployment.created");
        assert_eq!(event_type("deployment-ready"), "vercel.deployment.ready");
        assert_eq!(event_type("project-removed"), "vercel.project.removed");
        assert_eq!(
            event_type("deployment-prepared"),
            "vercel.deployment-prepared"
        );
        assert_eq!(
            event_type("integration-configuration.permission-upgraded"),
            "vercel.integration-configuration.permission-upgraded"
        );
    }

    #[test]
    fn entities() {
        let project = r#"{"id":"d1","type":"project.created","createdAt":1700000000123,
            "payload":{"project":{"id":"prj_1"},"team":{"id":null}}}"#;
        let e = normalize(&Request::post(project)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("project"), Some("prj_1"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2023-11-14T22:13:20.123Z"));
        let domain =
            r#"{"id":"d2","type":"domain.created","payload":{"domain":{"name":"example.com"}}}"#;
        let e = normalize(&Request::post(domain)).unwrap();
        assert_eq!(e.entity_id.as_deref(), Some("example.com"));
        let bare = normalize(&Request::post(
            r#"{"id":"d3","type":"attack.detected","payload":{}}"#,
        ))
        .unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("vercel"), Some("d3"))
        );
    }

    #[test]
    fn missing_id_or_type_is_an_error() {
        assert!(normalize(&Request::post(r#"{"type":"deployment.created"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"id":"d1"}"#)).is_err());
    }
}
