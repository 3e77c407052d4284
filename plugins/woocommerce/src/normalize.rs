//! WooCommerce topic + resource → normalized event. The body is the resource as WooCommerce's
//! REST API writes it (`{"id":N}` only, for a deletion); order totals are decimal strings with
//! the store's number of decimals, converted exactly to the minor units of the order's
//! currency.

use crate::verify::{DELIVERY_ID, TOPIC};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// How many hex digits of the body's SHA-256 go into the event id (128 bits).
const BODY_HASH_HEX_DIGITS: usize = 32;

/// Maps a WooCommerce topic (`order.created`) to a normalized type. Orders, customers and
/// products keep their names, which are already the neutral ones; coupons and custom
/// `action.*` topics are WooCommerce's own.
pub fn event_type(topic: &str) -> String {
    let topic = topic.to_ascii_lowercase();
    match topic.split_once('.') {
        Some(("order" | "customer" | "product", _)) => topic,
        _ => format!("woocommerce.{topic}"),
    }
}

/// Normalizes one WooCommerce delivery (WooCommerce never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let topic = req
        .header_text(TOPIC)
        .ok_or(NormalizeError::missing("X-WC-Webhook-Topic header"))?;
    let body: Value = req.json()?;
    let digest = hex_encode(&sha256(&[&req.body]));
    let id = format!(
        "{topic}:{}",
        digest.get(..BODY_HASH_HEX_DIGITS).unwrap_or(&digest)
    );
    let event_type = event_type(topic);
    let (resource, action) = topic.split_once('.').unwrap_or((topic, ""));
    let resource = req
        .header_text("x-wc-webhook-resource")
        .unwrap_or(resource)
        .to_ascii_lowercase();
    let mut event = Event::new(id.clone(), event_type.clone()).meta("topic", topic);
    event = match (resource.as_str(), number_or_string(&body["id"])) {
        ("action", _) | (_, None) => {
            let first = event_type.split('.').next().unwrap_or("woocommerce");
            event.entity(first, id)
        }
        (kind, Some(oid)) => event.entity(kind, oid),
    };
    if let Some(at) = occurred_at(&body, action) {
        event = event.occurred_at(at);
    }
    event = match resource.as_str() {
        "order" => order(event, &body)?,
        "customer" => event.user(number_or_string(&body["id"])),
        _ => event,
    };
    if let Some(hook) = body["action"].as_str() {
        event = event.meta("action", hook);
    }
    if let Some(status) = body["status"].as_str() {
        event = event.meta("status", status);
    }
    for (header, name) in [
        ("x-wc-webhook-id", "webhook_id"),
        (DELIVERY_ID, "delivery_id"),
        ("x-wc-webhook-source", "source"),
    ] {
        if let Some(value) = req.header_text(header) {
            event = event.meta(name, value);
        }
    }
    Ok(event)
}

/// An order's total and customer. A total with more non-zero decimals than its currency has
/// (a store set to 3 decimals, selling in USD) is kept as text in `total` instead of rounded.
fn order(mut event: Event, body: &Value) -> Result<Event, NormalizeError> {
    let customer = number_or_string(&body["customer_id"]).filter(|id| id != "0");
    event = event.user(customer);
    if let Some(number) = body["number"].as_str() {
        event = event.meta("order_number", number);
    }
    let (Some(total), Some(currency)) = (body["total"].as_str(), body["currency"].as_str()) else {
        return Ok(event);
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(NormalizeError::new(format!(
            "order currency {currency:?} is not an ISO 4217 code"
        )));
    }
    Ok(match decimal_to_minor_units(total, currency) {
        Ok(minor) => event.amount(minor, currency),
        Err(_) => event.meta("total", format!("{total} {currency}")),
    })
}

/// When the event happened: the resource's creation for `created`, its last change otherwise.
/// WooCommerce writes the `_gmt` fields in UTC without an offset.
fn occurred_at(body: &Value, action: &str) -> Option<String> {
    let field = if action == "created" {
        "date_created_gmt"
    } else {
        "date_modified_gmt"
    };
    let text = body[field].as_str().filter(|t| !t.is_empty())?;
    let bare = text.len() == 19 && text.as_bytes().get(10) == Some(&b'T');
    Some(if bare {
        format!("{text}Z")
    } else {
        text.to_owned()
    })
}

