//! Discord payload → normalized event, and the answers Discord requires. Two surfaces share the
//! signing scheme: the Interactions endpoint (slash commands, components, modals: an object
//! with `id`, `token` and a numeric `type`) and the Webhook Events endpoint (`version`,
//! `application_id`, `type` 0 for PING or 1 for an event, and the `event` itself).

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds: a snowflake's top 42 bits are
/// milliseconds since then.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// What a request is, as far as answering it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An interaction with its `type` (1 PING, 2 command, 3 component, 4 autocomplete, 5 modal).
    Interaction(u64),
    /// A Webhook Events PING (`type` 0).
    WebhookPing,
    /// A Webhook Events event (`type` 1).
    WebhookEvent,
}

/// Classifies a body; `None` when it is not a Discord JSON object.
pub fn kind(req: &Request) -> Option<Kind> {
    let body: Value = serde_json::from_slice(&req.body).ok()?;
    kind_of(&body)
}

fn kind_of(body: &Value) -> Option<Kind> {
    let kind = body["type"].as_u64()?;
    if body.get("token").is_some() {
        Some(Kind::Interaction(kind))
    } else {
        match kind {
            0 => Some(Kind::WebhookPing),
            1 if body["event"].is_object() => Some(Kind::WebhookEvent),
            _ => None,
        }
    }
}

