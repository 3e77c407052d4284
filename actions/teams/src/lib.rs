//! hookgate's first-party **`teams`** action: posts an Adaptive Card to a Microsoft Teams
//! channel or chat through a Power Automate "Workflows" webhook (`webhook_url`, the URL of a
//! "When a Teams webhook request is received" trigger, as the template "Post to a channel when
//! a webhook request is received" creates it). Microsoft retired the Office 365 connectors
//! ("Incoming Webhook"); Workflows replace them. The message is `text` (made into a minimal
//! Adaptive Card) or a whole `card` (an Adaptive Card table, every string a template).
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "teams"
//! config = { webhook_url = { env = "TEAMS_WORKFLOW_URL" },
//!            card = { type = "AdaptiveCard", version = "1.4", body = [
//!              { type = "TextBlock", text = "Payment of {{ event.amount | money(event.currency) }}", weight = "Bolder", wrap = true },
//!              { type = "FactSet", facts = [{ title = "Customer", value = "{{ event.payload.data.object.receipt_email | default('unknown') }}" }] } ] } }
//! ```
//!
//! The URL's `sig` query parameter authorizes the call: the URL is a secret, and failure reasons
//! name its host only. Answers are classified as Microsoft documents them ([`classify`]): 202
//! Accepted is delivered, a throttled trigger (429) waits for `Retry-After`, a deleted or turned
//! off flow (404) dead-letters the delivery.

pub mod classify;
pub mod config;
pub mod request;

use config::TeamsConfig;
use hookgate_sdk::http::Url;
use hookgate_sdk::prelude::*;

/// The `teams` action.
pub struct Teams;

impl Action for Teams {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "teams",
            "Posts an Adaptive Card to Microsoft Teams through a Workflows (Power Automate) webhook",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        TeamsConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = TeamsConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        let host = Url::parse(&config.webhook_url)
            .map(|url| url.authority)
            .unwrap_or_default();
        classify::classify(&host, request::build(&config).send(), delivery.now_unix_ms)
            .map_err(|e| classify::redact(e, &config.webhook_url))
    }
}

hookgate_sdk::export_action!(Teams);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Teams::metadata().name, "teams");
    }

    #[test]
    fn a_config_that_renders_wrong_is_permanent_and_quotes_no_url() {
        let delivery = Delivery {
            config: serde_json::json!({"webhook_url": "nope sig=SECRET", "text": "x"}),
            ..Default::default()
        };
        let err = Teams::run(&delivery).unwrap_err();
        assert!(matches!(err, ActionError::Permanent { .. }), "{err}");
        assert!(!err.reason().contains("SECRET"), "{err}");
    }
}
