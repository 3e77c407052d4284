//! Square event notification → normalized event. The envelope names the event (`type`,
//! `event_id`, `created_at`, `merchant_id`) and the object (`data.type`, `data.id`, the object
//! itself under `data.object.<data.type>`); Money amounts are already integers in the
//! currency's smallest unit.
//!
//! `payment.created` and `payment.updated` keep their native names: Square sends
//! `payment.updated` several times for one payment, also after it completed (the processing fee
//! arrives later), so no single event means "the payment completed"; its `status` is metadata.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Maps a Square event type to hookgate's neutral type where one exists.
pub fn event_type(native: &str) -> String {
    let neutral = match native {
        "customer.created" => "customer.created",
        "customer.updated" => "customer.updated",
        "customer.deleted" => "customer.deleted",
        "order.created" => "order.created",
        "order.updated" => "order.updated",
        "subscription.created" => "subscription.created",
        "subscription.updated" => "subscription.updated",
        "invoice.payment_made" => "invoice.paid",
        _ => return format!("square.{native}"),
    };
    neutral.to_owned()
}

/// Normalizes one Square notification (Square never batches). The id is `event_id` (signed),
/// which Square names as the idempotency value of its redeliveries.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["event_id"]
        .as_str()
        .ok_or(NormalizeError::missing("event_id"))?;
    let native = body["type"]
        .as_str()
        .ok_or(NormalizeError::missing("type"))?;
    let data = &body["data"];
    let object = object(data);
    let mut event = Event::new(id, event_type(native)).meta("square_type", native);
    event = match (data["type"].as_str(), data["id"].as_str()) {
        (Some(kind), Some(oid)) => event.entity(kind, oid),
        _ => event.entity(native.split('.').next().unwrap_or(native), id),
    };
    let customer = if data["type"] == "customer" {
        data["id"].as_str()
    } else {
        object["customer_id"].as_str()
    };
    event = event.user(customer);
    if let Some(time) = body["created_at"].as_str() {
        event = event.occurred_at(time);
    }
    if let Some((amount, currency)) = ["amount_money", "total_money"]
        .iter()
        .find_map(|key| money(&object[*key]))
    {
        event = event.amount(amount, currency);
    }
    for (key, value) in [
        ("merchant_id", body["merchant_id"].as_str()),
        (
            "location_id",
            body["location_id"]
                .as_str()
                .or(object["location_id"].as_str()),
        ),
        (
            "status",
            object["status"].as_str().or(object["state"].as_str()),
        ),
        ("environment", req.header_text("square-environment")),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// The object a notification carries: `data.object.<data.type>` (`data.object.payment`), else
/// the only member of `data.object` (`order.updated` carries `order_updated`).
fn object(data: &Value) -> &Value {
    let inner = &data["object"];
    if let Some(kind) = data["type"].as_str()
        && inner.get(kind).is_some()
    {
        return &inner[kind];
    }
    match inner.as_object() {
        Some(map) if map.len() == 1 => map.values().next().unwrap_or(&Value::Null),
        _ => &Value::Null,
    }
}

/// A Square Money object: `{"amount": 200, "currency": "USD"}`.
fn money(value: &Value) -> Option<(i64, &str)> {
    Some((value["amount"].as_i64()?, value["currency"].as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("invoice.payment_made"), "invoice.paid");
        assert_eq!(event_type("order.updated"), "order.updated");
        assert_eq!(event_type("payment.updated"), "square.payment.updated");
        assert_eq!(event_type("refund.created"), "square.refund.created");
    }

    #[test]
    fn refunds_orders_and_test_notifications() {
        let refund = Request::post(
            r#"{"merchant_id":"M1","type":"refund.created","event_id":"e1","created_at":"2026-05-20T14:30:00Z","data":{"type":"refund","id":"R1","object":{"refund":{"id":"R1","amount_money":{"amount":150,"currency":"JPY"},"status":"PENDING","payment_id":"P1"}}}}"#,
        );
        let event = normalize(&refund).unwrap();
        assert_eq!(
            (event.amount, event.currency.as_deref()),
            (Some(150), Some("JPY"))
        );
        assert!(
            event
                .metadata
                .contains(&("status".into(), "PENDING".into()))
        );

        let order = Request::post(
            r#"{"merchant_id":"M1","type":"order.updated","event_id":"e2","data":{"type":"order","id":"O1","object":{"order_updated":{"order_id":"O1","state":"OPEN","location_id":"L1"}}}}"#,
        );
        let event = normalize(&order).unwrap();
        assert_eq!(event.event_type, "order.updated");
        assert!(event.metadata.contains(&("status".into(), "OPEN".into())));
        assert!(
            event
                .metadata
                .contains(&("location_id".into(), "L1".into()))
        );

        // Square's test notification (the SDK's signed example).
        let test = Request::post(
            r#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#,
        );
        let event = normalize(&test).unwrap();
        assert_eq!(event.event_type, "square.webhooks.test_notification");
        assert_eq!(event.entity_type.as_deref(), Some("webhooks"));
        assert_eq!(event.amount, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("[]")).is_err());
        assert!(normalize(&Request::post(r#"{"type":"payment.created"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event_id":"e"}"#)).is_err());
        let bare = normalize(&Request::post(
            r#"{"event_id":"e3","type":"oauth.authorization.revoked"}"#,
        ))
        .unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("oauth"), Some("e3"))
        );
    }
}
