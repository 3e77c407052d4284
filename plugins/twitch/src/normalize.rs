//! EventSub message → normalized event. The message type comes from
//! `Twitch-Eventsub-Message-Type`, else from the (signed) body's shape; a notification is
//! `twitch.<subscription.type>` about the broadcaster's channel, a revocation
//! `twitch.revocation.<reason>` about the subscription.

use crate::verify::{MESSAGE_ID, MESSAGE_TYPE, TIMESTAMP};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// A callback verification's challenge, if the request is one (not yet verified).
pub fn verification_challenge(req: &Request) -> Option<String> {
    if req.method != "POST" {
        return None;
    }
    let body: Value = serde_json::from_slice(&req.body).ok()?;
    if message_type(req, &body) != "webhook_callback_verification" {
        return None;
    }
    body["challenge"].as_str().map(str::to_owned)
}

/// The message type Twitch names in its header, else what the body's shape says.
fn message_type<'a>(req: &'a Request, body: &Value) -> &'a str {
    req.header_text(MESSAGE_TYPE)
        .unwrap_or_else(|| inferred_message_type(body))
}

/// What the body's shape says: a challenge is a verification, an event a notification, a
/// subscription alone a revocation.
pub fn inferred_message_type(body: &Value) -> &'static str {
    if body.get("challenge").is_some() {
        "webhook_callback_verification"
    } else if body.get("event").is_some() {
        "notification"
    } else {
        "revocation"
    }
}

/// Normalizes one EventSub message.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = req
        .header_text(MESSAGE_ID)
        .ok_or(NormalizeError::missing("Twitch-Eventsub-Message-Id header"))?;
    let kind = message_type(req, &body);
    let subscription = &body["subscription"];
    let mut event = match kind {
        "notification" => notification(id, &body)?,
        "revocation" => revocation(id, subscription),
        "webhook_callback_verification" => {
            return Err(NormalizeError::new(
                "a callback verification without a challenge string",
            ));
        }
        other => {
            Event::new(id, format!("twitch.{}", other.to_ascii_lowercase())).entity("twitch", id)
        }
    };
    event = event.meta("message_type", kind);
    for (key, field) in [
        ("subscription_type", "type"),
        ("subscription_version", "version"),
        ("subscription_id", "id"),
    ] {
        if let Some(text) = subscription[field].as_str() {
            event = event.meta(key, text);
        }
    }
    if event.occurred_at.is_none()
        && let Some(sent) = req
            .header_text(TIMESTAMP)
            .filter(|t| parse_rfc3339(t).is_some())
    {
        // The send time, when the event names no time of its own.
        event = event.occurred_at(sent);
    }
    Ok(event)
}

/// The event times worth reporting, the most specific first (an `end` event has both
/// `started_at` and `ended_at`).
const TIMES: &[&str] = &[
    "followed_at",
    "redeemed_at",
    "banned_at",
    "ended_at",
    "started_at",
    "created_at",
];

