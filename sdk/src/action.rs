//! The trait an action plugin implements, what it is handed and what it answers.
//!
//! An action performs one delivery attempt of one event along one route. The host owns
//! everything around the attempt — the retry schedule, jitter, the `Retry-After` cap, the
//! dead-letter queue, disabling a route — so an action only has to say *what* happened, as an
//! [`ActionError`] variant: whether retrying can help is the plugin's call, *when* to retry is
//! the host's.

use std::fmt;

/// Static facts about an action plugin, reported once at load time. The plugin's version and
/// the WIT version are filled in by [`crate::export_action!`], so they cannot drift from the
/// crate's `Cargo.toml` and the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionMetadata {
    /// The name routes use in `action = "..."`; lower case `[a-z0-9-]`.
    pub name: String,
    /// One-line description for operators.
    pub description: String,
}

impl ActionMetadata {
    /// Metadata with a name and a description.
    pub fn new(name: &str, description: &str) -> Self {
        ActionMetadata {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// One delivery attempt of one event along one route.
///
/// `Default` exists for plugin unit tests (`Delivery { event_id: ..., ..Default::default() }`);
/// the host always fills every field.
#[derive(Clone, Default, PartialEq)]
pub struct Delivery {
    /// The normalized event as JSON: exactly the bytes to send when forwarding it.
    pub event_json: Vec<u8>,
    /// The event id, stable across platform redeliveries, retries and replays: the natural
    /// idempotency key.
    pub event_id: String,
    /// The normalized event type, e.g. `payment.completed`.
    pub event_type: String,
    /// The route's name, for logs.
    pub route: String,
    /// The route's `config` table, already parsed (the host hands it over as JSON). An object
    /// for every route; [`Action::check_config`] has accepted it when the config was loaded.
    pub config: serde_json::Value,
    /// The route's signing secret, when it has one (`whsec_...` or raw). Never log it:
    /// `Debug` redacts it.
    pub signing_secret: Option<String>,
    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub attempt: u32,
    /// The host's wall clock in Unix milliseconds. Plugins have no clock of their own; use
    /// this for signature timestamps and `Retry-After` dates.
    pub now_unix_ms: u64,
}

impl Delivery {
    /// The Standard Webhooks headers (`webhook-id` = the event id, `webhook-timestamp` = this
    /// attempt's time, `webhook-signature` over `body`) when the route has a signing secret;
    /// none without one. The timestamp is the attempt's, not the event's: a receiver checks it
    /// against its clock to refuse replays, so a retry hours later carries a fresh one.
    pub fn signature_headers(
        &self,
        body: &[u8],
    ) -> Result<Vec<(&'static str, String)>, ActionError> {
        let Some(secret) = &self.signing_secret else {
            return Ok(Vec::new());
        };
        let timestamp = i64::try_from(self.now_unix_ms / 1000).unwrap_or(i64::MAX);
        crate::standard_webhooks::headers(secret, &self.event_id, timestamp, body)
            .map(Vec::from)
            // Permanent: the same secret fails the same way on every retry; the operator fixes
            // it and replays the dead letter. The secret itself is never quoted.
            .map_err(|_| {
                ActionError::permanent(
                    "the route's signing secret starts with whsec_ but is not base64",
                )
            })
    }
}

impl fmt::Debug for Delivery {
    /// Redacts the signing secret and shows only the size of the event, so a delivery can be
    /// logged or shown in a failed assertion without leaking either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field(
                "event_json",
                &format_args!("<{} bytes>", self.event_json.len()),
            )
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("route", &self.route)
            .field("config", &self.config)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("attempt", &self.attempt)
            .field("now_unix_ms", &self.now_unix_ms)
            .finish()
    }
}

/// A successful delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The destination's HTTP status, when there is one (an action that is not HTTP has none).
    pub http_status: Option<u16>,
    /// How long the route should pause before its next delivery, in milliseconds, because the
    /// destination said its quota is spent (`X-RateLimit-Remaining: 0` and a reset time): the
    /// next request would only meet a 429. The host caps it as it caps `Retry-After`.
    pub pause_ms: Option<u64>,
}

impl Delivered {
    /// A delivery the destination acknowledged with `status`.
    pub fn status(status: u16) -> Self {
        Delivered {
            http_status: Some(status),
            pause_ms: None,
        }
    }

