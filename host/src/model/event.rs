//! hookgate's normalized event schema: the envelope actions receive, the record the store
//! keeps, and the id that makes a redelivery recognisable.
//!
//! Event ids are derived, not random: `evt_` + the first 128 bits of
//! SHA-256(source, platform event id). A redelivery therefore has the same id on every node and
//! after every restart, which is what makes duplicate detection a plain unique key.

use super::ids::{EventId, event_id};
use super::names::schedule_source;
use super::time::rfc3339_ms;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Type given to a verified payload that its plugin could not normalize.
pub const UNNORMALIZED_TYPE: &str = "hookgate.unnormalized";

/// Lifecycle state of a stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored, waiting for delivery.
    Pending,
    /// Stored but not deliverable (normalization failed, or delivery gave up); kept with its
    /// error for inspection and replay.
    DeadLettered,
}

impl EventStatus {
    /// The stable text stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::DeadLettered => "dead_lettered",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(EventStatus::Pending),
            "dead_lettered" => Some(EventStatus::DeadLettered),
            _ => None,
        }
    }
}

/// The normalized event without its payload: what actions receive, with `payload` added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// hookgate event id (stable across redeliveries).
    pub id: EventId,
    /// Source name (the URL segment it arrived on).
    pub source: String,
    /// Platform plugin name.
    pub platform: String,
    /// Normalized type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    /// Object the event concerns.
    pub entity_id: Option<String>,
    /// Kind of that object.
    pub entity_type: Option<String>,
    /// User concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Amount in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// ISO 4217, upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Extra facts.
    pub metadata: BTreeMap<String, String>,
}

/// One event as handed to the store, and as read back from it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// hookgate event id.
    pub id: EventId,
    /// Source name.
    pub source: String,
    /// The platform's own id (or `sha256:<body hash>` for unnormalizable payloads).
    pub platform_event_id: String,
    /// Normalized type.
    pub event_type: String,
    /// Status (`pending` when first stored).
    pub status: EventStatus,
    /// Why it is dead-lettered.
    pub error: Option<String>,
    /// Receive time, Unix milliseconds.
    pub received_at_ms: i64,
    /// The envelope as JSON.
    pub envelope: String,
    /// The original payload bytes (JSON unless the platform sent something else).
    pub payload: Vec<u8>,
}

/// The events of one verified request (or one schedule tick), each with the routes it goes to:
/// what [`crate::store`] persists in one transaction.
#[derive(Debug)]
pub struct NewEvents {
    records: Vec<EventRecord>,
    routes: Vec<Vec<String>>,
}

impl NewEvents {
    /// Records with one route list each. Within the crate only intake (from a verified
    /// request, [`crate::ingest::intake`]), the scheduler's ticks and the storage conformance
    /// suite build them.
    pub(crate) fn from_records(records: Vec<EventRecord>, routes: Vec<Vec<String>>) -> NewEvents {
        assert_eq!(records.len(), routes.len(), "one route list per record");
        NewEvents { records, routes }
    }

    /// The records, in request order.
    pub fn records(&self) -> &[EventRecord] {
        &self.records
    }

    /// Each record with the names of the routes it goes to (a delivery job each). A
    /// dead-lettered record goes nowhere.
    pub fn with_routes(&self) -> impl Iterator<Item = (&EventRecord, &[String])> {
        self.records
            .iter()
            .zip(self.routes.iter().map(Vec::as_slice))
    }
}

/// The normalized event as actions receive it: the envelope's fields plus `payload`, the
/// original JSON (embedded verbatim, not re-serialized) or, for a payload that is not JSON,
/// its text as a JSON string.
pub fn delivery_json(envelope: &str, payload: &[u8]) -> Vec<u8> {
    let head = envelope.trim_end();
    let Some(head) = head.strip_suffix('}') else {
        // Not an object: stored data this code did not write. Hand it over untouched.
        return envelope.as_bytes().to_vec();
    };
    let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_ok();
    let mut out = Vec::with_capacity(head.len() + payload.len() + 16);
    out.extend_from_slice(head.as_bytes());
    if !head.trim_end().ends_with('{') {
        out.push(b',');
    }
    out.extend_from_slice(b"\"payload\":");
    if is_json {
        out.extend_from_slice(payload);
    } else {
        let text = String::from_utf8_lossy(payload);
        out.extend_from_slice(
            serde_json::to_string(&text)
                .unwrap_or_else(|_| "null".into())
                .as_bytes(),
        );
    }
    out.push(b'}');
    out
}

impl NewEvents {
    /// One tick of a schedule, as an event of source `schedule:<name>` received at the tick's
    /// time, going to the schedule's destination. Its id derives from the schedule and the
    /// tick, so inserting the same tick twice (a restart racing the clock) stores it once.
    pub fn scheduled_tick(name: &str, cron: &str, tick_ms: i64) -> NewEvents {
        let source = schedule_source(name);
        let platform_event_id = tick_ms.to_string();
        let id = event_id(&source, &platform_event_id);
        let occurred_at = rfc3339_ms(tick_ms);
        let envelope = Envelope {
            id: id.clone(),
            source: source.clone(),
            platform: "hookgate".into(),
            event_type: "schedule.tick".into(),
            occurred_at: occurred_at.clone(),
            entity_id: Some(name.to_owned()),
            entity_type: Some("schedule".into()),
            user_id: None,
            amount: None,
            currency: None,
            metadata: BTreeMap::from([("cron".to_owned(), cron.to_owned())]),
        };
        let payload = serde_json::json!({
            "schedule": name,
            "cron": cron,
            "scheduled_at": occurred_at,
        });
        let record = EventRecord {
            id,
            source: source.clone(),
            platform_event_id,
            event_type: "schedule.tick".into(),
            status: EventStatus::Pending,
            error: None,
            received_at_ms: tick_ms,
            envelope: serde_json::to_string(&envelope).unwrap_or_default(),
            payload: payload.to_string().into_bytes(),
        };
        NewEvents {
            records: vec![record],
            routes: vec![vec![source]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_get_the_envelope_with_the_payload_embedded_verbatim() {
        let envelope = r#"{"id":"evt_1","type":"payment.completed"}"#;
        let payload = br#"{"b": 1,   "a": [2.50]}"#;
        let json = delivery_json(envelope, payload);
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            r#"{"id":"evt_1","type":"payment.completed","payload":{"b": 1,   "a": [2.50]}}"#
        );
        // Not JSON (a form post, say): embedded as a string.
        let json = delivery_json(envelope, b"a=1&b=\"2\"");
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed["payload"], "a=1&b=\"2\"");
        assert_eq!(parsed["id"], "evt_1");
    }

    #[test]
    fn schedule_ticks_are_events_with_stable_ids() {
        let a = NewEvents::scheduled_tick("nightly", "0 3 * * *", 1_700_000_000_000);
        let b = NewEvents::scheduled_tick("nightly", "0 3 * * *", 1_700_000_000_000);
        assert_eq!(a.records()[0].id, b.records()[0].id);
        let (record, routes) = a.with_routes().next().unwrap();
        assert_eq!(record.source, "schedule:nightly");
        assert_eq!(record.event_type, "schedule.tick");
        assert_eq!(record.received_at_ms, 1_700_000_000_000);
        assert_eq!(routes, ["schedule:nightly".to_owned()]);
        let envelope: Envelope = serde_json::from_str(&record.envelope).unwrap();
        assert_eq!(envelope.occurred_at, "2023-11-14T22:13:20.000Z");
    }
}
