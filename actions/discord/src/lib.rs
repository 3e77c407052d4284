//! hookgate's first-party **`discord`** action: posts a message through a Discord webhook
//! (`webhook_url`; `content` and/or `embeds`, `username`, `avatar_url`, `thread_id`), waiting
//! for Discord to store it (`?wait=true`) so that a refused message is seen as such.
//!
//! ```toml
//! [[routes]]
//! source = "github"
//! events = ["github.release.published"]
//! action = "discord"
//! config = { webhook_url = { env = "DISCORD_WEBHOOK_URL" },
//!            content = "Released {{ event.payload.release.tag_name }}",
//!            embeds = [{ title = "{{ event.payload.release.name }}", url = "{{ event.payload.release.html_url }}" }] }
//! ```
//!
//! Answers are classified as Discord documents them ([`classify`]): a 429 waits for the
//! `retry_after` its JSON body names; a deleted webhook (404, code 10015) disables the route.

pub mod classify;
pub mod config;
pub mod request;

use config::DiscordConfig;
use hookgate_sdk::prelude::*;

/// The `discord` action.
pub struct Discord;

impl Action for Discord {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "discord",
            "Posts a message (content, embeds) through a Discord webhook",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        DiscordConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = DiscordConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        classify::classify(request::build(&config).send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Discord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Discord::metadata().name, "discord");
    }
}
