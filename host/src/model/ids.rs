//! The hookgate event id: derived from the source and the platform's own event id, so every
//! redelivery of one platform event maps to one id (the store's unique key) on every node.
//! A type of its own, so an id cannot be mixed up with the other strings beside it (a
//! platform id, a route, a source) in the store's and the admin API's signatures.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `evt_` and 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// The text as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id read back from storage (written by this crate, so not checked again).
    pub fn stored(text: String) -> EventId {
        EventId(text)
    }

    /// An id a client typed (admin API path, CLI argument); `None` unless it has the shape
    /// of an id, so a lookup of anything else is a plain "not found".
    pub fn parse(text: &str) -> Option<EventId> {
        let hex = text.strip_prefix("evt_")?;
        (hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| EventId(text.to_owned()))
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Tests write ids as their text.
#[cfg(test)]
impl From<&str> for EventId {
    fn from(text: &str) -> EventId {
        EventId(text.to_owned())
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> String {
        id.0
    }
}

/// The hookgate id of a platform event arriving on `source`: the first 16 bytes of
/// SHA-256(source, 0, platform id), so ids are scoped by source and cannot collide across
/// the separator.
pub fn event_id(source: &str, platform_event_id: &str) -> EventId {
    let digest = Sha256::new()
        .chain_update(source)
        .chain_update([0u8])
        .chain_update(platform_event_id)
        .finalize();
    EventId(format!("evt_{}", hex::encode(&digest[..16])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_scoped_by_source() {
        let a = event_id("stripe", "evt_1");
        assert_eq!(a, event_id("stripe", "evt_1"));
        assert_ne!(a, event_id("stripe-eu", "evt_1"));
        assert_ne!(event_id("ab", "c"), event_id("a", "bc"));
    }

    #[test]
    fn derived_ids_parse_and_nothing_else_does() {
        let id = event_id("stripe", "evt_1");
        assert_eq!(EventId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), 36);
        for bad in [
            "",
            "evt_",
            "evt_XYZ",
            "nope",
            &id.as_str().to_uppercase(),
            &format!("{id}0"),
        ] {
            assert_eq!(EventId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
    }
}
