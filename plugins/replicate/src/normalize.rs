//! Replicate webhook → normalized event. There is no envelope: the body is the prediction (or
//! training) object itself, as `GET /v1/predictions/{id}` returns it, sent at each step the
//! webhook's filter asks for (`start`, `output`, `logs`, `completed`). The type comes from its
//! `status` (`starting`, `processing`, `succeeded`, `failed`, `canceled`).

use crate::verify::ID;
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// Whether the object is a training (its API URL is under `/trainings/`) or a prediction.
pub fn kind(body: &Value) -> &'static str {
    if body["urls"]["get"]
        .as_str()
        .is_some_and(|url| url.contains("/trainings/"))
    {
        "training"
    } else {
        "prediction"
    }
}

/// The normalized type: `replicate.<prediction|training>.<status>`; Replicate's runs have no
/// neutral name.
pub fn event_type(kind: &str, status: &str) -> String {
    format!("replicate.{kind}.{}", status.to_ascii_lowercase())
}

/// When the step the webhook reports happened: the end of a finished run, the start of a
/// running one, the creation of a starting one.
fn occurred_at<'a>(body: &'a Value, status: &str) -> Option<&'a str> {
    let field = match status {
        "succeeded" | "failed" | "canceled" | "aborted" => "completed_at",
        "processing" => "started_at",
        _ => "created_at",
    };
    body[field]
        .as_str()
        .or(body["created_at"].as_str())
        .filter(|s| !s.is_empty())
}

/// Normalizes one webhook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    // One run sends several webhooks (start, outputs, logs, completion), several of them with
    // the same status: only the message id tells them apart, and it is the same in a retry.
    let id = req
        .header_text(ID)
        .ok_or(NormalizeError::missing("webhook-id header"))?;
    let body: Value = req.json()?;
    let status = body["status"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("status"))?;
    let kind = kind(&body);
    let mut event = Event::new(id, event_type(kind, status)).meta("status", status);
    if let Some(at) = occurred_at(&body, status) {
        event = event.occurred_at(at);
    }
    event = match body["id"].as_str().filter(|s| !s.is_empty()) {
        Some(run) => event.entity(kind, run),
        None => event.entity("replicate", id),
    };
    for (key, value) in [
        ("model", body["model"].as_str()),
        ("version", body["version"].as_str()),
        ("source", body["source"].as_str()),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Request {
        Request::post(body).with_header("webhook-id", "msg_1")
    }

    #[test]
    fn the_status_names_the_type_and_each_message_is_its_own_event() {
        let start = normalize(&req(
            r#"{"id":"p1","status":"starting","created_at":"2022-04-26T22:13:06.224088Z"}"#,
        ))
        .unwrap();
        assert_eq!(start.event_type, "replicate.prediction.starting");
        assert_eq!(start.platform_event_id, "msg_1");
        assert_eq!(
            start.occurred_at.as_deref(),
            Some("2022-04-26T22:13:06.224088Z")
        );
        let output = Request::post(
            r#"{"id":"p1","status":"processing","started_at":"2022-04-26T22:13:07Z"}"#,
        )
        .with_header("webhook-id", "msg_2");
        let output = normalize(&output).unwrap();
        assert_eq!(output.platform_event_id, "msg_2");
        assert_eq!(output.entity_id.as_deref(), Some("p1"));
        assert_eq!(output.occurred_at.as_deref(), Some("2022-04-26T22:13:07Z"));
    }

    #[test]
    fn trainings_are_told_apart_by_their_url() {
        let e = normalize(&req(
            r#"{"id":"t1","status":"succeeded","urls":{"get":"https://api.replicate.com/v1/trainings/t1"}}"#,
        ))
        .unwrap();
        assert_eq!(e.event_type, "replicate.training.succeeded");
        assert_eq!(e.entity_type.as_deref(), Some("training"));
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post(r#"{"id":"p1","status":"starting"}"#)).is_err());
        assert!(normalize(&req("not json")).is_err());
        assert!(normalize(&req(r#"{"id":"p1"}"#)).is_err());
        let bare = normalize(&req(r#"{"status":"failed"}"#)).unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("replicate"), Some("msg_1"))
        );
    }
}
