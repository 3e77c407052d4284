//! The request of one attempt: pure.

use crate::config::DiscordConfig;
use hookgate_sdk::encoding::percent_encode;
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `user-agent` of every request (Discord asks API clients to name themselves).
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// `POST {webhook_url}?wait=true[&thread_id=…]` with the message as JSON. `wait=true` makes
/// Discord answer 200 with the created message once it is stored, instead of a 204 before
/// validation, so an invalid message is a 400 this attempt sees.
pub fn build(config: &DiscordConfig) -> HttpRequest {
    let separator = if config.webhook_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let mut url = format!("{}{separator}wait=true", config.webhook_url);
    if let Some(thread) = &config.thread_id {
        url.push_str("&thread_id=");
        url.push_str(&percent_encode(thread));
    }
    HttpRequest::new(Method::Post, url)
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .body(Value::Object(config.message.clone()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn waits_for_the_message_and_names_the_thread() {
        let config = DiscordConfig::parse(
            &json!({"webhook_url": "https://discord.com/api/webhooks/1/t", "content": "hi", "thread_id": "42"}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(
            request.url(),
            "https://discord.com/api/webhooks/1/t?wait=true&thread_id=42"
        );
        assert_eq!(request.body_bytes(), br#"{"content":"hi"}"#);
    }
}
