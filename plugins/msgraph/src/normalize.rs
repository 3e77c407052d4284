//! Microsoft Graph change notification collection → normalized events: one per item of
//! `value[]`.
//!
//! A change item names its subscription, `changeType` (`created`, `updated`, `deleted`),
//! `resource` (a path relative to graph.microsoft.com) and, usually, `resourceData`
//! (`@odata.type`, `id`, `@odata.etag`); a lifecycle item (sent to the lifecycle URL, which may
//! be the same) has a `lifecycleEvent` instead. Basic notifications carry no event time.

use crate::verify::{CLIENT_STATE, items};
use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::Value;

/// The resource type of `#Microsoft.Graph.Message` / `#microsoft.graph.chatMessage`:
/// `message`, `chat_message`.
pub fn resource_type(odata_type: &str) -> Option<String> {
    let name = odata_type.rsplit('.').next()?.trim_start_matches('#');
    (!name.is_empty()).then(|| snake_case(name))
}

/// The event id of one item: Graph's optional notification `id` when present; else the hex
/// SHA-256, prefixed `sha256:`, of the fields that identify the notification and are the same
/// in a retry: subscription, change type (or lifecycle event), resource, the resource's etag
/// and the subscription's expiry, each followed by a newline. Two changes of one resource give
/// two ids only when an etag (or a renewed subscription) tells them apart.
pub fn item_id(item: &Value) -> String {
    if let Some(id) = item["id"].as_str().filter(|s| !s.is_empty()) {
        return id.to_owned();
    }
    let kind = item["changeType"]
        .as_str()
        .or(item["lifecycleEvent"].as_str());
    let fields = [
        item["subscriptionId"].as_str(),
        kind,
        item["resource"].as_str(),
        item["resourceData"]["@odata.etag"].as_str(),
        item["subscriptionExpirationDateTime"].as_str(),
    ];
    let mut text = String::new();
    for field in fields {
        text.push_str(field.unwrap_or(""));
        text.push('\n');
    }
    format!("sha256:{}", hex_encode(&sha256(&[text.as_bytes()])))
}

/// Normalizes one collection into its events.
pub fn normalize(req: &Request) -> Result<Vec<Event>, NormalizeError> {
    let body: Value = req.json()?;
    let items = items(&body).ok_or(NormalizeError::missing("value"))?;
    if items.is_empty() {
        return Err(NormalizeError::new("value is empty"));
    }
    items.iter().map(event).collect()
}

