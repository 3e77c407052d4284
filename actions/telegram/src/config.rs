//! The route `config` of a `telegram` route: the Bot API's `sendMessage`.
//!
//! ```toml
//! config = { token = { env = "TELEGRAM_BOT_TOKEN" }, chat_id = "-1001234567890",
//!            text = "Order {{ event.entity_id }}: {{ event.amount | money(event.currency) }}",
//!            parse_mode = "HTML", disable_notification = true }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use serde_json::Value;

/// The keys a `telegram` config may have.
pub const ALLOWED_KEYS: [&str; 6] = [
    "token",
    "chat_id",
    "text",
    "parse_mode",
    "disable_notification",
    "base_url",
];

/// The Bot API's public address.
pub const DEFAULT_BASE_URL: &str = "https://api.telegram.org";

/// The formatting modes the Bot API accepts.
pub const PARSE_MODES: [&str; 3] = ["MarkdownV2", "HTML", "Markdown"];

/// The longest message text the Bot API accepts (characters after entity parsing; checked on
/// the raw text, a safe upper bound).
pub const MAX_TEXT_CHARS: usize = 4096;

/// A checked `telegram` config.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    /// The bot token (in the URL path: never logged, never quoted).
    pub token: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// The `sendMessage` parameters: `chat_id`, `text`, `parse_mode`, `disable_notification`.
    pub message: serde_json::Map<String, Value>,
}

impl TelegramConfig {
    /// Checks and extracts the config; with `rendered` false (at load), templated values are
    /// accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<TelegramConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ token = { env = \"TELEGRAM_BOT_TOKEN\" }, chat_id = …, text = \"…\" }",
        )?;
        let table = check.table;
        let templated = |v: &str| !rendered && is_template(v);
        let token = match table.get("token") {
            Some(Value::String(t)) if !t.is_empty() => {
                // It becomes a path segment: `123456:ABC-…` has no `/`, `?`, `#` or spaces.
                if !templated(t)
                    && !t
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && !b"/?#%".contains(&b))
                {
                    check.error("token is not a bot token (digits, a colon and letters)");
                }
                t.clone()
            }
            _ => {
                check.error("token is required (a string, usually { env = \"…\" })");
                String::new()
            }
        };
        let base_url = check.base_url(rendered, DEFAULT_BASE_URL);
        let mut message = serde_json::Map::new();
        match table.get("chat_id") {
            Some(Value::String(id)) if !id.is_empty() => {
                // A numeric id as a string stays a string: the Bot API takes both forms.
                message.insert("chat_id".into(), Value::String(id.clone()));
            }
            Some(Value::Number(id)) if id.is_i64() => {
                message.insert("chat_id".into(), Value::Number(id.clone()));
            }
            _ => check.error("chat_id is required (an integer id or an @channel username)"),
        }
        match table.get("text") {
            Some(Value::String(text)) if !text.is_empty() => {
                if rendered && text.chars().count() > MAX_TEXT_CHARS {
                    check.error(format!(
                        "text is longer than Telegram's {MAX_TEXT_CHARS} characters"
                    ));
                }
                message.insert("text".into(), Value::String(text.clone()));
            }
            _ => check.error("text is required (a non-empty string)"),
        }
        match table.get("parse_mode") {
            None => {}
            Some(Value::String(mode))
                if templated(mode) || PARSE_MODES.contains(&mode.as_str()) =>
            {
                message.insert("parse_mode".into(), Value::String(mode.clone()));
            }
            Some(_) => check.error(format!(
                "parse_mode must be one of {}",
                PARSE_MODES.join(", ")
            )),
        }
        match table.get("disable_notification") {
            None => {}
            Some(Value::Bool(b)) => {
                message.insert("disable_notification".into(), Value::Bool(*b));
            }
            Some(Value::String(s)) if templated(s) => {
                message.insert("disable_notification".into(), Value::String(s.clone()));
            }
            Some(_) => check.error("disable_notification must be true or false"),
        }
        check.finish(TelegramConfig {
            token,
            base_url,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_config() {
        let config = TelegramConfig::parse(
            &json!({"token": "123456:ABC-DEF1234", "chat_id": -100123, "text": "hi", "parse_mode": "HTML", "disable_notification": true, "base_url": "http://127.0.0.1:9/"}),
            true,
        )
        .unwrap();
        assert_eq!(config.base_url, "http://127.0.0.1:9");
        assert_eq!(
            Value::Object(config.message),
            json!({"chat_id": -100123, "text": "hi", "parse_mode": "HTML", "disable_notification": true})
        );
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_token() {
        let err = TelegramConfig::parse(
            &json!({"token": "123:abc/../../secret", "parse_mode": "markdown", "text": ""}),
            true,
        )
        .unwrap_err();
        for part in [
            "token is not a bot token",
            "chat_id is required",
            "text is required",
            "parse_mode must be one of",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("secret"), "{err}");
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert!(
            TelegramConfig::parse(
                &json!({"token": "1:a", "chat_id": "@c", "text": long}),
                true
            )
            .is_err()
        );
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"token": "{{ x }}", "chat_id": "{{ event.metadata.chat }}", "text": "{{ event.id }}", "parse_mode": "{{ m }}"});
        assert!(TelegramConfig::parse(&templated, false).is_ok());
        assert!(TelegramConfig::parse(&templated, true).is_err());
    }
}