/// The answer to a verified PING: PONG (`{"type":1}`, JSON) for the Interactions endpoint, an
/// empty 204 for the Webhook Events endpoint. `None` for anything else.
pub fn ping_answer(kind: Kind) -> Option<Response> {
    match kind {
        Kind::Interaction(1) => Some(Response::ok("application/json", r#"{"type":1}"#)),
        Kind::WebhookPing => Some(Response::empty(204)),
        _ => None,
    }
}

/// The answer Discord requires to an accepted request, within 3 seconds. hookgate forwards
/// interactions asynchronously, so it defers them, and the application follows up through the
/// interaction's token: a command or modal submit gets "thinking…" (type 5), a component a
/// deferred message update (type 6). Autocomplete cannot be deferred: it gets an empty list of
/// choices (type 8). Webhook events are acknowledged with an empty 204, as Discord asks.
pub fn answer(req: &Request) -> Option<Response> {
    let json = |body: &str| Some(Response::ok("application/json", body));
    match kind(req)? {
        Kind::Interaction(2 | 5) => json(r#"{"type":5}"#),
        Kind::Interaction(3) => json(r#"{"type":6}"#),
        Kind::Interaction(4) => json(r#"{"type":8,"data":{"choices":[]}}"#),
        Kind::WebhookPing | Kind::WebhookEvent => Some(Response::empty(204)),
        Kind::Interaction(_) => None,
    }
}

/// Normalizes one Discord request (Discord never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    match kind_of(&body) {
        Some(Kind::Interaction(kind)) => interaction(&body, kind),
        Some(Kind::WebhookPing) => Ok(webhook_ping(req, &body)),
        Some(Kind::WebhookEvent) => webhook_event(req, &body),
        None => Err(NormalizeError::new(
            "neither an interaction (id, token, type) nor a webhook event (type 0 or 1 with event)",
        )),
    }
}

fn interaction_name(kind: u64) -> String {
    match kind {
        1 => "ping".into(),
        2 => "application_command".into(),
        3 => "message_component".into(),
        4 => "application_command_autocomplete".into(),
        5 => "modal_submit".into(),
        other => format!("type_{other}"),
    }
}

/// An interaction: its snowflake `id` (signed) is the event id and its creation time.
fn interaction(body: &Value, kind: u64) -> Result<Event, NormalizeError> {
    let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
    let user = body["member"]["user"]["id"]
        .as_str()
        .or(body["user"]["id"].as_str());
    let mut event = Event::new(
        id,
        format!("discord.interaction.{}", interaction_name(kind)),
    )
    .entity("interaction", id)
    .user(user);
    if let Some(time) = snowflake_time(id) {
        event = event.occurred_at(time);
    }
    let data = &body["data"];
    for (key, value) in [
        ("application_id", body["application_id"].as_str()),
        ("guild_id", body["guild_id"].as_str()),
        (
            "channel_id",
            body["channel_id"]
                .as_str()
                .or(body["channel"]["id"].as_str()),
        ),
        ("command", data["name"].as_str()),
        ("custom_id", data["custom_id"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// A Webhook Events PING that reached normalization (the handshake answers verified ones).
fn webhook_ping(req: &Request, body: &Value) -> Event {
    let id = body_id(req);
    let mut event = Event::new(id.as_str(), "discord.ping").entity("discord", id.as_str());
    if let Some(app) = body["application_id"].as_str() {
        event = event.meta("application_id", app);
    }
    event
}

/// A Webhook Events event. Discord gives it no id at all: the id is `sha256:` + the signed
/// body's SHA-256, which a retry (the same event, re-signed) repeats.
fn webhook_event(req: &Request, body: &Value) -> Result<Event, NormalizeError> {
    let inner = &body["event"];
    let native = inner["type"]
        .as_str()
        .ok_or(NormalizeError::missing("event.type"))?;
    let id = body_id(req);
    let data = &inner["data"];
    let mut event = Event::new(
        id.as_str(),
        format!("discord.{}", native.to_ascii_lowercase()),
    )
    .meta("discord_type", native)
    .user(data["user_id"].as_str().or(data["user"]["id"].as_str()));
    event = match (data["id"].as_str(), data["user"]["id"].as_str()) {
        (Some(object), _) => event.entity(object_kind(native), object),
        (None, Some(user)) => event.entity("user", user),
        (None, None) => event.entity("discord", id.as_str()),
    };
    if let Some(time) = inner["timestamp"].as_str() {
        event = event.occurred_at(utc(time));
    }
    for (key, value) in [
        ("application_id", body["application_id"].as_str()),
        (
            "guild_id",
            data["guild_id"].as_str().or(data["guild"]["id"].as_str()),
        ),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

fn body_id(req: &Request) -> String {
    format!("sha256:{}", hex_encode(&sha256(&[&req.body])))
}

/// The kind of object an event's `data.id` names: the event type without its last word
/// (`ENTITLEMENT_CREATE` → `entitlement`, `LOBBY_MESSAGE_DELETE` → `lobby_message`).
fn object_kind(native: &str) -> String {
    let lower = native.to_ascii_lowercase();
    match lower.rsplit_once('_') {
        Some((kind, _)) => kind.to_owned(),
        None => lower,
    }
}

/// Webhook event timestamps are ISO 8601 without a zone (`2024-10-18T18:41:21.109604`); they
/// are UTC, so they get the `Z` RFC 3339 requires.
fn utc(time: &str) -> String {
    let has_zone = time.ends_with('Z')
        || time
            .rsplit_once('T')
            .is_some_and(|(_, clock)| clock.contains('+') || clock.contains('-'));
    if has_zone {
        time.to_owned()
    } else {
        format!("{time}Z")
    }
}

/// The creation time a snowflake encodes, RFC 3339 with milliseconds.
pub fn snowflake_time(id: &str) -> Option<String> {
    let ms = (id.parse::<u64>().ok()? >> 22).checked_add(DISCORD_EPOCH_MS)?;
    let secs = i64::try_from(ms / 1000).ok()?;
    let text = rfc3339_from_unix(secs);
    let stem = text.strip_suffix('Z')?;
    Some(format!("{stem}.{:03}Z", ms % 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_carry_their_time() {
        // Discord's documented example: 175928847299117063 was created 2016-04-30 11:18:25.796.
        assert_eq!(
            snowflake_time("175928847299117063").as_deref(),
            Some("2016-04-30T11:18:25.796Z")
        );
        assert_eq!(snowflake_time("not-a-snowflake"), None);
    }

    #[test]
    fn kinds_and_their_answers() {
        let kind = |body: &str| kind(&Request::post(body));
        let interaction = |t: u8| format!(r#"{{"id":"1","token":"t","type":{t}}}"#);
        assert_eq!(kind(&interaction(1)), Some(Kind::Interaction(1)));
        assert_eq!(kind(r#"{"version":1,"type":0}"#), Some(Kind::WebhookPing));
        assert_eq!(
            kind(r#"{"version":1,"type":1,"event":{"type":"X"}}"#),
            Some(Kind::WebhookEvent)
        );
        assert_eq!(kind(r#"{"version":1,"type":1}"#), None);
        assert_eq!(kind("[]"), None);

        assert_eq!(
            ping_answer(Kind::Interaction(1)),
            Some(Response::ok("application/json", r#"{"type":1}"#))
        );
        assert_eq!(ping_answer(Kind::WebhookPing), Some(Response::empty(204)));
        assert_eq!(ping_answer(Kind::Interaction(2)), None);

        let answered = |body: &str| answer(&Request::post(body)).map(|r| (r.status, r.body));
        assert_eq!(
            answered(&interaction(2)),
            Some((200, br#"{"type":5}"#.to_vec()))
        );
        assert_eq!(
            answered(&interaction(3)),
            Some((200, br#"{"type":6}"#.to_vec()))
        );
        assert_eq!(
            answered(&interaction(4)),
            Some((200, br#"{"type":8,"data":{"choices":[]}}"#.to_vec()))
        );
        assert_eq!(
            answered(&interaction(5)),
            Some((200, br#"{"type":5}"#.to_vec()))
        );
        assert_eq!(
            answered(r#"{"version":1,"type":1,"event":{"type":"X"}}"#),
            Some((204, Vec::new()))
        );
    }

    #[test]
    fn interaction_types_users_and_components() {
        let body = r#"{"id":"787053080478613556","token":"t","type":3,"user":{"id":"U1"},"channel":{"id":"C1"},"data":{"custom_id":"approve","component_type":2}}"#;
        let event = normalize(&Request::post(body)).unwrap();
        assert_eq!(event.event_type, "discord.interaction.message_component");
        assert_eq!(event.user_id.as_deref(), Some("U1"));
        assert_eq!(
            event.metadata,
            [
                ("channel_id".to_owned(), "C1".to_owned()),
                ("custom_id".to_owned(), "approve".to_owned())
            ]
        );
        assert!(normalize(&Request::post(r#"{"token":"t","type":2}"#)).is_err());
    }

    #[test]
    fn webhook_events_without_an_object_id() {
        let body = r#"{"version":1,"application_id":"A1","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834+00:00","data":{"integration_type":0,"scopes":["applications.commands"],"user":{"id":"U1"},"guild":{"id":"G1"}}}}"#;
        let event = normalize(&Request::post(body)).unwrap();
        assert_eq!(event.event_type, "discord.application_authorized");
        assert_eq!(
            (event.entity_type.as_deref(), event.entity_id.as_deref()),
            (Some("user"), Some("U1"))
        );
        assert_eq!(
            event.occurred_at.as_deref(),
            Some("2024-10-18T14:42:53.064834+00:00")
        );
        assert!(event.platform_event_id.starts_with("sha256:"));
        assert!(event.metadata.contains(&("guild_id".into(), "G1".into())));
    }
}