    /// Asks the host to pause the route for `pause_ms` before its next delivery (see
    /// [`Delivered::pause_ms`]); `None` leaves it running.
    pub fn with_pause_ms(mut self, pause_ms: Option<u64>) -> Self {
        self.pause_ms = pause_ms;
        self
    }
}

/// Why a delivery attempt did not succeed. The variant decides what the host does next; the
/// reason and status go into the attempt history and the dead-letter queue, so they must never
/// contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    /// A transient failure (timeout, connection error, 408, 5xx): retried on the route's
    /// schedule, or after `after_ms` when the destination asked for a delay.
    Retryable {
        /// What went wrong.
        reason: String,
        /// The destination's HTTP status, when it answered.
        http_status: Option<u16>,
        /// How long the destination asked to wait, in milliseconds; the host caps it.
        after_ms: Option<u64>,
    },
    /// The destination is rate limiting (429): the host slows the whole route down until
    /// `after_ms` has passed, then retries.
    RateLimited {
        /// What went wrong.
        reason: String,
        /// The destination's HTTP status, when it answered.
        http_status: Option<u16>,
        /// How long the destination asked to wait, in milliseconds; the host caps it.
        after_ms: Option<u64>,
    },
    /// Retrying cannot help (a 4xx, invalid config, refused by egress policy): dead-lettered
    /// at once.
    Permanent {
        /// What went wrong.
        reason: String,
        /// The destination's HTTP status, when it answered.
        http_status: Option<u16>,
    },
    /// The destination is gone for good (410): dead-lettered, and the host disables the route
    /// until the operator re-enables it.
    Gone {
        /// What went wrong.
        reason: String,
        /// The destination's HTTP status, when it answered.
        http_status: Option<u16>,
    },
}

impl ActionError {
    /// A transient failure, retried on the route's schedule.
    pub fn retryable(reason: impl Into<String>) -> Self {
        ActionError::Retryable {
            reason: reason.into(),
            http_status: None,
            after_ms: None,
        }
    }

    /// A rate-limit answer; add the wait with [`ActionError::with_after_ms`].
    pub fn rate_limited(reason: impl Into<String>) -> Self {
        ActionError::RateLimited {
            reason: reason.into(),
            http_status: None,
            after_ms: None,
        }
    }

    /// A failure retrying cannot fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        ActionError::Permanent {
            reason: reason.into(),
            http_status: None,
        }
    }

    /// The destination is gone for good; the host disables the route.
    pub fn gone(reason: impl Into<String>) -> Self {
        ActionError::Gone {
            reason: reason.into(),
            http_status: None,
        }
    }

    /// Records the destination's HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        match &mut self {
            ActionError::Retryable { http_status, .. }
            | ActionError::RateLimited { http_status, .. }
            | ActionError::Permanent { http_status, .. }
            | ActionError::Gone { http_status, .. } => *http_status = Some(status),
        }
        self
    }

    /// Records how long the destination asked to wait. Ignored by the variants that are never
    /// retried, so a caller can pass a parsed `Retry-After` without matching on the variant.
    pub fn with_after_ms(mut self, wait_ms: Option<u64>) -> Self {
        match &mut self {
            ActionError::Retryable { after_ms, .. } | ActionError::RateLimited { after_ms, .. } => {
                *after_ms = wait_ms
            }
            ActionError::Permanent { .. } | ActionError::Gone { .. } => {}
        }
        self
    }

    /// The same outcome with another reason: a standard classification put in the service's
    /// own words.
    pub fn with_reason(mut self, new: impl Into<String>) -> Self {
        match &mut self {
            ActionError::Retryable { reason, .. }
            | ActionError::RateLimited { reason, .. }
            | ActionError::Permanent { reason, .. }
            | ActionError::Gone { reason, .. } => *reason = new.into(),
        }
        self
    }

    /// The same outcome with every one of `secrets` replaced by `[redacted]` wherever the
    /// reason quotes it, for a service that echoes a credential back in an error. The host
    /// redacts the config's secrets too; this covers the forms only the action knows (a URL's
    /// query, a basic-auth encoding). Strings shorter than 4 bytes are left alone: they would
    /// match ordinary words.
    pub fn redacting<'a>(self, secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut reason = std::borrow::Cow::Borrowed(self.reason());
        for secret in secrets.into_iter().filter(|s| s.len() >= 4) {
            if reason.contains(secret) {
                reason = std::borrow::Cow::Owned(reason.replace(secret, "[redacted]"));
            }
        }
        match reason {
            std::borrow::Cow::Borrowed(_) => self,
            std::borrow::Cow::Owned(reason) => self.with_reason(reason),
        }
    }

    /// The human-readable reason.
    pub fn reason(&self) -> &str {
        match self {
            ActionError::Retryable { reason, .. }
            | ActionError::RateLimited { reason, .. }
            | ActionError::Permanent { reason, .. }
            | ActionError::Gone { reason, .. } => reason,
        }
    }

    /// The destination's HTTP status, when it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ActionError::Retryable { http_status, .. }
            | ActionError::RateLimited { http_status, .. }
            | ActionError::Permanent { http_status, .. }
            | ActionError::Gone { http_status, .. } => *http_status,
        }
    }

    /// The requested wait before the next attempt, for the variants that are retried.
    pub fn after_ms(&self) -> Option<u64> {
        match self {
            ActionError::Retryable { after_ms, .. } | ActionError::RateLimited { after_ms, .. } => {
                *after_ms
            }
            ActionError::Permanent { .. } | ActionError::Gone { .. } => None,
        }
    }
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            ActionError::Retryable { .. } => "retryable",
            ActionError::RateLimited { .. } => "rate limited",
            ActionError::Permanent { .. } => "permanent",
            ActionError::Gone { .. } => "gone",
        };
        write!(f, "{kind}: {}", self.reason())
    }
}

