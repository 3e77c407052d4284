//! The route `config` of a `teams` route: one Adaptive Card posted to a Power Automate
//! "Workflows" webhook (the trigger "When a Teams webhook request is received", as the
//! template "Post to a channel when a webhook request is received" creates it).
//!
//! ```toml
//! config = { webhook_url = { env = "TEAMS_WORKFLOW_URL" }, text = "Paid {{ event.amount | money(event.currency) }}" }
//! config = { webhook_url = { env = "TEAMS_WORKFLOW_URL" },
//!            card = { type = "AdaptiveCard", version = "1.4",
//!                     body = [{ type = "TextBlock", text = "**{{ event.type }}**", wrap = true }] } }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use hookgate_sdk::http::Url;
use serde_json::{Map, Value, json};

/// The keys a `teams` config may have.
pub const ALLOWED_KEYS: [&str; 3] = ["webhook_url", "text", "card"];

/// The `type` every Adaptive Card has.
pub const ADAPTIVE_CARD: &str = "AdaptiveCard";
/// The schema a card built from `text` names.
pub const CARD_SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
/// The Adaptive Card version of a card built from `text` (Teams renders up to 1.5).
pub const CARD_VERSION: &str = "1.4";

/// Hosts of the retired Office 365 connector webhooks ("Incoming Webhook"): Microsoft replaced
/// them with Workflows, whose URLs are on `*.logic.azure.com` or `*.api.powerplatform.com`.
const RETIRED_CONNECTOR_HOSTS: [&str; 3] = [
    "webhook.office.com",
    "outlook.office.com",
    "outlook.office365.com",
];

/// A checked `teams` config.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamsConfig {
    /// The Workflows trigger URL. Its `sig` query parameter is the credential: the URL is never
    /// quoted, only its host.
    pub webhook_url: String,
    /// The Adaptive Card to post: the configured `card`, or the one built from `text`. Before
    /// rendering it may still be a template string that renders to a card.
    pub card: Value,
}

impl TeamsConfig {
    /// Checks and extracts the config; with `rendered` false (at load), templated values are
    /// accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<TeamsConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ webhook_url = { env = \"TEAMS_WORKFLOW_URL\" }, text = \"…\" }",
        )?;
        let templated = |v: &str| !rendered && is_template(v);
        let webhook_url = check.required(
            "webhook_url",
            "the HTTP URL of a Workflows \"When a Teams webhook request is received\" trigger",
        );
        // Not `check.url`: the URL is a credential, never quoted, not even in part.
        if !webhook_url.is_empty() && !templated(&webhook_url) {
            match Url::parse(&webhook_url) {
                Err(_) => check.error("webhook_url is not an http(s) URL"),
                Ok(parsed) if retired_connector(&parsed) => check.error(
                    "webhook_url is an Office 365 connector (Incoming Webhook) URL, which \
                     Microsoft retired: create a Workflows webhook (\"Post to a channel \
                     when a webhook request is received\") and use its URL",
                ),
                Ok(_) => {}
            }
        }
        let text = check.text("text");
        let card = match (text, check.get("card")) {
            (Some(text), None) => text_card(&text),
            (None, Some(card)) => match adaptive_card(card, rendered) {
                Ok(card) => card,
                Err(e) => {
                    check.error(e);
                    Value::Null
                }
            },
            (Some(_), Some(_)) => {
                check.error("text and card exclude each other: give one");
                Value::Null
            }
            (None, None) => {
                // `text` present but not a non-empty string was already reported.
                if check.get("text").is_none() {
                    check.error("text or card (an Adaptive Card) is required");
                }
                Value::Null
            }
        };
        check.finish(TeamsConfig { webhook_url, card })
    }
}

/// The minimal Adaptive Card showing `text`: one wrapping `TextBlock` (which reads a subset of
/// Markdown).
pub fn text_card(text: &str) -> Value {
    json!({
        "$schema": CARD_SCHEMA,
        "type": ADAPTIVE_CARD,
        "version": CARD_VERSION,
        "body": [{"type": "TextBlock", "text": text, "wrap": true}],
    })
}

/// The configured `card`, checked: a table whose `type` is `AdaptiveCard`. Before rendering a
/// template string is accepted as written (it renders to the card); once rendered, a string
/// holding a card as JSON text is accepted too (`{{ event.payload.card | tojson }}`).
fn adaptive_card(card: &Value, rendered: bool) -> Result<Value, String> {
    match card {
        Value::Object(map) => check_card(map, rendered).map(|()| card.clone()),
        Value::String(s) if !rendered && is_template(s) => Ok(card.clone()),
        Value::String(s) if rendered => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => check_card(&map, rendered).map(|()| Value::Object(map)),
            _ => Err(not_a_card()),
        },
        _ => Err(not_a_card()),
    }
}

fn not_a_card() -> String {
    "card must be an Adaptive Card table { type = \"AdaptiveCard\", version = \"1.4\", body = [ … ] }"
        .into()
}

