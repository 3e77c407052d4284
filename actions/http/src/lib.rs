//! hookgate's first-party **`http`** action: any HTTP request, described by the route's
//! (templated) config — `url`, `method` (POST), `headers`, `query`, and `body` (any JSON) or
//! `body_text` with `content_type`; without either, POST/PUT/PATCH send the normalized event.
//!
//! `idempotency-key: <event id>` goes with every request unless the route sets its own
//! header; a route signing secret adds Standard Webhooks headers over the body sent. Answers
//! are classified by the contract's table (see [`classify`]).
//!
//! ```toml
//! [[routes]]
//! source = "shopify"
//! events = ["order.created"]
//! action = "http"
//! config = { url = "https://erp.example.com/api/orders", method = "POST",
//!            headers = { authorization = { env = "ERP_TOKEN" } },
//!            body = { external_id = "{{ event.entity_id }}", total = "{{ event.amount }}",
//!                     currency = "{{ event.currency }}" } }
//! ```

pub mod classify;
pub mod config;
pub mod request;

use config::HttpConfig;
use hookgate_sdk::prelude::*;

/// The `http` action.
pub struct Http;

impl Action for Http {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "http",
            "Sends the HTTP request its templated config describes (url, method, headers, query, body)",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        HttpConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        // The host rendered the templates: now every value's form can be checked.
        let config = HttpConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        let request = request::build(delivery, &config)?;
        classify::classify(request.send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Http);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Http::metadata().name, "http");
    }

    #[test]
    fn a_rendered_config_that_is_not_valid_is_permanent() {
        let delivery = Delivery {
            config: json!({"url": "not a url"}),
            ..Default::default()
        };
        match Http::run(&delivery) {
            Err(ActionError::Permanent { reason, .. }) => {
                assert!(
                    reason.starts_with("invalid rendered config: url"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
