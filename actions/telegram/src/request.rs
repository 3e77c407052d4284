//! The request of one attempt: pure.

use crate::config::TelegramConfig;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// `POST {base_url}/bot{token}/sendMessage` with the parameters as JSON. The token sits in the
/// path, as the Bot API requires: the request is never logged, and the host redacts the token
/// from anything an attempt reports.
pub fn build(config: &TelegramConfig) -> HttpRequest {
    HttpRequest::new(
        Method::Post,
        format!("{}/bot{}/sendMessage", config.base_url, config.token),
    )
    .header("content-type", "application/json")
    .header("user-agent", USER_AGENT)
    .body(Value::Object(config.message.clone()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn send_message_with_the_token_in_the_path() {
        let config = TelegramConfig::parse(
            &json!({"token": "123:ABC", "chat_id": "@news", "text": "hi"}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(
            request.url(),
            "https://api.telegram.org/bot123:ABC/sendMessage"
        );
        assert_eq!(request.body_bytes(), br#"{"chat_id":"@news","text":"hi"}"#);
    }
}
