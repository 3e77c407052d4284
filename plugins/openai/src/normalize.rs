//! OpenAI event → normalized event. One event per POST:
//! `{"id": "evt_…", "object": "event", "created_at": <Unix s>, "type": "response.completed",
//! "data": {"id": "resp_…"}}`. Payloads are thin: `data` names the resource (`data.call_id`
//! for `realtime.call.incoming`), which the receiver fetches from the API.

use crate::verify::ID;
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The normalized type: OpenAI's events are about its own resources (responses, batches,
/// fine-tuning jobs, eval runs, calls), none with a neutral name: `openai.<type>`.
pub fn event_type(native: &str) -> String {
    format!("openai.{}", native.to_ascii_lowercase())
}

/// The kind of resource a type is about: the type without its last segment, dots joined with
/// `_` (`fine_tuning.job.succeeded` → `fine_tuning_job`, `response.completed` → `response`).
pub fn resource_kind(native: &str) -> String {
    native
        .rsplit_once('.')
        .map_or(native, |(kind, _)| kind)
        .to_ascii_lowercase()
        .replace('.', "_")
}

/// Normalizes one OpenAI event.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let webhook_id = req.header_text(ID);
    // The event's own id (`evt_…`, signed with the body); the message id only if it has none.
    let id = body["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .or(webhook_id)
        .ok_or(NormalizeError::missing("id"))?;
    let native = body["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("type"))?;
    let mut event = Event::new(id, event_type(native)).meta("openai_type", native);
    if let Some(created) = body["created_at"].as_i64() {
        event = event.occurred_at_unix(created);
    }
    let data = &body["data"];
    event = match data["id"]
        .as_str()
        .or(data["call_id"].as_str())
        .filter(|s| !s.is_empty())
    {
        Some(oid) => event.entity(resource_kind(native), oid),
        None => event.entity("openai", id),
    };
    if let Some(webhook_id) = webhook_id {
        event = event.meta("webhook_id", webhook_id);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_types() {
        assert_eq!(event_type("batch.completed"), "openai.batch.completed");
        assert_eq!(
            resource_kind("fine_tuning.job.succeeded"),
            "fine_tuning_job"
        );
        assert_eq!(resource_kind("eval.run.canceled"), "eval_run");
        assert_eq!(resource_kind("ping"), "ping");
    }

    #[test]
    fn a_call_is_named_by_its_call_id() {
        let req = Request::post(
            r#"{"id":"evt_1","object":"event","created_at":1750287018,"type":"realtime.call.incoming","data":{"call_id":"rtc_1","sip_headers":[]}}"#,
        );
        let e = normalize(&req).unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("realtime_call"), Some("rtc_1"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2025-06-18T22:50:18Z"));
    }

    #[test]
    fn without_a_body_id_the_message_id_stands_in() {
        let req =
            Request::post(r#"{"type":"batch.failed","data":{}}"#).with_header("webhook-id", "wh_1");
        let e = normalize(&req).unwrap();
        assert_eq!(e.platform_event_id, "wh_1");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("openai"), Some("wh_1"))
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"type":"batch.failed"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"id":"evt_1"}"#)).is_err());
    }
}
