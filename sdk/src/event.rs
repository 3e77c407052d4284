//! Normalized events, built fluently. The host turns them into hookgate's event schema
//! (`id`, `source`, `platform`, `type`, `occurred_at`, …) and stores them.

/// Where an event's original payload comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The request body is the payload; the host stores the verified bytes without a round
    /// trip through the plugin.
    WholeBody,
    /// A JSON document the plugin extracted, e.g. one element of a batch.
    Json(String),
}

/// One normalized event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The platform's own event id, stable across redeliveries.
    pub platform_event_id: String,
    /// Normalized type (`payment.completed`, or `<platform>.<native type>`).
    pub event_type: String,
    /// RFC 3339 time the event happened.
    pub occurred_at: Option<String>,
    /// Id of the object concerned.
    pub entity_id: Option<String>,
    /// Kind of the object concerned.
    pub entity_type: Option<String>,
    /// User or customer concerned.
    pub user_id: Option<String>,
    /// Amount in integer minor units.
    pub amount: Option<i64>,
    /// ISO 4217 currency, upper case.
    pub currency: Option<String>,
    /// Extra string facts.
    pub metadata: Vec<(String, String)>,
    /// The original payload.
    pub payload: Payload,
}

impl Event {
    /// An event with its platform id and normalized type; the payload defaults to the whole body.
    pub fn new(platform_event_id: impl Into<String>, event_type: impl Into<String>) -> Self {
        Event {
            platform_event_id: platform_event_id.into(),
            event_type: event_type.into(),
            occurred_at: None,
            entity_id: None,
            entity_type: None,
            user_id: None,
            amount: None,
            currency: None,
            metadata: Vec::new(),
            payload: Payload::WholeBody,
        }
    }

    /// Sets when the event happened (RFC 3339).
    pub fn occurred_at(mut self, rfc3339: impl Into<String>) -> Self {
        self.occurred_at = Some(rfc3339.into());
        self
    }

    /// Sets when the event happened from Unix seconds.
    pub fn occurred_at_unix(self, secs: i64) -> Self {
        self.occurred_at(crate::time::rfc3339_from_unix(secs))
    }

    /// Sets the object the event is about.
    pub fn entity(mut self, entity_type: impl Into<String>, entity_id: impl Into<String>) -> Self {
        self.entity_type = Some(entity_type.into());
        self.entity_id = Some(entity_id.into());
        self
    }

    /// Sets the user or customer concerned (ignored when `None`).
    pub fn user(mut self, user_id: Option<impl Into<String>>) -> Self {
        self.user_id = user_id.map(Into::into);
        self
    }

    /// Sets the amount in minor units and its currency (upper-cased).
    pub fn amount(mut self, minor_units: i64, currency: &str) -> Self {
        self.amount = Some(minor_units);
        self.currency = Some(currency.to_ascii_uppercase());
        self
    }

    /// Adds a metadata entry.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// The payload is the whole request body (the default).
    pub fn whole_body(mut self) -> Self {
        self.payload = Payload::WholeBody;
        self
    }

    /// The payload is this JSON value (for batch elements).
    pub fn payload_json(mut self, value: &serde_json::Value) -> Self {
        self.payload = Payload::Json(value.to_string());
        self
    }

    /// The event as JSON, in the field names of hookgate's schema: what golden tests compare.
    pub fn to_json(&self) -> serde_json::Value {
        let metadata: serde_json::Map<String, serde_json::Value> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        serde_json::json!({
            "platform_event_id": self.platform_event_id,
            "type": self.event_type,
            "occurred_at": self.occurred_at,
            "entity_id": self.entity_id,
            "entity_type": self.entity_type,
            "user_id": self.user_id,
            "amount": self.amount,
            "currency": self.currency,
            "metadata": metadata,
            "payload": match &self.payload {
                Payload::WholeBody => serde_json::Value::String("<whole body>".into()),
                Payload::Json(s) => serde_json::from_str(s).unwrap_or(serde_json::Value::Null),
            },
        })
    }
}

/// A verified payload that cannot be turned into events. The host stores it dead-lettered with
/// this message; nothing verified is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizeError(pub String);

impl NormalizeError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        NormalizeError(message.into())
    }

    /// A required field is missing or has the wrong type.
    pub fn missing(field: &str) -> Self {
        NormalizeError(format!(
            "payload field {field:?} is missing or not the expected type"
        ))
    }
}

impl std::fmt::Display for NormalizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NormalizeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_fields() {
        let e = Event::new("evt_1", "payment.completed")
            .occurred_at_unix(0)
            .entity("payment_intent", "pi_1")
            .user(Some("cus_1"))
            .amount(1999, "usd")
            .meta("livemode", "false");
        assert_eq!(e.occurred_at.as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(e.currency.as_deref(), Some("USD"));
        assert_eq!(e.amount, Some(1999));
        assert_eq!(e.user_id.as_deref(), Some("cus_1"));
        assert_eq!(e.payload, Payload::WholeBody);
    }
}
