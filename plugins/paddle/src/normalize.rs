//! Paddle Billing notification → normalized event. Paddle's amounts are strings of integers
//! in the currency's lowest denomination (`"65215"` USD is 652.15), so they are read as
//! integers, never as decimals or floats.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Maps a Paddle event type to hookgate's neutral type where one exists.
pub fn event_type(native: &str) -> String {
    let neutral = match native {
        "transaction.completed" => "payment.completed",
        "transaction.payment_failed" => "payment.failed",
        "customer.created" => "customer.created",
        "customer.updated" => "customer.updated",
        "subscription.created" => "subscription.created",
        "subscription.updated" => "subscription.updated",
        "subscription.canceled" => "subscription.canceled",
        _ => return format!("paddle.{native}"),
    };
    neutral.to_owned()
}

/// Normalizes one Paddle notification (Paddle never batches). The id is `event_id` (signed),
/// the same for every destination and delivery of the event.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let id = body["event_id"]
        .as_str()
        .ok_or(NormalizeError::missing("event_id"))?;
    let native = body["event_type"]
        .as_str()
        .ok_or(NormalizeError::missing("event_type"))?;
    let data = &body["data"];
    let kind = native.split('.').next().unwrap_or(native);
    let mut event = Event::new(id, event_type(native)).meta("paddle_type", native);
    event = match data["id"].as_str() {
        Some(object) => event.entity(kind, object),
        None => event.entity(kind, id),
    };
    let customer = if kind == "customer" {
        data["id"].as_str()
    } else {
        data["customer_id"].as_str()
    };
    event = event.user(customer);
    if let Some(time) = body["occurred_at"].as_str() {
        event = event.occurred_at(time);
    }
    if let Some((amount, currency)) = amount(data)? {
        event = event.amount(amount, currency);
    }
    for (key, value) in [
        ("notification_id", body["notification_id"].as_str()),
        ("status", data["status"].as_str()),
        ("subscription_id", data["subscription_id"].as_str()),
        ("origin", data["origin"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// The event's amount and currency: a transaction's `details.totals.grand_total` (what is due
/// after credits; else `total`), an adjustment's `totals.total`, a payout's `amount`. A present
/// amount that is not an integer string is an error, not a silently missing amount.
fn amount(data: &Value) -> Result<Option<(i64, &str)>, NormalizeError> {
    let totals = &data["details"]["totals"];
    let candidates = [
        (
            &totals["grand_total"],
            totals["currency_code"]
                .as_str()
                .or(data["currency_code"].as_str()),
        ),
        (
            &totals["total"],
            totals["currency_code"]
                .as_str()
                .or(data["currency_code"].as_str()),
        ),
        (
            &data["totals"]["total"],
            data["totals"]["currency_code"]
                .as_str()
                .or(data["currency_code"].as_str()),
        ),
        (&data["amount"], data["currency_code"].as_str()),
    ];
    for (value, currency) in candidates {
        let (Some(text), Some(currency)) = (value.as_str(), currency) else {
            continue;
        };
        return minor_units(text)
            .map(|amount| Some((amount, currency)))
            .ok_or_else(|| {
                NormalizeError::new(format!("amount {text:?} is not an integer string"))
            });
    }
    Ok(None)
}

/// `"65215"` → 65215; an optional `-`, then ASCII digits only.
fn minor_units(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("transaction.completed"), "payment.completed");
        assert_eq!(event_type("subscription.canceled"), "subscription.canceled");
        assert_eq!(
            event_type("adjustment.created"),
            "paddle.adjustment.created"
        );
    }

    #[test]
    fn amounts_are_integer_strings_in_minor_units() {
        assert_eq!(minor_units("65215"), Some(65215));
        assert_eq!(minor_units("-500"), Some(-500));
        for bad in ["", "6.52", "1e3", "+5", " 5", "99999999999999999999"] {
            assert_eq!(minor_units(bad), None, "{bad}");
        }
        let refund = Request::post(
            r#"{"event_id":"evt_1","event_type":"adjustment.created","data":{"id":"adj_1","action":"refund","currency_code":"JPY","totals":{"total":"1500","currency_code":"JPY"}}}"#,
        );
        let event = normalize(&refund).unwrap();
        assert_eq!(
            (event.amount, event.currency.as_deref()),
            (Some(1500), Some("JPY"))
        );
        assert_eq!(event.entity_type.as_deref(), Some("adjustment"));
        let payout = Request::post(
            r#"{"event_id":"evt_2","event_type":"payout.paid","data":{"id":"pay_1","amount":"10000","currency_code":"EUR"}}"#,
        );
        assert_eq!(normalize(&payout).unwrap().amount, Some(10000));
        let bad = Request::post(
            r#"{"event_id":"evt_3","event_type":"payout.paid","data":{"amount":"100.5","currency_code":"EUR"}}"#,
        );
        assert!(normalize(&bad).is_err());
    }

    #[test]
    fn customers_and_missing_fields() {
        let customer = Request::post(
            r#"{"event_id":"evt_4","event_type":"customer.created","data":{"id":"ctm_1","email":"a@example.com"}}"#,
        );
        let event = normalize(&customer).unwrap();
        assert_eq!(event.event_type, "customer.created");
        assert_eq!(event.user_id.as_deref(), Some("ctm_1"));
        assert_eq!(event.amount, None);
        assert!(normalize(&Request::post(r#"{"event_type":"x.y"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event_id":"evt_5"}"#)).is_err());
        // No data.id: the entity is the event itself.
        let bare = normalize(&Request::post(
            r#"{"event_id":"evt_6","event_type":"report.updated"}"#,
        ))
        .unwrap();
        assert_eq!(
            (bare.entity_type.as_deref(), bare.entity_id.as_deref()),
            (Some("report"), Some("evt_6"))
        );
    }
}
