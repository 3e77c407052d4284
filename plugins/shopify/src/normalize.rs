//! Shopify topic + payload → normalized event. Prices are decimal strings (`"19.99"`): they are
//! converted to minor units exactly, digit by digit.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// Maps a Shopify topic (`orders/create`) to a normalized type.
pub fn event_type(topic: &str) -> String {
    let neutral = match topic {
        "orders/create" => "order.created",
        "orders/updated" | "orders/edited" => "order.updated",
        "orders/cancelled" => "order.cancelled",
        "orders/fulfilled" => "order.fulfilled",
        "orders/paid" => "payment.completed",
        "refunds/create" => "payment.refunded",
        "customers/create" => "customer.created",
        "customers/update" => "customer.updated",
        "customers/delete" => "customer.deleted",
        "products/create" => "product.created",
        "products/update" => "product.updated",
        "products/delete" => "product.deleted",
        _ => return format!("shopify.{}", topic.replace('/', ".")),
    };
    neutral.to_owned()
}

/// Normalizes one Shopify webhook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let topic = req
        .header_text("x-shopify-topic")
        .ok_or(NormalizeError::missing("X-Shopify-Topic header"))?;
    let id = req
        .header_text("x-shopify-event-id")
        .or_else(|| req.header_text("x-shopify-webhook-id"))
        .ok_or(NormalizeError::missing(
            "X-Shopify-Event-Id or X-Shopify-Webhook-Id header",
        ))?;
    let body: Value = req.json()?;
    let mut event = Event::new(id, event_type(topic)).meta("topic", topic);
    if let Some(at) = req.header_text("x-shopify-triggered-at") {
        event = event.occurred_at(at);
    } else if let Some(at) = body["updated_at"].as_str().or(body["created_at"].as_str()) {
        event = event.occurred_at(at);
    }
    let kind = topic
        .split('/')
        .next()
        .unwrap_or(topic)
        .trim_end_matches('s');
    if let Some(oid) = number_or_string(&body["id"]) {
        event = event.entity(kind, oid);
    }
    let customer = if kind == "customer" {
        number_or_string(&body["id"])
    } else {
        number_or_string(&body["customer"]["id"])
    };
    event = event.user(customer);
    let price = body["total_price"].as_str().or(body["amount"].as_str());
    if let (Some(price), Some(currency)) = (price, body["currency"].as_str()) {
        let minor = decimal_to_minor_units(price, currency).map_err(NormalizeError::new)?;
        event = event.amount(minor, currency);
    }
    if let Some(shop) = req.header_text("x-shopify-shop-domain") {
        event = event.meta("shop_domain", shop);
    }
    if let Some(v) = req.header_text("x-shopify-api-version") {
        event = event.meta("api_version", v);
    }
    Ok(event)
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

    #[test]
    fn id_falls_back_to_webhook_id_never_a_timestamp() {
        let req = Request::post(r#"{"id":1}"#)
            .with_header("X-Shopify-Topic", "app/uninstalled")
            .with_header("X-Shopify-Webhook-Id", "wh-1")
            .with_header("X-Shopify-Triggered-At", "2023-03-29T18:00:27Z");
        let event = normalize(&req).unwrap();
        assert_eq!(event.platform_event_id, "wh-1");
        assert_eq!(event.event_type, "shopify.app.uninstalled");
        let no_id = Request::post(r#"{"id":1}"#).with_header("X-Shopify-Topic", "orders/create");
        assert!(normalize(&no_id).is_err());
    }

    #[test]
    fn imprecise_price_is_an_error_not_a_rounding() {
        let req = Request::post(r#"{"id":1,"total_price":"10.005","currency":"USD"}"#)
            .with_header("X-Shopify-Topic", "orders/create")
            .with_header("X-Shopify-Event-Id", "e1");
        assert!(normalize(&req).is_err());
    }
}
