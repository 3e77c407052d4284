//! GitLab hook → normalized event: `gitlab.<object_kind>` with the action or status when the
//! payload has one (`gitlab.merge_request.open`, `gitlab.pipeline.failed`, `gitlab.push`), or
//! `gitlab.<event_name>` for system hooks (`gitlab.project_create`). With a custom webhook
//! template the body is the operator's own JSON: the kind then comes from `X-Gitlab-Event`
//! (`Push Hook` → `gitlab.push`).

use crate::verify::{EVENT, IDEMPOTENCY_KEY};
use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::HEADER_ID;
use serde_json::Value;

/// Whether the body names its event kind (`object_kind` or `event_name`), so that no
/// `X-Gitlab-Event` is needed.
pub fn names_its_kind(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|b| kind_of(&b).is_some())
}

fn kind_of(body: &Value) -> Option<&str> {
    body["object_kind"]
        .as_str()
        .or(body["event_name"].as_str())
        .filter(|k| !k.is_empty())
}

/// `Merge Request Hook` → `merge_request`; `System Hook` → `system`.
fn kind_from_header(header: &str) -> String {
    let name = header.trim();
    let name = name.strip_suffix(" Hook").unwrap_or(name);
    name.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// The event id: `webhook-id` (signed, when GitLab signs) or `Idempotency-Key` (the same
/// value), else the body's SHA-256.
fn event_id(req: &Request) -> String {
    match req
        .header_text(HEADER_ID)
        .or_else(|| req.header_text(IDEMPOTENCY_KEY))
    {
        Some(id) => id.to_owned(),
        None => format!("sha256:{}", hex_encode(&sha256(&[&req.body]))),
    }
}

/// Normalizes one GitLab hook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let header = req.header_text(EVENT);
    let kind = match (kind_of(&body), header) {
        (Some(kind), _) => kind.to_ascii_lowercase(),
        (None, Some(header)) => kind_from_header(header),
        (None, None) => {
            return Err(NormalizeError::missing(
                "object_kind (or the X-Gitlab-Event header)",
            ));
        }
    };
    let attributes = &body["object_attributes"];
    let action = action_of(&kind, &body);
    let event_type = match action {
        Some(action) => format!("gitlab.{kind}.{}", action.to_ascii_lowercase()),
        None => format!("gitlab.{kind}"),
    };
    let id = event_id(req);
    let mut event = Event::new(id.clone(), event_type).meta("object_kind", kind.as_str());
    if let Some(header) = header {
        event = event.meta("gitlab_event", header);
    }
    if let Some(action) = action {
        event = event.meta("action", action);
    }
    event = match entity_of(&kind, &body) {
        Some((entity_type, entity_id)) => event.entity(entity_type, entity_id),
        None => event.entity("gitlab", id),
    };
    event = event.user(
        body["user"]["username"]
            .as_str()
            .or(body["user_username"].as_str()),
    );
    if let Some(time) = [
        &attributes["updated_at"],
        &attributes["created_at"],
        &attributes["finished_at"],
        &body["build_finished_at"],
        &body["build_started_at"],
        &body["status_changed_at"],
        &body["created_at"],
    ]
    .into_iter()
    .filter_map(Value::as_str)
    .find_map(gitlab_time)
    {
        event = event.occurred_at(time);
    }
    let project = body["project"]["path_with_namespace"]
        .as_str()
        .or(body["path_with_namespace"].as_str());
    if let Some(iid) = attributes["iid"].as_u64() {
        // The number users see (`!12`, `#3`), per project.
        event = event.meta("iid", iid.to_string());
    }
    for (key, value) in [
        ("project", project),
        ("ref", body["ref"].as_str().or(attributes["ref"].as_str())),
        ("instance", req.header_text("x-gitlab-instance")),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// What happened to the object: the action of issues, merge requests, notes and wiki pages,
/// the status of pipelines, jobs and deployments, the action of releases.
fn action_of<'a>(kind: &str, body: &'a Value) -> Option<&'a str> {
    let attributes = &body["object_attributes"];
    let value = match kind {
        "pipeline" => attributes["status"].as_str(),
        "build" => body["build_status"].as_str(),
        "deployment" => body["status"].as_str(),
        _ => attributes["action"].as_str().or(body["action"].as_str()),
    };
    value.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// The object the event is about.
fn entity_of(kind: &str, body: &Value) -> Option<(&'static str, String)> {
    let text = |value: &Value| match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let own = match kind {
        "push" | "tag_push" => text(&body["after"]).map(|sha| ("commit", sha)),
        "build" => text(&body["build_id"]).map(|id| ("build", id)),
        "deployment" => text(&body["deployment_id"]).map(|id| ("deployment", id)),
        "release" => text(&body["id"]).map(|id| ("release", id)),
        "merge_request" => text(&body["object_attributes"]["id"]).map(|id| ("merge_request", id)),
        "issue" | "work_item" => text(&body["object_attributes"]["id"]).map(|id| ("issue", id)),
        "note" => text(&body["object_attributes"]["id"]).map(|id| ("note", id)),
        "pipeline" => text(&body["object_attributes"]["id"]).map(|id| ("pipeline", id)),
        "wiki_page" => text(&body["object_attributes"]["slug"]).map(|id| ("wiki_page", id)),
        _ => None,
    };
    own.or_else(|| text(&body["project"]["id"]).map(|id| ("project", id)))
        .or_else(|| text(&body["project_id"]).map(|id| ("project", id)))
}

/// A GitLab time as RFC 3339 (UTC, seconds). GitLab writes `2013-12-03T17:15:43Z`,
/// `2015-05-17 18:08:09 UTC` or `2019-03-01 12:00:00 +0100` depending on the hook.
pub fn gitlab_time(text: &str) -> Option<String> {
    let text = text.trim();
    let date = text.get(..10)?;
    let separator = text.get(10..11)?;
    let clock = text.get(11..19)?;
    if separator != "T" && separator != " " {
        return None;
    }
    let mut zone = text.get(19..)?;
    let mut fraction = "";
    if zone.starts_with('.') {
        let end = zone
            .get(1..)?
            .find(|c: char| !c.is_ascii_digit())
            .map_or(zone.len(), |i| i + 1);
        fraction = zone.get(..end)?;
        zone = zone.get(end..)?;
    }
    let zone = match zone.trim_start() {
        "UTC" | "Z" => "Z".to_owned(),
        offset if offset.len() == 5 && !offset.contains(':') => {
            format!("{}:{}", offset.get(..3)?, offset.get(3..)?)
        }
        offset => offset.to_owned(),
    };
    let rfc3339 = format!("{date}T{clock}{fraction}{zone}");
    parse_rfc3339(&rfc3339).map(rfc3339_from_unix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(body: &str) -> Event {
        normalize(&Request::post(body.to_owned()).with_header("Idempotency-Key", "k1")).unwrap()
    }

    #[test]
    fn gitlab_writes_times_three_ways() {
        assert_eq!(
            gitlab_time("2013-12-03T17:15:43Z").as_deref(),
            Some("2013-12-03T17:15:43Z")
        );
        assert_eq!(
            gitlab_time("2015-05-17 18:08:09 UTC").as_deref(),
            Some("2015-05-17T18:08:09Z")
        );
        assert_eq!(
            gitlab_time("2019-03-01 12:00:00 +0100").as_deref(),
            Some("2019-03-01T11:00:00Z")
        );
        assert_eq!(
            gitlab_time("2021-03-18T07:54:45.123+02:00").as_deref(),
            Some("2021-03-18T05:54:45Z")
        );
        for bad in [
            "",
            "2015-05-17",
            "2015-05-17 18:08:09",
            "2015-05-17 18:08:09 CET",
            "yesterday",
        ] {
            assert_eq!(gitlab_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn actions_and_statuses_name_the_type() {
        let e = hook(
            r#"{"object_kind":"pipeline","object_attributes":{"id":31,"ref":"main","status":"failed","created_at":"2016-08-12 15:23:28 UTC"},"project":{"id":1,"path_with_namespace":"mike/diaspora"}}"#,
        );
        assert_eq!(e.event_type, "gitlab.pipeline.failed");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("pipeline"), Some("31"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2016-08-12T15:23:28Z"));
        let job = hook(
            r#"{"object_kind":"build","build_id":1977,"build_status":"created","project_id":380}"#,
        );
        assert_eq!(job.event_type, "gitlab.build.created");
        assert_eq!(job.entity_id.as_deref(), Some("1977"));
        let note = hook(
            r#"{"object_kind":"note","object_attributes":{"id":1244,"noteable_type":"Commit"}}"#,
        );
        assert_eq!(note.event_type, "gitlab.note");
    }

    #[test]
    fn system_hooks_and_templates() {
        let e = hook(
            r#"{"event_name":"project_create","project_id":74,"path_with_namespace":"jsmith/storecloud","created_at":"2012-07-21T07:30:54Z"}"#,
        );
        assert_eq!(e.event_type, "gitlab.project_create");
        assert_eq!(e.entity_id.as_deref(), Some("74"));
        assert!(
            e.metadata
                .contains(&("project".into(), "jsmith/storecloud".into()))
        );
        // A custom template without object_kind: the header names the kind.
        let custom = normalize(
            &Request::post(r#"{"text":"pushed"}"#)
                .with_header("X-Gitlab-Event", "Merge Request Hook")
                .with_header("Idempotency-Key", "k2"),
        )
        .unwrap();
        assert_eq!(custom.event_type, "gitlab.merge_request");
        assert_eq!(
            (custom.entity_type.as_deref(), custom.entity_id.as_deref()),
            (Some("gitlab"), Some("k2"))
        );
        assert!(normalize(&Request::post(r#"{"text":"pushed"}"#)).is_err());
    }

    #[test]
    fn the_event_id_prefers_the_signed_copy_and_falls_back_to_the_body_hash() {
        let body = r#"{"object_kind":"push","after":"da15"}"#;
        let signed = Request::post(body)
            .with_header("Idempotency-Key", "k1")
            .with_header("webhook-id", "k1");
        assert_eq!(normalize(&signed).unwrap().platform_event_id, "k1");
        let old_gitlab =
            Request::post(body).with_header("X-Gitlab-Event-UUID", "shared-by-the-request");
        assert_eq!(
            normalize(&old_gitlab).unwrap().platform_event_id,
            format!("sha256:{}", hex_encode(&sha256(&[body.as_bytes()])))
        );
    }

    #[test]
    fn header_names_become_kinds() {
        assert_eq!(kind_from_header("Push Hook"), "push");
        assert_eq!(kind_from_header("Tag Push Hook"), "tag_push");
        assert_eq!(
            kind_from_header("Confidential Issue Hook"),
            "confidential_issue"
        );
        assert_eq!(kind_from_header("System Hook"), "system");
    }
}
