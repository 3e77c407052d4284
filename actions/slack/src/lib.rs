//! hookgate's first-party **`slack`** action: posts a message through an incoming webhook
//! (`webhook_url`), or through the Web API's `chat.postMessage` (`token` + `channel`,
//! `base_url` for a proxy or test double). `text` and/or `blocks`, `thread_ts`, `username`,
//! `icon_emoji`, `icon_url` — every string a template the host renders per delivery.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "slack"
//! config = { webhook_url = { env = "SLACK_WEBHOOK_URL" },
//!            text = "Payment of {{ event.amount | money(event.currency) }} from {{ event.payload.data.object.receipt_email | default('someone') }}" }
//! ```
//!
//! Slack's answers are classified as its documentation says ([`classify`]): the Web API's
//! HTTP 200 with `ok: false` is a failure, its transient errors are retried, `ratelimited`
//! waits for `Retry-After`, an archived channel disables the route.

pub mod classify;
pub mod config;
pub mod request;

use config::SlackConfig;
use hookgate_sdk::prelude::*;

/// The `slack` action.
pub struct Slack;

impl Action for Slack {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "slack",
            "Posts a message to Slack: an incoming webhook, or chat.postMessage with a token",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        SlackConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = SlackConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        let request = request::build(&config);
        classify::classify(&config.target, request.send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Slack::metadata().name, "slack");
    }
}