fn number_or_string(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(topic: &str, body: &str) -> Request {
        Request::post(body)
            .with_header("X-WC-Webhook-Topic", topic)
            .with_header(
                "X-WC-Webhook-Delivery-ID",
                "5b0f6e2c1d9a4a3f8c7e2b1a0d9c8e7f",
            )
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("order.created"), "order.created");
        assert_eq!(event_type("order.restored"), "order.restored");
        assert_eq!(event_type("customer.updated"), "customer.updated");
        assert_eq!(event_type("product.deleted"), "product.deleted");
        assert_eq!(event_type("coupon.created"), "woocommerce.coupon.created");
        assert_eq!(
            event_type("action.woocommerce_order_status_completed"),
            "woocommerce.action.woocommerce_order_status_completed"
        );
    }

    #[test]
    fn the_id_is_the_topic_and_the_body_not_the_delivery_id() {
        let a = normalize(&delivery(
            "order.updated",
            r#"{"id":1,"status":"processing"}"#,
        ))
        .unwrap();
        let b = normalize(
            &delivery("order.updated", r#"{"id":1,"status":"processing"}"#)
                .with_header("X-WC-Webhook-Delivery-ID", "other"),
        )
        .unwrap();
        assert_eq!(a.platform_event_id, b.platform_event_id);
        assert!(a.platform_event_id.starts_with("order.updated:"));
        assert_eq!(a.platform_event_id.len(), "order.updated:".len() + 32);
        let created = normalize(&delivery(
            "order.created",
            r#"{"id":1,"status":"processing"}"#,
        ));
        assert_ne!(created.unwrap().platform_event_id, a.platform_event_id);
        let changed = normalize(&delivery(
            "order.updated",
            r#"{"id":1,"status":"completed"}"#,
        ));
        assert_ne!(changed.unwrap().platform_event_id, a.platform_event_id);
    }

    #[test]
    fn totals_in_the_store_precision_are_minor_units_of_the_currency() {
        let yen = r#"{"id":2,"currency":"JPY","total":"1500.00","customer_id":7}"#;
        let e = normalize(&delivery("order.created", yen)).unwrap();
        assert_eq!((e.amount, e.currency.as_deref()), (Some(1500), Some("JPY")));
        assert_eq!(e.user_id.as_deref(), Some("7"));
        let guest = r#"{"id":3,"currency":"USD","total":"10.50","customer_id":0}"#;
        let e = normalize(&delivery("order.created", guest)).unwrap();
        assert_eq!((e.amount, e.user_id), (Some(1050), None));
        let precise = r#"{"id":4,"currency":"USD","total":"10.505"}"#;
        let e = normalize(&delivery("order.created", precise)).unwrap();
        assert_eq!(e.amount, None);
        assert!(e.metadata.contains(&("total".into(), "10.505 USD".into())));
        let bad = r#"{"id":5,"currency":"$","total":"1.00"}"#;
        assert!(normalize(&delivery("order.created", bad)).is_err());
    }

    #[test]
    fn deletions_and_actions() {
        let e = normalize(&delivery("order.deleted", r#"{"id":727}"#)).unwrap();
        assert_eq!(e.event_type, "order.deleted");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("order"), Some("727"))
        );
        assert_eq!(e.occurred_at, None);
        let body = r#"{"action":"woocommerce_order_status_completed","arg":727}"#;
        let e = normalize(&delivery("action.woocommerce_order_status_completed", body)).unwrap();
        assert_eq!(e.entity_type.as_deref(), Some("woocommerce"));
        assert_eq!(e.entity_id.as_deref(), Some(e.platform_event_id.as_str()));
        assert!(
            e.metadata
                .contains(&("action".into(), "woocommerce_order_status_completed".into()))
        );
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("{}")).is_err());
        assert!(normalize(&delivery("order.created", "webhook_id=1")).is_err());
    }
}
