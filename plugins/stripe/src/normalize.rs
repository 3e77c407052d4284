//! Stripe event → normalized event. Stripe amounts are already integer minor units.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// Maps a Stripe event type to hookgate's neutral type where one exists.
pub fn event_type(native: &str) -> String {
    let neutral = match native {
        "payment_intent.succeeded" => "payment.completed",
        "payment_intent.payment_failed" => "payment.failed",
        "charge.refunded" => "payment.refunded",
        "customer.created" => "customer.created",
        "customer.updated" => "customer.updated",
        "customer.deleted" => "customer.deleted",
        "customer.subscription.created" => "subscription.created",
        "customer.subscription.updated" => "subscription.updated",
        "customer.subscription.deleted" => "subscription.canceled",
        "invoice.paid" => "invoice.paid",
        "invoice.payment_failed" => "invoice.payment_failed",
        "checkout.session.completed" => "checkout.completed",
        _ => return format!("stripe.{native}"),
    };
    neutral.to_owned()
}

/// Normalizes one Stripe event (Stripe never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["id"].as_str().ok_or(NormalizeError::missing("id"))?;
    let native = body["type"]
        .as_str()
        .ok_or(NormalizeError::missing("type"))?;
    let object = &body["data"]["object"];
    let mut event = Event::new(id, event_type(native)).meta("stripe_type", native);
    if let Some(created) = body["created"].as_i64() {
        event = event.occurred_at_unix(created);
    }
    if let (Some(kind), Some(oid)) = (object["object"].as_str(), object["id"].as_str()) {
        event = event.entity(kind, oid);
        let customer = if kind == "customer" {
            Some(oid)
        } else {
            object["customer"].as_str()
        };
        event = event.user(customer);
    }
    if let (Some(amount), Some(currency)) = (object["amount"].as_i64(), object["currency"].as_str())
    {
        event = event.amount(amount, currency);
    }
    if let Some(live) = body["livemode"].as_bool() {
        event = event.meta("livemode", live.to_string());
    }
    if let Some(account) = body["account"].as_str() {
        event = event.meta("account", account);
    }
    if let Some(version) = body["api_version"].as_str() {
        event = event.meta("api_version", version);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("payment_intent.succeeded"), "payment.completed");
        assert_eq!(
            event_type("customer.subscription.updated"),
            "subscription.updated"
        );
        assert_eq!(event_type("payout.paid"), "stripe.payout.paid");
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"type":"x"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"id":"evt_1"}"#)).is_err());
        let minimal = normalize(&Request::post(r#"{"id":"evt_1","type":"ping"}"#)).unwrap();
        assert_eq!(minimal.event_type, "stripe.ping");
    }
}
