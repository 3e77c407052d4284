//! Clerk event → normalized event. One event per POST:
//! `{"type": "user.created", "object": "event", "data": {…}, "timestamp": <Unix ms>,
//! "instance_id": "ins_…"}`. The body has no id: the event is identified by its signed
//! `svix-id` header.

use crate::verify::ID;
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The normalized type: Clerk Billing's subscriptions and payments take the neutral names,
/// everything else (users, sessions, organizations…) is `clerk.<type in snake case>`.
/// `paymentAttempt.updated` is a payment's outcome once its `status` is `paid` or `failed`.
pub fn event_type(native: &str, status: Option<&str>) -> String {
    let neutral = match (native, status) {
        ("subscription.created", _) => "subscription.created",
        ("subscription.updated", _) => "subscription.updated",
        ("paymentAttempt.updated", Some("paid")) => "payment.completed",
        ("paymentAttempt.updated", Some("failed")) => "payment.failed",
        _ => {
            let parts: Vec<String> = native.split('.').map(snake_case).collect();
            return format!("clerk.{}", parts.join("."));
        }
    };
    neutral.to_owned()
}

/// RFC 3339 of Unix milliseconds, keeping the milliseconds.
fn rfc3339_from_unix_ms(ms: i64) -> String {
    let seconds = rfc3339_from_unix(ms.div_euclid(1000));
    let stem = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{stem}.{:03}Z", ms.rem_euclid(1000))
}

/// The user an event concerns: the user itself, a session's or membership's user, a payer.
fn user_of<'a>(data: &'a Value, object: Option<&str>) -> Option<&'a str> {
    if object == Some("user") {
        return data["id"].as_str();
    }
    data["user_id"]
        .as_str()
        .or(data["public_user_data"]["user_id"].as_str())
        .or(data["payer"]["user_id"].as_str())
}

/// A billing amount, `{amount, amount_formatted, currency}`: read from the decimal
/// `amount_formatted` (the integer `amount`'s unit is not documented).
fn money(value: &Value) -> Option<(i64, &str)> {
    let currency = value["currency"].as_str().filter(|c| c.len() == 3)?;
    let minor = decimal_to_minor_units(value["amount_formatted"].as_str()?, currency).ok()?;
    Some((minor, currency))
}

/// Normalizes one Clerk event.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let id = req
        .header_text(ID)
        .ok_or(NormalizeError::missing("svix-id header"))?;
    let body: Value = req.json()?;
    let native = body["type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("type"))?;
    let data = &body["data"];
    let status = data["status"].as_str();
    let mut event = Event::new(id, event_type(native, status)).meta("clerk_type", native);
    if let Some(ms) = body["timestamp"].as_i64() {
        event = event.occurred_at(rfc3339_from_unix_ms(ms));
    }
    let object = data["object"].as_str().filter(|s| !s.is_empty());
    event = match data["id"].as_str().filter(|s| !s.is_empty()) {
        Some(oid) => {
            let kind = object.map_or_else(
                || snake_case(native.split('.').next().unwrap_or(native)),
                snake_case,
            );
            event.entity(kind, oid)
        }
        None => event.entity("clerk", id),
    };
    event = event.user(user_of(data, object));
    let billed = money(&data["totals"]["grand_total"]).or_else(|| money(&data["amount"]));
    if let Some((minor, currency)) = billed {
        event = event.amount(minor, currency);
    }
    for (key, value) in [
        ("instance_id", body["instance_id"].as_str()),
        ("status", status),
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
        Request::post(body).with_header("svix-id", "msg_1")
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("user.created", None), "clerk.user.created");
        assert_eq!(
            event_type("organizationMembership.updated", None),
            "clerk.organization_membership.updated"
        );
        assert_eq!(
            event_type("subscriptionItem.pastDue", Some("past_due")),
            "clerk.subscription_item.past_due"
        );
        assert_eq!(
            event_type("subscription.created", None),
            "subscription.created"
        );
        assert_eq!(
            event_type("paymentAttempt.updated", Some("paid")),
            "payment.completed"
        );
        assert_eq!(
            event_type("paymentAttempt.updated", Some("failed")),
            "payment.failed"
        );
        assert_eq!(
            event_type("paymentAttempt.updated", Some("pending")),
            "clerk.payment_attempt.updated"
        );
    }

    #[test]
    fn milliseconds_are_kept() {
        assert_eq!(
            rfc3339_from_unix_ms(1_654_012_591_835),
            "2022-05-31T15:56:31.835Z"
        );
        assert_eq!(rfc3339_from_unix_ms(5), "1970-01-01T00:00:00.005Z");
    }

    #[test]
    fn sessions_concern_their_user() {
        let e = normalize(&req(
            r#"{"type":"session.created","data":{"id":"sess_1","object":"session","user_id":"user_1"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (
                e.entity_type.as_deref(),
                e.entity_id.as_deref(),
                e.user_id.as_deref()
            ),
            (Some("session"), Some("sess_1"), Some("user_1"))
        );
    }

    #[test]
    fn amounts_come_from_the_formatted_decimal() {
        let e = normalize(&req(
            r#"{"type":"paymentAttempt.updated","data":{"id":"pa_1","status":"paid","totals":{"grand_total":{"amount":1999,"amount_formatted":"19.99","currency":"usd","currency_symbol":"$"}}}}"#,
        ))
        .unwrap();
        assert_eq!((e.amount, e.currency.as_deref()), (Some(1999), Some("USD")));
        let unreadable = normalize(&req(
            r#"{"type":"paymentAttempt.updated","data":{"id":"pa_1","totals":{"grand_total":{"amount":1999,"amount_formatted":"$19.99","currency":"USD"}}}}"#,
        ))
        .unwrap();
        assert_eq!(unreadable.amount, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post(r#"{"type":"user.created"}"#)).is_err());
        assert!(normalize(&req("not json")).is_err());
        assert!(normalize(&req(r#"{"data":{}}"#)).is_err());
        let bare = normalize(&req(r#"{"type":"user.deleted","data":{}}"#)).unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("clerk"), Some("msg_1"))
        );
    }
}
