//! HubSpot batch → one normalized event per array element: `hubspot.<subscriptionType>` in
//! snake case (`hubspot.contact.creation`, `hubspot.deal.property_change`), about the CRM
//! object (`objectId`, of the type the subscription names). HubSpot contacts, companies and
//! deals are CRM records at any lifecycle stage (a lead is no customer), so no neutral type is
//! claimed for them. There are no amounts: a deal's amount arrives only as a property change's
//! string value, without its currency.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Normalizes one HubSpot request (a JSON array of events).
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    let items = match &body {
        Value::Array(items) => items.as_slice(),
        // HubSpot always sends an array; a lone object is taken as a batch of one.
        Value::Object(_) => std::slice::from_ref(&body),
        _ => return Err(NormalizeError::missing("the array of events")),
    };
    if items.is_empty() {
        return Err(NormalizeError::new("the batch holds no event"));
    }
    items.iter().map(event).collect()
}

/// One element of the batch.
fn event(item: &Value) -> Result<Event, NormalizeError> {
    let native = item["subscriptionType"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or(NormalizeError::missing("subscriptionType"))?;
    let id = event_id(item)?;
    let event_type = format!("hubspot.{}", snake_case(native));
    let object_type = event_type
        .strip_prefix("hubspot.")
        .and_then(|t| t.split('.').next())
        .unwrap_or("hubspot")
        .to_owned();
    let mut event = Event::new(id.clone(), event_type)
        .meta("subscription_type", native)
        .payload_json(item);
    let object = ["objectId", "primaryObjectId", "fromObjectId"]
        .iter()
        .find_map(|key| text(&item[*key]));
    event = match object {
        Some(object_id) => event.entity(object_type, object_id),
        None => event.entity("hubspot", id),
    };
    if let Some(millis) = item["occurredAt"].as_i64() {
        event = event.occurred_at_unix(millis.div_euclid(1000));
    }
    for (key, field) in [
        ("portal_id", "portalId"),
        ("app_id", "appId"),
        ("subscription_id", "subscriptionId"),
        ("property_name", "propertyName"),
        ("change_source", "changeSource"),
    ] {
        if let Some(value) = text(&item[field]) {
            event = event.meta(key, value);
        }
    }
    Ok(event)
}

/// `<portalId>:<subscriptionId>:<eventId>[:<objectId>]`: HubSpot documents `eventId` alone as
/// not guaranteed unique; none of these changes on a retry (`attemptNumber` does, and is left
/// out).
fn event_id(item: &Value) -> Result<String, NormalizeError> {
    let part = |key: &str| text(&item[key]).ok_or(NormalizeError::missing(key));
    let mut id = format!(
        "{}:{}:{}",
        part("portalId")?,
        part("subscriptionId")?,
        part("eventId")?
    );
    if let Some(object) = text(&item["objectId"]) {
        id = format!("{id}:{object}");
    }
    Ok(id)
}

/// A number or non-empty string as text (HubSpot ids are integers).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(body: &str) -> Vec<Event> {
        normalize(&Request::post(body.to_owned())).unwrap()
    }

    #[test]
    fn type_names_in_snake_case() {
        assert_eq!(snake_case("contact.creation"), "contact.creation");
        assert_eq!(
            snake_case("contact.propertyChange"),
            "contact.property_change"
        );
        assert_eq!(
            snake_case("company.associationChange"),
            "company.association_change"
        );
        assert_eq!(
            snake_case("contact.privacyDeletion"),
            "contact.privacy_deletion"
        );
        assert_eq!(
            snake_case("conversation.newMessage"),
            "conversation.new_message"
        );
        assert_eq!(snake_case("line_item.creation"), "line_item.creation");
    }

    #[test]
    fn one_event_per_element_with_its_own_id_and_payload() {
        let e = events(
            r#"[{"eventId":100,"subscriptionId":1234,"portalId":62515,"appId":54321,"occurredAt":1711234567890,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"lifecyclestage","propertyValue":"customer","changeSource":"CRM"},
                {"eventId":100,"subscriptionId":1235,"portalId":62515,"appId":54321,"occurredAt":1711234567891,"subscriptionType":"deal.creation","attemptNumber":2,"objectId":77}]"#,
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].platform_event_id, "62515:1234:100:123");
        assert_eq!(e[0].event_type, "hubspot.contact.property_change");
        assert_eq!(
            (e[0].entity_type.as_deref(), e[0].entity_id.as_deref()),
            (Some("contact"), Some("123"))
        );
        assert_eq!(e[0].occurred_at.as_deref(), Some("2024-03-23T22:56:07Z"));
        assert!(
            e[0].metadata
                .contains(&("property_name".into(), "lifecyclestage".into()))
        );
        assert_eq!(e[1].platform_event_id, "62515:1235:100:77");
        assert_eq!(e[1].entity_type.as_deref(), Some("deal"));
        assert_eq!(
            e[1].to_json()["payload"]["attemptNumber"],
            serde_json::json!(2)
        );
    }

    #[test]
    fn a_retry_keeps_the_ids() {
        let attempt = |n: u32| {
            events(&format!(
                r#"[{{"eventId":1,"subscriptionId":12345,"portalId":62515,"subscriptionType":"contact.creation","attemptNumber":{n},"objectId":123}}]"#
            ))
            .remove(0)
            .platform_event_id
        };
        assert_eq!(attempt(0), attempt(3));
    }

    #[test]
    fn a_merge_is_about_the_primary_record() {
        let e = events(
            r#"[{"eventId":7,"subscriptionId":9,"portalId":62515,"subscriptionType":"contact.merge","primaryObjectId":123,"mergedObjectIds":[124],"newObjectId":125}]"#,
        );
        assert_eq!(e[0].platform_event_id, "62515:9:7");
        assert_eq!(e[0].entity_id.as_deref(), Some("123"));
    }

    #[test]
    fn unusable_batches_are_errors() {
        assert!(normalize(&Request::post("[]")).is_err());
        assert!(normalize(&Request::post("5")).is_err());
        assert!(
            normalize(&Request::post(
                r#"[{"eventId":1,"subscriptionId":1,"portalId":1}]"#
            ))
            .is_err()
        );
        assert!(
            normalize(&Request::post(
                r#"[{"subscriptionType":"contact.creation","eventId":1}]"#
            ))
            .is_err()
        );
    }
}
