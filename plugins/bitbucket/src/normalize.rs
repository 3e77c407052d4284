//! Bitbucket delivery → normalized event: `bitbucket.<category>.<action>` from `X-Event-Key`,
//! the object from the payload. Pull requests and issues are numbered per repository, so their
//! entity id is `{workspace}/{repo}#{number}`.

use crate::verify::{EVENT_KEY, REQUEST_UUID};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `pullrequest:comment_created` → `bitbucket.pullrequest.comment_created`. Bitbucket's events
/// have no platform-neutral names.
pub fn event_type(event_key: &str) -> String {
    format!(
        "bitbucket.{}",
        event_key.trim().to_ascii_lowercase().replace(':', ".")
    )
}

/// Normalizes one Bitbucket delivery (Bitbucket never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let id = req
        .header_text(REQUEST_UUID)
        .ok_or(NormalizeError::missing("X-Request-UUID header"))?;
    let key = req
        .header_text(EVENT_KEY)
        .ok_or(NormalizeError::missing("X-Event-Key header"))?;
    let body: Value = req.json()?;
    let event_type = event_type(key);
    let mut event = Event::new(id, event_type.as_str()).meta("event_key", key);
    let repo = body["repository"]["full_name"].as_str();
    event = match entity(key, &body, repo) {
        Some((kind, oid)) => event.entity(kind, oid),
        None => event.entity("bitbucket", id),
    };
    if let Some(at) = occurred_at(&body) {
        event = event.occurred_at(at);
    }
    event = event.user(text(&body["actor"]["uuid"]).or_else(|| text(&body["actor"]["account_id"])));
    if let Some(repo) = repo {
        event = event.meta("repository", repo);
    }
    if let Some(name) = body["push"]["changes"][0]["new"]["name"].as_str() {
        event = event.meta("ref", name);
    }
    for (header, name) in [
        ("x-hook-uuid", "hook_uuid"),
        ("x-attempt-number", "attempt"),
    ] {
        if let Some(value) = req.header_text(header) {
            event = event.meta(name, value);
        }
    }
    Ok(event)
}

/// The object an event is about: the comment of a comment event, else the pull request,
/// issue, commit or repository the payload carries.
fn entity(key: &str, body: &Value, repo: Option<&str>) -> Option<(&'static str, String)> {
    if key.contains("comment")
        && let Some(id) = text(&body["comment"]["id"])
    {
        return Some(("comment", id));
    }
    let numbered = |object: &Value| {
        let number = text(&object["id"])?;
        Some(match repo {
            Some(repo) => format!("{repo}#{number}"),
            None => number,
        })
    };
    if let Some(id) = numbered(&body["pullrequest"]) {
        return Some(("pullrequest", id));
    }
    if let Some(id) = numbered(&body["issue"]) {
        return Some(("issue", id));
    }
    if let Some(hash) = text(&body["commit_status"]["commit"]["hash"]) {
        return Some(("commit", hash));
    }
    if let Some(hash) = text(&body["push"]["changes"][0]["new"]["target"]["hash"]) {
        return Some(("commit", hash));
    }
    text(&body["repository"]["uuid"]).map(|uuid| ("repository", uuid))
}

/// The payload's own time for the change: the comment's, pull request's, issue's or commit
/// status's `updated_on` (else `created_on`), or the pushed commit's date.
fn occurred_at(body: &Value) -> Option<String> {
    ["comment", "pullrequest", "issue", "commit_status"]
        .iter()
        .find_map(|kind| {
            let object = &body[kind];
            text(&object["updated_on"]).or_else(|| text(&object["created_on"]))
        })
        .or_else(|| text(&body["push"]["changes"][0]["new"]["target"]["date"]))
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

    fn delivery(key: &str, body: &str) -> Request {
        Request::post(body)
            .with_header("X-Event-Key", key)
            .with_header("X-Request-UUID", "3f2d5c1e-8a44-4d1b-b6a7-0f8d8e2b9c10")
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("repo:push"), "bitbucket.repo.push");
        assert_eq!(
            event_type("pullrequest:fulfilled"),
            "bitbucket.pullrequest.fulfilled"
        );
        assert_eq!(
            event_type("repo:commit_status_updated"),
            "bitbucket.repo.commit_status_updated"
        );
    }

    #[test]
    fn push_comment_and_bare_payloads() {
        let push = r#"{"repository":{"full_name":"team/repo","uuid":"{r1}"},
            "push":{"changes":[{"new":{"type":"branch","name":"main",
            "target":{"hash":"d3022fc0ca3d","date":"2015-04-06T15:23:38+02:00"}}}]}}"#;
        let e = normalize(&delivery("repo:push", push)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("commit"), Some("d3022fc0ca3d"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2015-04-06T15:23:38+02:00"));
        assert!(e.metadata.contains(&("ref".into(), "main".into())));
        let comment = r#"{"comment":{"id":17,"created_on":"2015-04-06T16:00:00+00:00"},
            "pullrequest":{"id":1},"repository":{"full_name":"team/repo"}}"#;
        let e = normalize(&delivery("pullrequest:comment_created", comment)).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("comment"), Some("17"))
        );
        let e = normalize(&delivery("repo:updated", "{}")).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (
                Some("bitbucket"),
                Some("3f2d5c1e-8a44-4d1b-b6a7-0f8d8e2b9c10")
            )
        );
    }

    #[test]
    fn missing_headers_are_errors() {
        let no_id = Request::post("{}").with_header("X-Event-Key", "repo:push");
        assert!(normalize(&no_id).is_err());
        let no_key = Request::post("{}").with_header("X-Request-UUID", "u");
        assert!(normalize(&no_key).is_err());
    }
}
