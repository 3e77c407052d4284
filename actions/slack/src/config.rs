//! The route `config` of a `slack` route: an incoming webhook, or the Web API with a bot token.
//!
//! ```toml
//! config = { webhook_url = { env = "SLACK_WEBHOOK_URL" }, text = "Paid: {{ event.amount | money(event.currency) }}" }
//! config = { token = { env = "SLACK_BOT_TOKEN" }, channel = "C0123456789", text = "…",
//!            blocks = [{ type = "section", text = { type = "mrkdwn", text = "*{{ event.type }}*" } }] }
//! ```

use hookgate_sdk::api::ConfigCheck;
use serde_json::{Map, Value};

/// The keys a `slack` config may have.
pub const ALLOWED_KEYS: [&str; 10] = [
    "webhook_url",
    "token",
    "channel",
    "base_url",
    "text",
    "blocks",
    "thread_ts",
    "username",
    "icon_emoji",
    "icon_url",
];

/// The Web API's public address.
pub const DEFAULT_BASE_URL: &str = "https://slack.com";

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An incoming webhook URL (it is the credential: redacted like a token).
    Webhook(String),
    /// `chat.postMessage` with a bot or user token.
    Api {
        /// `xoxb-…` / `xoxp-…`.
        token: String,
        /// A channel id (or name) to post to.
        channel: String,
        /// The API's base URL (a test double or proxy), without a trailing slash.
        base_url: String,
    },
}

/// A checked `slack` config.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackConfig {
    /// Where it goes.
    pub target: Target,
    /// The message fields Slack reads (`text`, `blocks`, `thread_ts`, `username`,
    /// `icon_emoji`, `icon_url`), as configured.
    pub message: Map<String, Value>,
}

impl SlackConfig {
    /// Checks and extracts the config; every problem at once, separated by `; `. With
    /// `rendered` false (at load) templated values are accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<SlackConfig, String> {
        let mut check =
            ConfigCheck::new(config, &ALLOWED_KEYS, "{ webhook_url = …, text = \"…\" }")?;
        let has_base_url = check.get("base_url").is_some();
        let target = match (
            check.get("webhook_url"),
            check.get("token"),
            check.get("channel"),
        ) {
            (Some(_), None, None) => {
                if has_base_url {
                    check.error("base_url goes with token (the webhook URL is complete)");
                }
                let url = check.url("webhook_url", rendered).unwrap_or_default();
                Target::Webhook(url)
            }
            (None, Some(_), Some(_)) => Target::Api {
                token: check.credential("token", rendered),
                channel: check.required("channel", "a channel id such as C0123456789"),
                base_url: check.base_url(rendered, DEFAULT_BASE_URL),
            },
            (None, Some(_), None) => {
                check.error("channel is required with token");
                Target::Webhook(String::new())
            }
            (None, None, Some(_)) => {
                check.error("token is required with channel");
                Target::Webhook(String::new())
            }
            (None, None, None) => {
                check.error("either webhook_url, or token and channel, is required");
                Target::Webhook(String::new())
            }
            (Some(_), _, _) => {
                check.error("webhook_url excludes token and channel");
                Target::Webhook(String::new())
            }
        };
        let mut message = Map::new();
        for key in ["text", "thread_ts", "username", "icon_emoji", "icon_url"] {
            if let Some(value) = check.text(key) {
                message.insert(key.into(), Value::String(value));
            }
        }
        // A list, or one `{{ expr }}` rendering to the list (from the payload, say).
        if let Some(blocks) = check.list("blocks", rendered, "Block Kit blocks") {
            message.insert("blocks".into(), blocks);
        }
        if !message.contains_key("text") && !message.contains_key("blocks") {
            check.error("text or blocks is required");
        }
        check.finish(SlackConfig { target, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_webhook_and_an_api_target() {
        let hook = SlackConfig::parse(
            &json!({"webhook_url": "https://hooks.slack.com/services/T/B/X", "text": "hi", "username": "bot"}),
            true,
        )
        .unwrap();
        assert_eq!(
            hook.target,
            Target::Webhook("https://hooks.slack.com/services/T/B/X".into())
        );
        assert_eq!(
            hook.message,
            json!({"text": "hi", "username": "bot"})
                .as_object()
                .unwrap()
                .clone()
        );
        let api = SlackConfig::parse(
            &json!({"token": "xoxb-1", "channel": "C1", "base_url": "http://127.0.0.1:9/", "blocks": [{"type": "divider"}]}),
            true,
        )
        .unwrap();
        assert_eq!(
            api.target,
            Target::Api {
                token: "xoxb-1".into(),
                channel: "C1".into(),
                base_url: "http://127.0.0.1:9".into()
            }
        );
    }

    #[test]
    fn mistakes_are_listed_without_quoting_credentials() {
        let err = SlackConfig::parse(
            &json!({"webhook_url": "not-a-url-secret", "token": "xoxb-secret", "colour": 1}),
            true,
        )
        .unwrap_err();
        assert!(err.contains("unknown key \"colour\""), "{err}");
        assert!(
            err.contains("webhook_url excludes token and channel"),
            "{err}"
        );
        assert!(err.contains("text or blocks is required"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        let err = SlackConfig::parse(&json!({"webhook_url": "nope-secret", "text": "x"}), true)
            .unwrap_err();
        assert_eq!(err, "webhook_url is not an http(s) URL");
        assert!(SlackConfig::parse(&json!({"token": "t", "text": "x"}), true).is_err());
        assert!(
            SlackConfig::parse(
                &json!({"webhook_url": "https://h/", "text": "x", "blocks": []}),
                true
            )
            .is_err()
        );
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"webhook_url": {"not": "a template"}, "text": "x"});
        assert!(SlackConfig::parse(&templated, false).is_err());
        let templated = json!({"token": "{{ x }}", "channel": "{{ event.metadata.channel }}", "text": "{{ event.id }}", "blocks": "{{ event.payload.blocks }}"});
        assert!(SlackConfig::parse(&templated, false).is_ok());
        assert!(
            SlackConfig::parse(
                &json!({"webhook_url": "https://h/", "blocks": "{{ x }}"}),
                true
            )
            .is_err()
        );
    }
}
