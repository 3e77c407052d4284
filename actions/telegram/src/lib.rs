//! hookgate's first-party **`telegram`** action: sends a message with the Bot API's
//! `sendMessage` (`token`, `chat_id`, `text`, `parse_mode`, `disable_notification`; `base_url`
//! for a local Bot API server or a test double).
//!
//! ```toml
//! [[routes]]
//! source = "shopify"
//! events = ["order.created"]
//! action = "telegram"
//! config = { token = { env = "TELEGRAM_BOT_TOKEN" }, chat_id = "-1001234567890",
//!            text = "New order {{ event.entity_id }}: {{ event.amount | money(event.currency) }}" }
//! ```
//!
//! The token is part of the URL path (`/bot<token>/sendMessage`): hookgate never logs the
//! request, and the host redacts the token from every attempt error. Answers are classified
//! as the Bot API documents them ([`classify`]): a 429 waits `parameters.retry_after`.

pub mod classify;
pub mod config;
pub mod request;

use config::TelegramConfig;
use hookgate_sdk::prelude::*;

/// The `telegram` action.
pub struct Telegram;

impl Action for Telegram {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "telegram",
            "Sends a Telegram message with the Bot API (sendMessage)",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        TelegramConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = TelegramConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        classify::classify(request::build(&config).send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Telegram);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Telegram::metadata().name, "telegram");
    }
}
