//! Adyen notification → one event per `NotificationRequestItem`. Amounts arrive as integer
//! minor units *in Adyen's exponent*, which differs from ISO 4217 for a few currencies (CLP,
//! ISK: 2 decimals at Adyen; CVE, IDR: 0): they are rescaled to the ISO minor units hookgate's
//! events carry.

use hookgate_sdk::prelude::*;
use serde_json::{Map, Value};

/// The normalized type of an item: neutral for the payment lifecycle, else
/// `adyen.<event code>`, with `.failed` when Adyen reports `success: "false"`.
pub fn event_type(event_code: &str, success: bool) -> String {
    let neutral = match (event_code, success) {
        ("AUTHORISATION", true) => "payment.authorized",
        ("AUTHORISATION", false) => "payment.failed",
        ("CAPTURE", true) => "payment.completed",
        ("REFUND", true) => "payment.refunded",
        ("CANCELLATION", true) => "payment.canceled",
        (code, true) => return format!("adyen.{}", code.to_ascii_lowercase()),
        (code, false) => return format!("adyen.{}.failed", code.to_ascii_lowercase()),
    };
    neutral.to_owned()
}

/// Normalizes a notification: one event per item, in order.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    let live = text(&body["live"]);
    let elements = body["notificationItems"]
        .as_array()
        .ok_or(NormalizeError::missing("notificationItems"))?;
    if elements.is_empty() {
        return Err(NormalizeError::new("notificationItems is empty"));
    }
    elements
        .iter()
        .map(|element| {
            let item =
                element["NotificationRequestItem"]
                    .as_object()
                    .ok_or(NormalizeError::missing(
                        "notificationItems[].NotificationRequestItem",
                    ))?;
            event(item, live.as_deref())
        })
        .collect()
}

fn event(item: &Map<String, Value>, live: Option<&str>) -> Result<Event, NormalizeError> {
    let field = |key: &str| item.get(key).and_then(text);
    let psp = field("pspReference").ok_or(NormalizeError::missing("pspReference"))?;
    let code = field("eventCode").ok_or(NormalizeError::missing("eventCode"))?;
    let success = field("success");
    let id = match &success {
        Some(s) => format!("{psp}:{code}:{s}"),
        None => format!("{psp}:{code}"),
    };
    let succeeded = success.as_deref() == Some("true");
    let original = field("originalReference");
    let mut event = Event::new(id, event_type(&code, succeeded))
        .meta("event_code", code.as_str())
        .meta("psp_reference", psp.as_str());
    event = if code == "REPORT_AVAILABLE" {
        // The pspReference of a report notification is the report's file name.
        event.entity("report", psp.as_str())
    } else {
        // A modification's own reference is pspReference; the payment is originalReference.
        event.entity("payment", original.as_deref().unwrap_or(&psp))
    };
    if let Some(s) = &success {
        event = event.meta("success", s.as_str());
    }
    if let Some(original) = &original {
        event = event.meta("original_reference", original.as_str());
    }
    if let Some(at) = field("eventDate") {
        event = event.occurred_at(at);
    }
    event = event.user(
        item.get("additionalData")
            .and_then(|d| text(&d["shopperReference"])),
    );
    event = amount(event, item.get("amount"));
    for (key, name) in [
        ("merchantAccountCode", "merchant_account"),
        ("merchantReference", "merchant_reference"),
        ("paymentMethod", "payment_method"),
    ] {
        if let Some(value) = field(key) {
            event = event.meta(name, value);
        }
    }
    if let Some(live) = live {
        event = event.meta("live", live);
    }
    Ok(event.payload_json(&Value::Object(item.clone())))
}

/// Sets the item's amount in ISO minor units; one that cannot be expressed exactly in them
/// (CLP with cents) is left in `adyen_amount` instead of being rounded.
fn amount(event: Event, amount: Option<&Value>) -> Event {
    let Some(amount) = amount else {
        return event;
    };
    let (Some(value), Some(currency)) = (amount["value"].as_i64(), amount["currency"].as_str())
    else {
        return event;
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return event;
    }
    match iso_minor_units(value, currency) {
        Some(minor) => event.amount(minor, currency),
        None => event.meta("adyen_amount", format!("{value} {currency}")),
    }
}

/// Decimals Adyen uses for a currency (its currency-codes table, as its Java library's
/// `getDecimalPlaces`).
fn adyen_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "CVE" | "DJF" | "GNF" | "IDR" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// An Adyen minor-unit value in ISO 4217 minor units; `None` when that would need rounding or
/// overflows.
pub fn iso_minor_units(value: i64, currency: &str) -> Option<i64> {
    let (from, to) = (adyen_exponent(currency), currency_exponent(currency));
    if to >= from {
        value.checked_mul(10_i64.checked_pow(to - from)?)
    } else {
        let divisor = 10_i64.checked_pow(from - to)?;
        (value % divisor == 0).then_some(value / divisor)
    }
}