/// One notification item.
fn event(item: &Value) -> Result<Event, NormalizeError> {
    if !item.is_object() {
        return Err(NormalizeError::missing("value[]"));
    }
    let id = item_id(item);
    let subscription = item["subscriptionId"].as_str();
    let mut event = if let Some(lifecycle) = item["lifecycleEvent"].as_str() {
        let mut event = Event::new(&id, format!("msgraph.lifecycle.{}", snake_case(lifecycle)))
            .meta("lifecycle_event", lifecycle);
        if let Some(subscription) = subscription {
            event = event.entity("subscription", subscription);
        }
        event
    } else {
        let change = item["changeType"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or(NormalizeError::missing("value[].changeType"))?;
        let data = &item["resourceData"];
        let kind = data["@odata.type"].as_str().and_then(resource_type);
        let kind_or_resource = kind.as_deref().unwrap_or("resource");
        let mut event = Event::new(
            &id,
            format!("msgraph.{kind_or_resource}.{}", change.to_ascii_lowercase()),
        )
        .meta("change_type", change);
        if let Some(oid) = data["id"].as_str() {
            event = event.entity(kind_or_resource, oid);
        } else if let Some(resource) = item["resource"].as_str() {
            event = event.entity(kind_or_resource, resource);
        }
        if let Some(resource) = item["resource"].as_str() {
            event = event.meta("resource", resource);
        }
        event
    };
    if event.entity_id.is_none() {
        event = event.entity("msgraph", &id);
    }
    for (key, value) in [
        ("subscription_id", subscription),
        ("tenant_id", item["tenantId"].as_str()),
    ] {
        if let Some(value) = value {
            event = event.meta(key, value);
        }
    }
    // The stored payload is the item without its clientState: that is the source's secret,
    // and events are forwarded to routes and shown in the console.
    let mut payload = item.clone();
    if let Some(object) = payload.as_object_mut() {
        object.remove(CLIENT_STATE);
    }
    Ok(event.payload_json(&payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::serde_json::json;

    #[test]
    fn resource_types_come_from_the_odata_type() {
        assert_eq!(
            resource_type("#Microsoft.Graph.Message").as_deref(),
            Some("message")
        );
        assert_eq!(
            resource_type("#microsoft.graph.chatMessage").as_deref(),
            Some("chat_message")
        );
        assert_eq!(resource_type("#").as_deref(), None);
    }

    #[test]
    fn without_a_notification_id_the_id_is_derived_from_the_retried_fields() {
        let item = json!({
            "subscriptionId": "s1", "changeType": "updated", "resource": "me/events/e1",
            "subscriptionExpirationDateTime": "2026-01-01T00:00:00Z",
            "resourceData": {"@odata.etag": "W/\"1\""}
        });
        let id = item_id(&item);
        assert!(id.starts_with("sha256:") && id.len() == 7 + 64, "{id}");
        assert_eq!(item_id(&item.clone()), id);
        let mut next = item.clone();
        next["resourceData"]["@odata.etag"] = json!("W/\"2\"");
        assert_ne!(item_id(&next), id);
        let mut with_id = item;
        with_id["id"] = json!("lsgTZMr9KwAAA");
        assert_eq!(item_id(&with_id), "lsgTZMr9KwAAA");
    }

    #[test]
    fn lifecycle_items_are_about_their_subscription() {
        let req = Request::post(
            r#"{"value":[{"subscriptionId":"s1","subscriptionExpirationDateTime":"2019-03-20T11:00:00.0000000Z","tenantId":"t1","clientState":"x","lifecycleEvent":"reauthorizationRequired"}]}"#,
        );
        let events = normalize(&req).unwrap();
        assert_eq!(
            events[0].event_type,
            "msgraph.lifecycle.reauthorization_required"
        );
        assert_eq!(
            (
                events[0].entity_type.as_deref(),
                events[0].entity_id.as_deref()
            ),
            (Some("subscription"), Some("s1"))
        );
        assert!(events[0].platform_event_id.starts_with("sha256:"));
    }

    #[test]
    fn an_item_without_resource_data_is_about_its_resource() {
        let req = Request::post(
            r#"{"value":[{"subscriptionId":"s1","changeType":"deleted","resource":"me/events/e1","clientState":"x"}]}"#,
        );
        let e = &normalize(&req).unwrap()[0];
        assert_eq!(e.event_type, "msgraph.resource.deleted");
        assert_eq!(
            (e.entity_type.as_deref(), e.entity_id.as_deref()),
            (Some("resource"), Some("me/events/e1"))
        );
    }

    #[test]
    fn the_client_state_is_not_stored() {
        let req = Request::post(
            r#"{"value":[{"id":"n1","subscriptionId":"s1","changeType":"created","clientState":"secretClientValue"}]}"#,
        );
        let hookgate_sdk::event::Payload::Json(payload) = &normalize(&req).unwrap()[0].payload
        else {
            panic!("each item is its own payload");
        };
        assert!(!payload.contains("secretClientValue"), "{payload}");
        assert!(payload.contains(r#""id":"n1""#));
    }

    #[test]
    fn unusable_payloads_are_errors() {
        assert!(normalize(&Request::post("text")).is_err());
        assert!(normalize(&Request::post(r#"{"value":[]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"value":[1]}"#)).is_err());
        assert!(normalize(&Request::post(r#"{"value":[{"subscriptionId":"s"}]}"#)).is_err());
    }
}