fn check_card(card: &Map<String, Value>, rendered: bool) -> Result<(), String> {
    match card.get("type") {
        Some(Value::String(t)) if t == ADAPTIVE_CARD || (!rendered && is_template(t)) => Ok(()),
        Some(Value::String(t)) if t == "message" && card.contains_key("attachments") => Err(
            "card is the Adaptive Card itself (type = \"AdaptiveCard\"), not the message \
             around it: the action wraps it in the message and its attachment"
                .into(),
        ),
        _ if card.get("@type").and_then(Value::as_str) == Some("MessageCard") => Err(
            "card is a legacy MessageCard: Workflows post Adaptive Cards (type = \"AdaptiveCard\")"
                .into(),
        ),
        _ => Err("card.type must be \"AdaptiveCard\"".into()),
    }
}

fn retired_connector(url: &Url) -> bool {
    let host = url
        .authority
        .rsplit_once(':')
        .map_or(url.authority.as_str(), |(h, _)| h)
        .to_ascii_lowercase();
    RETIRED_CONNECTOR_HOSTS
        .iter()
        .any(|retired| host == *retired || host.ends_with(&format!(".{retired}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETsig123";

    #[test]
    fn text_becomes_a_minimal_adaptive_card() {
        let config =
            TeamsConfig::parse(&json!({"webhook_url": URL, "text": "hi **there**"}), true).unwrap();
        assert_eq!(config.webhook_url, URL);
        assert_eq!(
            config.card,
            json!({
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{"type": "TextBlock", "text": "hi **there**", "wrap": true}],
            })
        );
    }

    #[test]
    fn a_card_is_taken_as_configured() {
        let card = json!({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}], "msteams": {"width": "Full"}});
        let config =
            TeamsConfig::parse(&json!({"webhook_url": URL, "card": card.clone()}), true).unwrap();
        assert_eq!(config.card, card);
        // Once rendered, a card that came out as JSON text is read.
        let config =
            TeamsConfig::parse(&json!({"webhook_url": URL, "card": card.to_string()}), true)
                .unwrap();
        assert_eq!(config.card, card);
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_url() {
        let err = TeamsConfig::parse(
            &json!({"webhook_url": "not a url sig=SECRETsig123", "colour": 1}),
            true,
        )
        .unwrap_err();
        assert!(err.contains("unknown key \"colour\""), "{err}");
        assert!(err.contains("webhook_url is not an http(s) URL"), "{err}");
        assert!(err.contains("text or card"), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        let err = TeamsConfig::parse(&json!({"text": "x"}), true).unwrap_err();
        assert!(err.contains("webhook_url is required"), "{err}");
        let err = TeamsConfig::parse(&json!({"webhook_url": 7, "text": ""}), true).unwrap_err();
        assert!(
            err.contains("webhook_url must be a non-empty string"),
            "{err}"
        );
        assert!(!err.contains("webhook_url is required"), "{err}");
        assert!(err.contains("text must be a non-empty string"), "{err}");
        assert!(!err.contains("text or card"), "{err}");
        let both = json!({"webhook_url": URL, "text": "x", "card": {"type": "AdaptiveCard"}});
        let err = TeamsConfig::parse(&both, true).unwrap_err();
        assert_eq!(err, "text and card exclude each other: give one");
    }

    #[test]
    fn a_card_must_be_an_adaptive_card() {
        let of = |card: Value| TeamsConfig::parse(&json!({"webhook_url": URL, "card": card}), true);
        let err = of(json!({"type": "Container", "items": []})).unwrap_err();
        assert_eq!(err, "card.type must be \"AdaptiveCard\"");
        assert!(of(json!({"body": []})).is_err());
        let err = of(json!({"@type": "MessageCard", "text": "x"})).unwrap_err();
        assert!(err.contains("legacy MessageCard"), "{err}");
        let err = of(json!({"type": "message", "attachments": []})).unwrap_err();
        assert!(err.contains("not the message around it"), "{err}");
        assert!(of(json!([{"type": "AdaptiveCard"}])).is_err());
        assert!(of(json!("[1, 2]")).is_err());
        assert!(of(json!("plain text")).is_err());
    }

    #[test]
    fn retired_connector_urls_are_refused() {
        for url in [
            "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d",
            "https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d",
        ] {
            let err =
                TeamsConfig::parse(&json!({"webhook_url": url, "text": "x"}), true).unwrap_err();
            assert!(err.contains("Microsoft retired"), "{err}");
            assert!(!err.contains("IncomingWebhook/c"), "{err}");
        }
        let power_platform = "https://default1234.56.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s";
        assert!(
            TeamsConfig::parse(&json!({"webhook_url": power_platform, "text": "x"}), true).is_ok()
        );
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"webhook_url": "{{ x }}", "card": "{{ event.payload.card }}"});
        assert!(TeamsConfig::parse(&templated, false).is_ok());
        assert!(TeamsConfig::parse(&templated, true).is_err());
        let typed =
            json!({"webhook_url": URL, "card": {"type": "{{ event.metadata.kind }}", "body": []}});
        assert!(TeamsConfig::parse(&typed, false).is_ok());
        let text = json!({"webhook_url": URL, "text": "{{ event.type }}"});
        assert!(TeamsConfig::parse(&text, false).is_ok());
    }
}