/// A scalar field as text (Adyen sends `success` and `live` as strings, but a boolean means
/// the same); `None` for absent, empty or structured values.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(item: Value) -> Event {
        let body =
            json!({"live": "true", "notificationItems": [{"NotificationRequestItem": item}]});
        let mut events = normalize(&Request::post(body.to_string())).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("AUTHORISATION", true), "payment.authorized");
        assert_eq!(event_type("AUTHORISATION", false), "payment.failed");
        assert_eq!(event_type("CAPTURE", true), "payment.completed");
        assert_eq!(event_type("CAPTURE", false), "adyen.capture.failed");
        assert_eq!(event_type("REFUND", true), "payment.refunded");
        assert_eq!(event_type("CANCELLATION", true), "payment.canceled");
        assert_eq!(event_type("CHARGEBACK", true), "adyen.chargeback");
        assert_eq!(
            event_type("REPORT_AVAILABLE", true),
            "adyen.report_available"
        );
    }

    #[test]
    fn a_batch_is_one_event_per_item_each_with_its_id_and_payload() {
        let body = json!({"live": "false", "notificationItems": [
            {"NotificationRequestItem": {"pspReference": "P1", "eventCode": "AUTHORISATION", "success": "true"}},
            {"NotificationRequestItem": {"pspReference": "P2", "originalReference": "P1", "eventCode": "REFUND", "success": "false"}},
        ]});
        let events = normalize(&Request::post(body.to_string())).unwrap();
        let ids: Vec<&str> = events
            .iter()
            .map(|e| e.platform_event_id.as_str())
            .collect();
        assert_eq!(ids, ["P1:AUTHORISATION:true", "P2:REFUND:false"]);
        assert_eq!(events[1].event_type, "adyen.refund.failed");
        assert_eq!(events[1].entity_id.as_deref(), Some("P1"));
        assert_eq!(
            events[1].payload,
            hookgate_sdk::event::Payload::Json(
                json!({"pspReference": "P2", "originalReference": "P1", "eventCode": "REFUND", "success": "false"})
                    .to_string()
            )
        );
    }

    #[test]
    fn amounts_are_rescaled_to_iso_minor_units() {
        assert_eq!(iso_minor_units(10_100, "EUR"), Some(10_100));
        assert_eq!(iso_minor_units(1_500, "JPY"), Some(1_500));
        assert_eq!(iso_minor_units(1_234, "KWD"), Some(1_234));
        // Adyen writes IDR and CVE without decimals, ISO with two.
        assert_eq!(iso_minor_units(15_000, "IDR"), Some(1_500_000));
        assert_eq!(iso_minor_units(500, "cve"), Some(50_000));
        // Adyen writes CLP and ISK with two decimals, ISO with none.
        assert_eq!(iso_minor_units(279_000, "ISK"), Some(2_790));
        assert_eq!(iso_minor_units(12_345, "CLP"), None);
        assert_eq!(iso_minor_units(i64::MAX, "IDR"), None);
        let e = one(
            json!({"pspReference": "P", "eventCode": "AUTHORISATION", "success": "true",
            "amount": {"value": 15000, "currency": "IDR"}}),
        );
        assert_eq!(
            (e.amount, e.currency.as_deref()),
            (Some(1_500_000), Some("IDR"))
        );
        let e = one(
            json!({"pspReference": "P", "eventCode": "AUTHORISATION", "success": "true",
            "amount": {"value": 12345, "currency": "CLP"}}),
        );
        assert_eq!((e.amount, e.currency), (None, None));
        assert!(
            e.metadata
                .contains(&("adyen_amount".into(), "12345 CLP".into()))
        );
    }

    #[test]
    fn entity_user_and_facts() {
        let e = one(
            json!({"pspReference": "rep.csv", "eventCode": "REPORT_AVAILABLE", "success": "true"}),
        );
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("report"), Some("rep.csv"))
        );
        let e = one(
            json!({"pspReference": "P", "eventCode": "AUTHORISATION", "success": true,
            "additionalData": {"shopperReference": "shopper-1"}}),
        );
        assert_eq!(e.platform_event_id, "P:AUTHORISATION:true");
        assert_eq!(e.event_type, "payment.authorized");
        assert_eq!(e.user_id.as_deref(), Some("shopper-1"));
        assert!(e.metadata.contains(&("live".into(), "true".into())));
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("not json")).is_err());
        assert!(normalize(&Request::post(r#"{"notificationItems":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"notificationItems":[{"X":{}}]}"#)).is_err());
        let no_code = r#"{"notificationItems":[{"NotificationRequestItem":{"pspReference":"P"}}]}"#;
        assert!(normalize(&Request::post(no_code)).is_err());
    }
}
