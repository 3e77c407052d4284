//! Intake: the one conversion from a verified request to the records the store persists, each
//! new event with the routes it goes to (a delivery job each, created in the same transaction).
//! A verified payload that cannot be normalized becomes a dead-lettered record, never a drop.

use super::routes::RouteTable;
use crate::model::time::normalize_rfc3339;
use crate::model::{
    Envelope, EventRecord, EventStatus, NewEvents, UNNORMALIZED_TYPE, event_id, rfc3339_ms, unix_ms,
};
use crate::runtime::{Payload, PluginEvent, Verified};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Turns a verified request into records: one per normalized event, or a single
/// dead-lettered record carrying the normalization error.
pub fn intake(
    source: &str,
    platform: &str,
    verified: Verified,
    received_at: SystemTime,
    table: &RouteTable,
) -> NewEvents {
    let received_at_ms = unix_ms(received_at);
    let (request, normalized) = verified.into_parts();
    let body = request.body;
    let (records, routes) = match normalized {
        Ok(events) if !events.is_empty() => {
            let mut body = Some(body);
            let count = events.len();
            events
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    // The body moves into the last event that uses it; earlier ones copy.
                    let payload = match &e.payload {
                        Payload::Json(text) => text.clone().into_bytes(),
                        Payload::WholeBody if i + 1 == count => body.take().unwrap_or_default(),
                        Payload::WholeBody => body.clone().unwrap_or_default(),
                    };
                    record(source, platform, e, payload, received_at_ms, table)
                })
                .unzip()
        }
        Ok(_) => {
            let reason = "plugin returned no events".to_owned();
            (
                vec![dead_letter(source, platform, body, reason, received_at_ms)],
                vec![Vec::new()],
            )
        }
        Err(reason) => (
            vec![dead_letter(source, platform, body, reason, received_at_ms)],
            vec![Vec::new()],
        ),
    };
    NewEvents::from_records(records, routes)
}

fn record(
    source: &str,
    platform: &str,
    e: PluginEvent,
    payload: Vec<u8>,
    received_at_ms: i64,
    table: &RouteTable,
) -> (EventRecord, Vec<String>) {
    let id = event_id(source, &e.platform_event_id);
    let occurred_at = e
        .occurred_at
        .as_deref()
        .and_then(normalize_rfc3339)
        .unwrap_or_else(|| rfc3339_ms(received_at_ms));
    let envelope = Envelope {
        id: id.clone(),
        source: source.to_owned(),
        platform: platform.to_owned(),
        event_type: e.event_type.clone(),
        occurred_at,
        entity_id: e.entity_id,
        entity_type: e.entity_type,
        user_id: e.user_id,
        amount: e.amount,
        currency: e.currency.map(|c| c.to_ascii_uppercase()),
        metadata: e.metadata.into_iter().collect(),
    };
    let envelope_json = serde_json::to_string(&envelope).expect("envelopes always serialize");
    let routes = table.routes_for(&envelope, &envelope_json, &payload);
    let record = EventRecord {
        id,
        source: source.to_owned(),
        platform_event_id: e.platform_event_id,
        event_type: e.event_type,
        status: EventStatus::Pending,
        error: None,
        received_at_ms,
        envelope: envelope_json,
        payload,
    };
    (record, routes)
}

fn dead_letter(
    source: &str,
    platform: &str,
    body: Vec<u8>,
    reason: String,
    received_at_ms: i64,
) -> EventRecord {
    // No platform id is available, so the body's hash stands in: a redelivery of the same
    // broken payload is still recognised as a duplicate.
    let platform_event_id = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
    let id = event_id(source, &platform_event_id);
    let envelope = Envelope {
        id: id.clone(),
        source: source.to_owned(),
        platform: platform.to_owned(),
        event_type: UNNORMALIZED_TYPE.to_owned(),
        occurred_at: rfc3339_ms(received_at_ms),
        entity_id: None,
        entity_type: None,
        user_id: None,
        amount: None,
        currency: None,
        metadata: BTreeMap::new(),
    };
    EventRecord {
        id,
        source: source.to_owned(),
        platform_event_id,
        event_type: UNNORMALIZED_TYPE.to_owned(),
        status: EventStatus::DeadLettered,
        error: Some(format!("normalization failed: {reason}")),
        received_at_ms,
        envelope: serde_json::to_string(&envelope).expect("envelopes always serialize"),
        payload: body,
    }
}