fn notification(id: &str, body: &Value) -> Result<Event, NormalizeError> {
    let subscription_type = body["subscription"]["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("subscription.type"))?;
    let inner = &body["event"];
    let mut event = Event::new(
        id,
        format!("twitch.{}", subscription_type.to_ascii_lowercase()),
    );
    // Every EventSub condition is scoped by a broadcaster (or a user, for user.* types).
    event = match (
        inner["broadcaster_user_id"].as_str(),
        inner["user_id"].as_str(),
    ) {
        (Some(channel), _) => event.entity("channel", channel),
        (None, Some(user)) => event.entity("user", user),
        _ => match body["subscription"]["id"].as_str() {
            Some(subscription) => event.entity("subscription", subscription),
            None => event.entity("twitch", id),
        },
    };
    event = event.user(inner["user_id"].as_str());
    if let Some(time) = TIMES
        .iter()
        .filter_map(|k| inner[*k].as_str())
        .find(|t| parse_rfc3339(t).is_some())
    {
        event = event.occurred_at(time);
    }
    if let Some((minor, currency)) = charity_amount(&inner["amount"]) {
        event = event.amount(minor, &currency);
    }
    if let Some(object) = inner["id"].as_str() {
        // The event's own object (a redemption, poll, donation, stream…).
        event = event.meta("object_id", object);
    }
    if let Some(bits) = inner["bits"].as_i64() {
        event = event.meta("bits", bits.to_string());
    }
    if let Some(tier) = inner["tier"].as_str() {
        event = event.meta("tier", tier);
    }
    Ok(event)
}

/// A charity amount, `{"value": 500, "decimal_places": 2, "currency": "USD"}` (5.00 USD), in
/// the currency's minor units: exact, or `None` when it has more precision than the currency.
fn charity_amount(amount: &Value) -> Option<(i64, String)> {
    let value = amount["value"].as_i64()?;
    let places = u32::try_from(amount["decimal_places"].as_u64()?).ok()?;
    let currency = amount["currency"].as_str()?.to_ascii_uppercase();
    let exponent = currency_exponent(&currency);
    let minor = if exponent >= places {
        value.checked_mul(10_i64.checked_pow(exponent - places)?)?
    } else {
        let divisor = 10_i64.checked_pow(places - exponent)?;
        (value % divisor == 0).then_some(value / divisor)?
    };
    Some((minor, currency))
}

fn revocation(id: &str, subscription: &Value) -> Event {
    let reason = subscription["status"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    let event_type = match &reason {
        Some(reason) => format!("twitch.revocation.{reason}"),
        None => "twitch.revocation".to_owned(),
    };
    let mut event = Event::new(id, event_type);
    event = match subscription["id"].as_str() {
        Some(subscription_id) => event.entity("subscription", subscription_id),
        None => event.entity("twitch", id),
    };
    if let Some(reason) = reason {
        event = event.meta("reason", reason);
    }
    if let Some(channel) = subscription["condition"]["broadcaster_user_id"].as_str() {
        event = event.meta("broadcaster_user_id", channel);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: Option<&str>, body: &str) -> Request {
        let mut req = Request::post(body.to_owned())
            .with_header(MESSAGE_ID, "m1")
            .with_header(TIMESTAMP, "2023-11-14T22:13:20.5Z");
        if let Some(kind) = kind {
            req = req.with_header(MESSAGE_TYPE, kind);
        }
        req
    }

    #[test]
    fn a_revocation_is_stored_with_its_reason() {
        let body = r#"{"subscription":{"id":"f1c2a387","status":"authorization_revoked","type":"channel.follow","version":"2","condition":{"broadcaster_user_id":"1337"}}}"#;
        for kind in [Some("revocation"), None] {
            let e = normalize(&message(kind, body)).unwrap();
            assert_eq!(e.event_type, "twitch.revocation.authorization_revoked");
            assert_eq!(
                (e.entity_type.as_deref(), e.entity_id.as_deref()),
                (Some("subscription"), Some("f1c2a387"))
            );
            assert_eq!(e.occurred_at.as_deref(), Some("2023-11-14T22:13:20.5Z"));
            assert!(
                e.metadata
                    .contains(&("subscription_type".into(), "channel.follow".into()))
            );
            assert!(
                e.metadata
                    .contains(&("message_type".into(), "revocation".into()))
            );
        }
    }

    #[test]
    fn a_charity_donation_is_money_in_minor_units() {
        let body = r#"{"subscription":{"type":"channel.charity_campaign.donate","version":"1"},
            "event":{"id":"a1b2c3","campaign_id":"123-abc","broadcaster_user_id":"123456",
            "user_id":"654321","charity_name":"Example name",
            "amount":{"value":10000,"decimal_places":2,"currency":"USD"}}}"#;
        let e = normalize(&message(Some("notification"), body)).unwrap();
        assert_eq!(e.event_type, "twitch.channel.charity_campaign.donate");
        assert_eq!(
            (e.amount, e.currency.as_deref()),
            (Some(10000), Some("USD"))
        );
        assert_eq!(e.user_id.as_deref(), Some("654321"));
        assert!(e.metadata.contains(&("object_id".into(), "a1b2c3".into())));
        assert_eq!(
            charity_amount(&serde_json::json!({"value":5,"decimal_places":0,"currency":"usd"})),
            Some((500, "USD".into()))
        );
        assert_eq!(
            charity_amount(&serde_json::json!({"value":1500,"decimal_places":2,"currency":"JPY"})),
            Some((15, "JPY".into()))
        );
        assert_eq!(
            charity_amount(&serde_json::json!({"value":1505,"decimal_places":2,"currency":"JPY"})),
            None
        );
    }

    #[test]
    fn a_user_event_is_about_the_user_and_the_send_time_stands_in() {
        let body = r#"{"subscription":{"type":"user.update","version":"1"},
            "event":{"user_id":"1337","user_login":"cool_user","email":"user@email.com"}}"#;
        let e = normalize(&message(None, body)).unwrap();
        assert_eq!(e.event_type, "twitch.user.update");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("user"), Some("1337"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2023-11-14T22:13:20.5Z"));
    }

    #[test]
    fn the_challenge_is_read_only_from_a_verification() {
        let body = r#"{"challenge":"c-1","subscription":{"type":"channel.follow"}}"#;
        let verification = message(Some("webhook_callback_verification"), body);
        assert_eq!(
            verification_challenge(&verification).as_deref(),
            Some("c-1")
        );
        assert_eq!(
            verification_challenge(&message(None, body)).as_deref(),
            Some("c-1")
        );
        assert_eq!(
            verification_challenge(&message(Some("notification"), body)),
            None
        );
        let get = Request {
            method: "GET".into(),
            ..verification.clone()
        };
        assert_eq!(verification_challenge(&get), None);
        // One that reaches normalization (no challenge string) is an error, not an event.
        let no_challenge = message(Some("webhook_callback_verification"), r#"{"challenge":5}"#);
        assert!(normalize(&no_challenge).is_err());
    }

    #[test]
    fn unusable_messages_are_errors() {
        assert!(normalize(&message(Some("notification"), "not json")).is_err());
        assert!(normalize(&message(Some("notification"), r#"{"event":{}}"#)).is_err());
        let no_id = Request::post(r#"{"subscription":{"type":"x"},"event":{}}"#);
        assert!(normalize(&no_id).is_err());
    }
}