impl std::error::Error for ActionError {}

/// An action plugin: delivers events somewhere. Outbound HTTP goes through [`crate::http`],
/// under the host's egress policy.
pub trait Action {
    /// Static facts about the plugin.
    fn metadata() -> ActionMetadata;

    /// Checks a route's `config` table when the configuration is loaded, so a typo is refused
    /// at start instead of dead-lettering every event. The error says what is wrong.
    fn check_config(config: &serde_json::Value) -> Result<(), String>;

    /// Performs one delivery attempt.
    fn run(delivery: &Delivery) -> Result<Delivered, ActionError>;
}

#[cfg(test)]
mod tests {

    #[test]
    fn reasons_are_replaced_and_redacted() {
        let e = ActionError::rate_limited("HTTP 429")
            .with_status(429)
            .with_after_ms(Some(5));
        let e = e.with_reason("Service: slow down");
        assert_eq!(e.reason(), "Service: slow down");
        assert_eq!((e.http_status(), e.after_ms()), (Some(429), Some(5)));
        let echoed = ActionError::permanent("token sk-live-1 invalid (basic YXBpOms=), id");
        let clean = echoed.redacting(["sk-live-1", "YXBpOms=", "id"]);
        assert_eq!(
            clean.reason(),
            "token [redacted] invalid (basic [redacted]), id"
        );
    }

    use super::*;

    #[test]
    fn builders_fill_status_and_wait_where_they_apply() {
        let e = ActionError::retryable("HTTP 503")
            .with_status(503)
            .with_after_ms(Some(2_000));
        assert_eq!(e.http_status(), Some(503));
        assert_eq!(e.after_ms(), Some(2_000));
        assert_eq!(e.to_string(), "retryable: HTTP 503");

        let e = ActionError::permanent("HTTP 400")
            .with_status(400)
            .with_after_ms(Some(5));
        assert_eq!(
            e,
            ActionError::Permanent {
                reason: "HTTP 400".into(),
                http_status: Some(400)
            }
        );
        assert_eq!(e.after_ms(), None);
        assert_eq!(ActionError::gone("HTTP 410").reason(), "HTTP 410");
        assert!(matches!(
            ActionError::rate_limited("slow down").with_after_ms(Some(1)),
            ActionError::RateLimited {
                after_ms: Some(1),
                ..
            }
        ));
    }

    #[test]
    fn debug_never_shows_the_signing_secret() {
        let d = Delivery {
            event_json: b"{\"secret-looking\":1}".to_vec(),
            signing_secret: Some("whsec_c2VjcmV0".into()),
            ..Default::default()
        };
        let shown = format!("{d:?}");
        assert!(!shown.contains("whsec_"), "{shown}");
        assert!(!shown.contains("secret-looking"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
