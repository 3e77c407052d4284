//! Calendly webhook → normalized event: `calendly.<event>`, the resource at `payload.uri`.
//! A paid booking's `payload.payment.amount` is a JSON number in major units (`1234.56`); it
//! is converted from its decimal text, digit by digit, never through float arithmetic.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `invitee.created` → `calendly.invitee.created`. Calendly's events have no platform-neutral
/// names.
pub fn event_type(event: &str) -> String {
    format!("calendly.{}", event.trim().to_ascii_lowercase())
}

/// Normalizes one Calendly webhook (Calendly never batches).
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let name = body["event"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event"))?;
    let created_at = body["created_at"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("created_at"))?;
    let payload = &body["payload"];
    let uri = payload["uri"].as_str().filter(|s| !s.is_empty());
    // A payload without its URI (none documented) is told apart by its bytes.
    let resource = uri.map_or_else(
        || format!("sha256:{}", hex_encode(&sha256(&[&req.body]))),
        str::to_owned,
    );
    let id = format!("{name}:{resource}:{created_at}");
    let event_type = event_type(name);
    let mut event = Event::new(id.as_str(), event_type.as_str())
        .meta("event", name)
        .occurred_at(created_at);
    let kind = name.split('.').next().unwrap_or("calendly");
    event = match uri {
        Some(uri) => event.entity(kind, uri),
        None => event.entity("calendly", id),
    };
    event = event.user(payload["email"].as_str().filter(|s| !s.is_empty()));
    event = payment(event, &payload["payment"]);
    let scheduled = payload["scheduled_event"]["uri"]
        .as_str()
        .or(payload["event"].as_str());
    for (name, value) in [
        ("scheduled_event", scheduled),
        ("status", payload["status"].as_str()),
        ("created_by", body["created_by"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(name, value);
        }
    }
    if let Some(rescheduled) = payload["rescheduled"].as_bool() {
        event = event.meta("rescheduled", rescheduled.to_string());
    }
    Ok(event)
}

/// The booking's payment, when it has one. An amount that is not a plain decimal in the
/// currency's precision is kept as text in `payment_amount` instead of rounded.
fn payment(event: Event, payment: &Value) -> Event {
    let (Some(amount), Some(currency)) = (payment.get("amount"), payment["currency"].as_str())
    else {
        return event;
    };
    let text = match amount {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return event,
    };
    let valid_currency = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_alphabetic());
    match decimal_to_minor_units(&text, currency) {
        Ok(minor) if valid_currency => event.amount(minor, currency),
        _ => event.meta("payment_amount", format!("{text} {currency}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        assert_eq!(event_type("invitee.canceled"), "calendly.invitee.canceled");
        assert_eq!(
            event_type("routing_form_submission.created"),
            "calendly.routing_form_submission.created"
        );
    }

    #[test]
    fn a_cancellation_of_a_booking_has_its_own_id() {
        let body = |event: &str, at: &str| {
            format!(
                r#"{{"event":"{event}","created_at":"{at}","payload":{{"uri":"https://api.calendly.com/scheduled_events/E/invitees/I"}}}}"#
            )
        };
        let created = normalize(&Request::post(body(
            "invitee.created",
            "2020-11-23T17:51:19.000000Z",
        )))
        .unwrap();
        let canceled = normalize(&Request::post(body(
            "invitee.canceled",
            "2020-11-24T09:00:00.000000Z",
        )))
        .unwrap();
        assert_ne!(created.platform_event_id, canceled.platform_event_id);
        assert_eq!(created.entity_id, canceled.entity_id);
        assert_eq!(created.entity_type.as_deref(), Some("invitee"));
    }

    #[test]
    fn payments_in_major_units_become_minor_units() {
        let paid = |amount: &str, currency: &str| {
            let body = format!(
                r#"{{"event":"invitee.created","created_at":"2020-11-23T17:51:19Z","payload":{{"uri":"u","payment":{{"amount":{amount},"currency":"{currency}"}}}}}}"#
            );
            normalize(&Request::post(body)).unwrap()
        };
        let e = paid("1234.56", "USD");
        assert_eq!(
            (e.amount, e.currency.as_deref()),
            (Some(123_456), Some("USD"))
        );
        assert_eq!(paid("25", "EUR").amount, Some(2500));
        assert_eq!(paid("0.1", "EUR").amount, Some(10));
        assert_eq!(paid("1500", "JPY").amount, Some(1500));
        let odd = paid("12.345", "USD");
        assert_eq!(odd.amount, None);
        assert!(
            odd.metadata
                .contains(&("payment_amount".into(), "12.345 USD".into()))
        );
    }

    #[test]
    fn missing_fields_are_errors() {
        assert!(normalize(&Request::post(r#"{"created_at":"x"}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event":"invitee.created"}"#)).is_err());
        let bare = normalize(&Request::post(
            r#"{"event":"contact.deleted","created_at":"2024-01-01T00:00:00Z","payload":{}}"#,
        ))
        .unwrap();
        assert!(
            bare.platform_event_id
                .starts_with("contact.deleted:sha256:")
        );
        assert_eq!(bare.entity_type.as_deref(), Some("calendly"));
    }
}
