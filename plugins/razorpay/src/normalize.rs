//! Razorpay event → normalized event. One event per request; the object it is about is one of
//! the entities under `payload` (`payload.payment.entity`, `payload.refund.entity`, …), picked
//! by the event name. Amounts are integers in the smallest currency unit already (Razorpay
//! writes three-decimal currencies such as KWD in thousandths too, last digit 0).

use crate::verify::EVENT_ID;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Maps a Razorpay event name to hookgate's neutral type where one exists.
pub fn event_type(native: &str) -> String {
    let neutral = match native {
        // Captured is when the money is Razorpay's to settle; `payment.authorized` is not yet.
        "payment.captured" => "payment.completed",
        "payment.failed" => "payment.failed",
        "refund.processed" => "payment.refunded",
        "order.paid" => "order.paid",
        "invoice.paid" => "invoice.paid",
        "subscription.updated" => "subscription.updated",
        "subscription.cancelled" => "subscription.canceled",
        _ => return format!("razorpay.{}", native.to_ascii_lowercase()),
    };
    neutral.to_owned()
}

/// The entity the event is about: the event name's segments before the action, innermost
/// first (`payment.dispute.created` → `dispute`, then `payment`), else the first name of
/// `contains` that the payload holds.
fn primary_entity<'a>(body: &'a Value, native: &str) -> Option<&'a Value> {
    let payload = &body["payload"];
    let mut segments: Vec<&str> = native.split('.').collect();
    segments.pop();
    let from_name = segments.into_iter().rev();
    let from_contains = body["contains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    from_name
        .chain(from_contains)
        .map(|name| &payload[name]["entity"])
        .find(|entity| entity.is_object())
}

/// The event id: the `x-razorpay-event-id` header, else the body's SHA-256.
fn event_id(req: &Request) -> String {
    match req.header_text(EVENT_ID) {
        Some(id) => id.to_owned(),
        None => format!("sha256:{}", hex_encode(&sha256(&[&req.body]))),
    }
}

/// Normalizes one Razorpay webhook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let native = body["event"]
        .as_str()
        .ok_or(NormalizeError::missing("event"))?;
    let id = event_id(req);
    let mut event = Event::new(id.clone(), event_type(native)).meta("razorpay_event", native);
    if let Some(created) = body["created_at"].as_i64() {
        event = event.occurred_at_unix(created);
    }
    let entity = primary_entity(&body, native);
    match entity.and_then(|e| Some((e["entity"].as_str()?, e["id"].as_str()?))) {
        Some((kind, oid)) => event = event.entity(kind, oid),
        None => {
            let kind = native.split('.').next().unwrap_or("event");
            event = event.entity(kind, id);
        }
    }
    if let Some(entity) = entity {
        event = with_entity_facts(event, entity);
    }
    if let Some(account) = body["account_id"].as_str() {
        event = event.meta("account_id", account);
    }
    Ok(event)
}

/// Amount, customer and the few entity fields worth routing on.
fn with_entity_facts(mut event: Event, entity: &Value) -> Event {
    if let (Some(amount), Some(currency)) = (entity["amount"].as_i64(), entity["currency"].as_str())
    {
        event = event.amount(amount, currency);
    }
    event = event.user(entity["customer_id"].as_str());
    for key in ["status", "method", "order_id", "payment_id"] {
        if let Some(value) = entity[key].as_str() {
            event = event.meta(key, value);
        }
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(body: &str) -> Event {
        normalize(&Request::post(body.to_owned()).with_header(EVENT_ID, "evt_1")).unwrap()
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("payment.captured"), "payment.completed");
        assert_eq!(event_type("payment.failed"), "payment.failed");
        assert_eq!(event_type("refund.processed"), "payment.refunded");
        assert_eq!(event_type("order.paid"), "order.paid");
        assert_eq!(
            event_type("subscription.cancelled"),
            "subscription.canceled"
        );
        assert_eq!(
            event_type("payment.authorized"),
            "razorpay.payment.authorized"
        );
        assert_eq!(event_type("payout.processed"), "razorpay.payout.processed");
    }

    #[test]
    fn a_refund_is_about_the_refund_in_paise() {
        let e = normalized(
            r#"{"entity":"event","event":"refund.processed","contains":["refund","payment"],
                "payload":{"refund":{"entity":{"id":"rfnd_1","entity":"refund","amount":29900,
                "currency":"INR","payment_id":"pay_1","status":"processed"}},
                "payment":{"entity":{"id":"pay_1","entity":"payment","amount":50000,"currency":"INR"}}},
                "created_at":1567674606}"#,
        );
        assert_eq!(e.event_type, "payment.refunded");
        assert_eq!(e.entity_type.as_deref(), Some("refund"));
        assert_eq!(e.entity_id.as_deref(), Some("rfnd_1"));
        assert_eq!(
            (e.amount, e.currency.as_deref()),
            (Some(29900), Some("INR"))
        );
        assert!(e.metadata.contains(&("payment_id".into(), "pay_1".into())));
    }

    #[test]
    fn a_dispute_is_about_the_dispute_not_the_payment() {
        let e = normalized(
            r#"{"event":"payment.dispute.created","contains":["payment","dispute"],
                "payload":{"payment":{"entity":{"id":"pay_1","entity":"payment"}},
                "dispute":{"entity":{"id":"disp_1","entity":"dispute","amount":100,"currency":"inr"}}}}"#,
        );
        assert_eq!(e.event_type, "razorpay.payment.dispute.created");
        assert_eq!(e.entity_id.as_deref(), Some("disp_1"));
        assert_eq!(e.currency.as_deref(), Some("INR"));
    }

    #[test]
    fn without_an_entity_the_event_is_its_own_entity() {
        let e = normalized(r#"{"event":"account.updated","payload":{}}"#);
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("account"), Some("evt_1"))
        );
        assert_eq!(e.amount, None);
    }

    #[test]
    fn without_the_id_header_the_body_hash_is_the_id() {
        let body = r#"{"event":"order.paid"}"#;
        let e = normalize(&Request::post(body)).unwrap();
        assert_eq!(
            e.platform_event_id,
            format!("sha256:{}", hex_encode(&sha256(&[body.as_bytes()])))
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"entity":"event"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event":5}"#)).is_err());
    }
}
