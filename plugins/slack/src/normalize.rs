//! Slack payload → normalized event. Three shapes arrive at one endpoint: Events API JSON
//! (`event_callback`, id `event_id`), slash commands (form fields, id `trigger_id`) and
//! interactivity (a `payload=` form field holding JSON, id `trigger_id` or `action_ts`).

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::{Map, Value};

fn is_form(req: &Request) -> bool {
    req.header_text("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
        || req.body.first().is_some_and(|b| *b != b'{')
}

/// The challenge of an Events API `url_verification` request, if this is one.
pub fn url_verification_challenge(req: &Request) -> Option<String> {
    if is_form(req) {
        return None;
    }
    let body: Value = hookgate_sdk::serde_json::from_slice(&req.body).ok()?;
    (body["type"] == "url_verification").then(|| body["challenge"].as_str().map(str::to_owned))?
}

/// Normalizes one Slack request.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    if !is_form(req) {
        return events_api(req.json()?);
    }
    if let Some(payload) = form_value(&req.body, "payload") {
        let body: Value = hookgate_sdk::serde_json::from_str(&payload)
            .map_err(|e| NormalizeError::new(format!("interactivity payload is not JSON: {e}")))?;
        return interaction(body);
    }
    slash_command(req)
}

fn events_api(body: Value) -> Result<Event, NormalizeError> {
    let id = body["event_id"]
        .as_str()
        .ok_or(NormalizeError::missing("event_id"))?;
    let inner = &body["event"];
    let native = inner["type"]
        .as_str()
        .or(body["type"].as_str())
        .ok_or(NormalizeError::missing("event.type"))?;
    let subtype = inner["subtype"].as_str();
    let event_type = match subtype {
        Some(s) => format!("slack.{native}.{s}"),
        None => format!("slack.{native}"),
    };
    let mut event =
        Event::new(id, event_type).user(inner["user"].as_str().or(inner["user"]["id"].as_str()));
    if let Some(t) = body["event_time"].as_i64() {
        event = event.occurred_at_unix(t);
    }
    if let Some(channel) = inner["channel"].as_str() {
        event = event.meta("channel", channel);
    }
    if let Some(ts) = inner["ts"].as_str() {
        event = event.entity("message", ts);
    }
    if let Some(team) = body["team_id"].as_str() {
        event = event.meta("team_id", team);
    }
    if let Some(app) = body["api_app_id"].as_str() {
        event = event.meta("api_app_id", app);
    }
    Ok(event)
}

fn interaction(body: Value) -> Result<Event, NormalizeError> {
    let kind = body["type"]
        .as_str()
        .ok_or(NormalizeError::missing("payload.type"))?;
    let id = body["trigger_id"]
        .as_str()
        .or(body["actions"][0]["action_ts"].as_str())
        .or(body["action_ts"].as_str())
        .ok_or(NormalizeError::missing("trigger_id"))?;
    let mut event = Event::new(id, format!("slack.interaction.{kind}"))
        .user(body["user"]["id"].as_str())
        .payload_json(&body);
    if let Some(team) = body["team"]["id"].as_str() {
        event = event.meta("team_id", team);
    }
    Ok(event)
}

fn slash_command(req: &Request) -> Result<Event, NormalizeError> {
    let field = |k: &str| form_value(&req.body, k);
    let command = field("command").ok_or(NormalizeError::missing("command"))?;
    let id = field("trigger_id").ok_or(NormalizeError::missing("trigger_id"))?;
    // The payload of a form post is its fields as a JSON object, so actions get JSON.
    let fields: Map<String, Value> = [
        "command",
        "text",
        "team_id",
        "channel_id",
        "user_id",
        "response_url",
    ]
    .iter()
    .filter_map(|k| field(k).map(|v| ((*k).to_owned(), Value::String(v))))
    .collect();
    let mut event = Event::new(id, "slack.command")
        .user(field("user_id"))
        .meta("command", command)
        .payload_json(&Value::Object(fields));
    if let Some(team) = field("team_id") {
        event = event.meta("team_id", team);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_verification_is_recognised() {
        let req = Request::post(
            r#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#,
        );
        assert_eq!(
            url_verification_challenge(&req).as_deref(),
            Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        );
        let event = Request::post(r#"{"type":"event_callback","event_id":"Ev1"}"#);
        assert_eq!(url_verification_challenge(&event), None);
    }

    #[test]
    fn slash_command_and_interaction() {
        let cmd = Request::post(
            "command=%2Fdeploy&text=prod&user_id=U1&team_id=T1&trigger_id=123.456.abc",
        )
        .with_header("content-type", "application/x-www-form-urlencoded");
        let e = normalize(&cmd).unwrap();
        assert_eq!(
            (e.event_type.as_str(), e.platform_event_id.as_str()),
            ("slack.command", "123.456.abc")
        );
        let ia = Request::post(
            "payload=%7B%22type%22%3A%22block_actions%22%2C%22trigger_id%22%3A%22t1%22%7D",
        )
        .with_header("content-type", "application/x-www-form-urlencoded");
        let e = normalize(&ia).unwrap();
        assert_eq!(
            (e.event_type.as_str(), e.platform_event_id.as_str()),
            ("slack.interaction.block_actions", "t1")
        );
    }
}
