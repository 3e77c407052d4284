//! The route `config` of a `discord` route: an execute-webhook call.
//!
//! ```toml
//! config = { webhook_url = { env = "DISCORD_WEBHOOK_URL" }, content = "New release {{ event.payload.release.tag_name }}",
//!            embeds = [{ title = "{{ event.payload.repository.full_name }}", url = "{{ event.payload.release.html_url }}" }] }
//! ```

use hookgate_sdk::api::ConfigCheck;
use serde_json::{Map, Value};

/// The keys a `discord` config may have.
pub const ALLOWED_KEYS: [&str; 6] = [
    "webhook_url",
    "content",
    "embeds",
    "username",
    "avatar_url",
    "thread_id",
];

/// Discord's limits on a message (its documentation's "Execute Webhook"): checked once
/// rendered, so an oversized message is dead-lettered with a clear reason instead of a 400.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// At most this many embeds per message.
pub const MAX_EMBEDS: usize = 10;

/// A checked `discord` config.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordConfig {
    /// The webhook URL (a credential: never quoted).
    pub webhook_url: String,
    /// The thread to post in, if any.
    pub thread_id: Option<String>,
    /// The message: `content`, `embeds`, `username`, `avatar_url`.
    pub message: Map<String, Value>,
}

impl DiscordConfig {
    /// Checks and extracts the config; with `rendered` false (at load), templated values are
    /// accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<DiscordConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ webhook_url = …, content = \"…\" }",
        )?;
        if check.get("webhook_url").is_none() {
            check.error("webhook_url is required");
        }
        let webhook_url = check.url("webhook_url", rendered).unwrap_or_default();
        let thread_id = check.text("thread_id");
        let mut message = Map::new();
        for key in ["content", "username", "avatar_url"] {
            if let Some(value) = check.text(key) {
                message.insert(key.into(), Value::String(value));
            }
        }
        if rendered
            && let Some(content) = message.get("content").and_then(Value::as_str)
            && content.chars().count() > MAX_CONTENT_CHARS
        {
            check.error(format!(
                "content is longer than Discord's {MAX_CONTENT_CHARS} characters"
            ));
        }
        if let Some(embeds) = check.list("embeds", rendered, "embed objects") {
            if embeds.as_array().is_some_and(|e| e.len() > MAX_EMBEDS) {
                check.error(format!("at most {MAX_EMBEDS} embeds"));
            }
            message.insert("embeds".into(), embeds);
        }
        if !message.contains_key("content") && !message.contains_key("embeds") {
            check.error("content or embeds is required");
        }
        check.finish(DiscordConfig {
            webhook_url,
            thread_id,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_embeds_and_thread() {
        let config = DiscordConfig::parse(
            &json!({"webhook_url": "https://discord.com/api/webhooks/1/t", "content": "hi", "embeds": [{"title": "x"}], "thread_id": "99", "username": "hookgate"}),
            true,
        )
        .unwrap();
        assert_eq!(config.thread_id.as_deref(), Some("99"));
        assert_eq!(
            Value::Object(config.message),
            json!({"content": "hi", "embeds": [{"title": "x"}], "username": "hookgate"})
        );
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_url() {
        let err =
            DiscordConfig::parse(&json!({"webhook_url": "secret-not-url", "colour": 1}), true)
                .unwrap_err();
        assert!(err.contains("unknown key \"colour\""), "{err}");
        assert!(err.contains("webhook_url is not an http(s) URL"), "{err}");
        assert!(err.contains("content or embeds is required"), "{err}");
        assert!(!err.contains("secret-not-url"), "{err}");
        let long = "x".repeat(MAX_CONTENT_CHARS + 1);
        let err =
            DiscordConfig::parse(&json!({"webhook_url": "https://d/", "content": long}), true)
                .unwrap_err();
        assert!(err.contains("2000"), "{err}");
        let eleven: Vec<Value> = (0..11).map(|_| json!({"title": "t"})).collect();
        assert!(
            DiscordConfig::parse(
                &json!({"webhook_url": "https://d/", "embeds": eleven}),
                true
            )
            .is_err()
        );
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"webhook_url": "{{ x }}", "embeds": "{{ event.payload.embeds }}"});
        assert!(DiscordConfig::parse(&templated, false).is_ok());
        assert!(DiscordConfig::parse(&templated, true).is_err());
    }
}
