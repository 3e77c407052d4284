//! The request of one attempt: pure.

use crate::config::TeamsConfig;
use hookgate_sdk::prelude::*;
use serde_json::{Value, json};

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The content type of an Adaptive Card attachment.
pub const CARD_CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";

/// The body the Workflows trigger reads: a `message` with one Adaptive Card attachment (the
/// template's "Post card in a chat or channel" step posts `attachments[0].content`).
pub fn message(card: &Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": CARD_CONTENT_TYPE,
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// `POST {webhook_url}` with the message as JSON. The URL carries its own authorization (the
/// `sig` query parameter, a shared access signature), so no header does.
pub fn build(config: &TeamsConfig) -> HttpRequest {
    HttpRequest::new(Method::Post, config.webhook_url.clone())
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .body(message(&config.card).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1g";

    #[test]
    fn one_adaptive_card_attachment_posted_to_the_trigger_url() {
        let config =
            TeamsConfig::parse(&json!({"webhook_url": URL, "text": "Paid $12.50"}), true).unwrap();
        let request = build(&config);
        assert_eq!(request.method(), Method::Post);
        assert_eq!(request.url(), URL);
        assert!(
            request
                .headers()
                .contains(&("content-type".into(), "application/json".into()))
        );
        assert!(!request.headers().iter().any(|(n, _)| n == "authorization"));
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [{"type": "TextBlock", "text": "Paid $12.50", "wrap": true}],
                    },
                }],
            })
        );
    }

    #[test]
    fn a_configured_card_is_the_attachment_content() {
        let card = json!({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "FactSet", "facts": [{"title": "id", "value": "evt_1"}]}]});
        let config =
            TeamsConfig::parse(&json!({"webhook_url": URL, "card": card.clone()}), true).unwrap();
        let body: Value = serde_json::from_slice(build(&config).body_bytes()).unwrap();
        assert_eq!(body["attachments"][0]["content"], card);
        assert_eq!(body["attachments"].as_array().map(Vec::len), Some(1));
    }
}
