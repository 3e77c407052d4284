//! hookgate's first-party **`forward`** action: POSTs each normalized event to the route's
//! `config.url`.
//!
//! What it sends (the contract's "Delivery" section): the event JSON exactly as the host hands
//! it over, `content-type: application/json`, `user-agent: hookgate/<version>`,
//! `idempotency-key: <event id>` (the same for every attempt and replay, so a receiver can
//! de-duplicate at-least-once delivery), the route's extra `headers`, and — when the route has
//! a signing secret — the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`.
//!
//! How the answer is classified is in [`classify`]: 2xx delivered; 408, 5xx, timeouts and
//! connection errors retried (honouring `Retry-After`); 429 rate limited; 3xx (redirects are
//! not followed), 410 and other 4xx final. The split keeps every decision a pure function,
//! unit-tested on the host target; this file only wires them to the network.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! action = "forward"
//! config = { url = "https://example.com/hooks", headers = { authorization = "Bearer ..." } }
//! signing_secret = { env = "FORWARD_SECRET" }
//! ```

pub mod classify;
pub mod config;
pub mod request;

use config::ForwardConfig;
use hookgate_sdk::prelude::*;

/// The `forward` action.
pub struct Forward;

impl Action for Forward {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "forward",
            "POSTs each event to config.url (idempotency key; Standard Webhooks signature when the route has a signing secret)",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        ForwardConfig::parse(config).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        // The host checked the config at load time; parsing again is cheap and keeps a config
        // that slipped through (or a host that skipped the check) from doing anything odd.
        let config = ForwardConfig::parse(&delivery.config)
            .map_err(|e| ActionError::permanent(format!("invalid route config: {e}")))?;
        let request = request::build(delivery, &config)?;
        classify::classify(request.send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Forward);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Forward::metadata().name, "forward");
    }

    #[test]
    fn invalid_config_at_run_time_is_permanent() {
        let delivery = Delivery {
            config: json!({"url": "ftp://example.com/"}),
            ..Default::default()
        };
        match Forward::run(&delivery) {
            Err(ActionError::Permanent { reason, .. }) => {
                assert!(reason.starts_with("invalid route config: "), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_the_gateway_a_valid_delivery_is_retried_not_lost() {
        // Natively there is no network: the SDK's client says so with `HttpError::Other`,
        // which must not dead-letter the event.
        let delivery = Delivery {
            event_id: "evt_1".into(),
            event_json: b"{}".to_vec(),
            config: json!({"url": "https://example.com/hooks"}),
            ..Default::default()
        };
        assert!(matches!(
            Forward::run(&delivery),
            Err(ActionError::Retryable { .. })
        ));
    }
}
