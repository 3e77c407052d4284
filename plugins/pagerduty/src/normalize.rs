//! PagerDuty v3 event → normalized event: `pagerduty.<event_type>` (`pagerduty.incident.
//! triggered`, `pagerduty.service.updated`, …), about `event.data` (an incident, incident note,
//! service, …). v3 payloads carry exactly one event; there are no amounts.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one PagerDuty webhook.
pub fn normalize(req: &Request) -> Result<Event, NormalizeError> {
    let body: Value = req.json()?;
    let inner = &body["event"];
    let id = inner["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event.id"))?;
    let native = inner["event_type"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("event.event_type"))?;
    let event_type = format!("pagerduty.{}", native.to_ascii_lowercase());
    let data = &inner["data"];
    let mut event = Event::new(id, event_type.as_str()).meta("pagerduty_event", native);
    event = match (data["type"].as_str(), data["id"].as_str()) {
        (Some(kind), Some(oid)) => event.entity(kind, oid),
        _ => event.entity(native.split('.').next().unwrap_or("pagerduty"), id),
    };
    if let Some(time) = inner["occurred_at"]
        .as_str()
        .filter(|t| parse_rfc3339(t).is_some())
    {
        event = event.occurred_at(time);
    }
    // The agent is whoever caused the event: a user, or an integration/service reference.
    let agent = &inner["agent"];
    if agent["type"].as_str() == Some("user_reference") {
        event = event.user(agent["id"].as_str());
    }
    let facts = [
        ("resource_type", &inner["resource_type"]),
        ("incident_id", &data["incident"]["id"]),
        ("service_id", &data["service"]["id"]),
        ("status", &data["status"]),
        ("urgency", &data["urgency"]),
        ("priority", &data["priority"]["summary"]),
    ];
    for (key, value) in facts {
        if let Some(text) = value.as_str() {
            event = event.meta(key, text);
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_event_without_agent() {
        let e = normalize(&Request::post(
            r#"{"event":{"id":"5ac64822-4adc-4fda-ade0-410becf0de4f","event_type":"service.updated",
                "resource_type":"service","occurred_at":"2020-10-02T18:45:22.169Z","agent":null,
                "data":{"id":"PF9KMXH","type":"service","summary":"API Service"}}}"#,
        ))
        .unwrap();
        assert_eq!(e.event_type, "pagerduty.service.updated");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("service"), Some("PF9KMXH"))
        );
        assert_eq!(e.occurred_at.as_deref(), Some("2020-10-02T18:45:22.169Z"));
        assert_eq!(e.user_id, None);
    }

    #[test]
    fn without_data_the_event_is_its_own_entity() {
        let e = normalize(&Request::post(
            r#"{"event":{"id":"01C","event_type":"pagey.ping","occurred_at":"yesterday"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("pagey"), Some("01C"))
        );
        assert_eq!(e.occurred_at, None);
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("")).is_err());
        assert!(normalize(&Request::post(r#"{"messages":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"event":{"id":"x"}}"#)).is_err());
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(
            parse_rfc3339("2021-04-26T17:36:27.458Z"),
            Some(1_619_458_587)
        );
        assert_eq!(
            parse_rfc3339("2021-04-26T19:36:27+02:00"),
            Some(1_619_458_587)
        );
        assert_eq!(parse_rfc3339("2021-04-26 17:36:27Z"), None);
        assert_eq!(parse_rfc3339("2021-04-26T17:36:27"), None);
    }
}
