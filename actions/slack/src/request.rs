//! The request of one attempt: pure.

use crate::config::{SlackConfig, Target};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The POST: the message to the webhook URL, or `chat.postMessage` with the channel and
/// `Authorization: Bearer`. JSON either way (the Web API takes JSON bodies from bearer-token
/// callers, with the charset stated).
pub fn build(config: &SlackConfig) -> HttpRequest {
    let mut message = config.message.clone();
    let (url, token) = match &config.target {
        Target::Webhook(url) => (url.clone(), None),
        Target::Api {
            token,
            channel,
            base_url,
        } => {
            message.insert("channel".into(), Value::String(channel.clone()));
            (format!("{base_url}/api/chat.postMessage"), Some(token))
        }
    };
    let mut request = HttpRequest::new(Method::Post, url)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", USER_AGENT);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Value::Object(message).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_web_api_call_carries_channel_and_bearer_token() {
        let config = SlackConfig::parse(
            &json!({"token": "xoxb-1", "channel": "C1", "text": "hi", "thread_ts": "1.2"}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(request.url(), "https://slack.com/api/chat.postMessage");
        assert!(
            request
                .headers()
                .contains(&("authorization".into(), "Bearer xoxb-1".into()))
        );
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({"channel": "C1", "text": "hi", "thread_ts": "1.2"})
        );
    }

    #[test]
    fn a_webhook_post_has_no_authorization() {
        let config = SlackConfig::parse(
            &json!({"webhook_url": "https://hooks.slack.com/services/T/B/X", "text": "hi"}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(request.url(), "https://hooks.slack.com/services/T/B/X");
        assert!(!request.headers().iter().any(|(n, _)| n == "authorization"));
        assert_eq!(request.body_bytes(), br#"{"text":"hi"}"#);
    }
}
