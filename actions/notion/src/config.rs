//! The route `config` of a `notion` route: one page created in a database.
//!
//! ```toml
//! config = { token = { env = "NOTION_TOKEN" }, database_id = "d9824bdc-8445-4327-be8b-5b47500af6ce",
//!            properties = { Name = { title = [{ text = { content = "Order {{ event.entity_id }}" } }] },
//!                           Amount = { number = "{{ event.amount }}" } },
//!            children = [{ object = "block", type = "paragraph", paragraph = { rich_text = [{ type = "text", text = { content = "{{ event.type }}" } }] } }] }
//! ```

use hookgate_sdk::api::ConfigCheck;
use serde_json::{Map, Value};

/// The keys a `notion` config may have.
pub const ALLOWED_KEYS: [&str; 5] = ["token", "database_id", "properties", "children", "base_url"];

/// The API's public address.
pub const DEFAULT_BASE_URL: &str = "https://api.notion.com";

/// Notion's "Request limits": any array of block objects holds at most 100 elements (a longer
/// one is a 400 `validation_error`); checked once rendered, so the reason is clear.
pub const MAX_CHILDREN: usize = 100;

/// A checked `notion` config.
#[derive(Debug, Clone, PartialEq)]
pub struct NotionConfig {
    /// The integration's token (a credential: never quoted).
    pub token: String,
    /// The database the page is created in.
    pub database_id: String,
    /// The page's property values, keyed by property name or id, with the JSON types the
    /// templates rendered to. Empty before rendering when `properties` is one template.
    pub properties: Map<String, Value>,
    /// The page's content blocks, when configured (before rendering, possibly one template
    /// string rendering to the list).
    pub children: Option<Value>,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
}

impl NotionConfig {
    /// Checks and extracts the config; every problem at once, separated by `; `. With
    /// `rendered` false (at load), templated values are accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<NotionConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ token = { env = \"NOTION_TOKEN\" }, database_id = \"…\", properties = { … } }",
        )?;
        let token = check.credential("token", rendered);
        let database_id = check.required("database_id", "the database's id");
        let base_url = check.base_url(rendered, DEFAULT_BASE_URL);
        let properties = check.table("properties", rendered, "property names to property values");
        let children = check.list("children", rendered, "block objects");
        if let Some(Value::Array(blocks)) = &children {
            if rendered && blocks.len() > MAX_CHILDREN {
                check.error(format!(
                    "children has {} blocks, more than Notion's {MAX_CHILDREN} per request",
                    blocks.len()
                ));
            }
            if blocks.iter().any(|b| !b.is_object()) {
                check.error("children must be a list of block objects (tables)");
            }
        }
        check.finish(NotionConfig {
            token,
            database_id,
            properties,
            children,
            base_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paragraph(text: &str) -> Value {
        json!({"object": "block", "type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
    }

    #[test]
    fn a_full_config() {
        let config = NotionConfig::parse(
            &json!({"token": "ntn_abc", "database_id": "d9824bdc-8445-4327-be8b-5b47500af6ce",
                    "properties": {"Name": {"title": [{"text": {"content": "x"}}]}, "Amount": {"number": 1250}},
                    "children": [paragraph("hi")], "base_url": "http://127.0.0.1:9/"}),
            true,
        )
        .unwrap();
        assert_eq!(
            config,
            NotionConfig {
                token: "ntn_abc".into(),
                database_id: "d9824bdc-8445-4327-be8b-5b47500af6ce".into(),
                properties: json!({"Name": {"title": [{"text": {"content": "x"}}]}, "Amount": {"number": 1250}})
                    .as_object()
                    .unwrap()
                    .clone(),
                children: Some(json!([paragraph("hi")])),
                base_url: "http://127.0.0.1:9".into(),
            }
        );
        let minimal = NotionConfig::parse(
            &json!({"token": "ntn_abc", "database_id": "d9824bdc84454327be8b5b47500af6ce", "properties": {}}),
            true,
        )
        .unwrap();
        assert_eq!(minimal.base_url, DEFAULT_BASE_URL);
        assert_eq!(minimal.children, None);
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_token() {
        let err = NotionConfig::parse(
            &json!({"token": "ntn_secret\nx", "properties": ["Name"], "children": [], "icon": "🐞"}),
            true,
        )
        .unwrap_err();
        for part in [
            "unknown key \"icon\"",
            "token contains a line break",
            "database_id is required",
            "properties must be a table",
            "children must be a non-empty list of block objects",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("ntn_secret"), "{err}");
        let err = NotionConfig::parse(&json!({}), true).unwrap_err();
        for part in [
            "token is required",
            "database_id is required",
            "properties is required",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        let many: Vec<Value> = (0..=MAX_CHILDREN).map(|_| paragraph("p")).collect();
        let err = NotionConfig::parse(
            &json!({"token": "t", "database_id": "d", "properties": {}, "children": many}),
            true,
        )
        .unwrap_err();
        assert!(err.contains("101 blocks"), "{err}");
        let err = NotionConfig::parse(
            &json!({"token": "t", "database_id": "d", "properties": {}, "children": ["text"]}),
            true,
        )
        .unwrap_err();
        assert!(err.contains("block objects"), "{err}");
        assert!(
            NotionConfig::parse(
                &json!({"token": "t", "database_id": "", "properties": {}, "base_url": "notion.com"}),
                true
            )
            .is_err()
        );
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"token": "{{ x }}", "database_id": "{{ event.metadata.db }}",
                               "properties": "{{ event.payload.properties }}", "children": "{{ event.payload.blocks }}",
                               "base_url": "{{ route }}"});
        assert!(NotionConfig::parse(&templated, false).is_ok());
        assert!(NotionConfig::parse(&templated, true).is_err());
        let values = json!({"token": "t", "database_id": "d",
                            "properties": {"Amount": {"number": "{{ event.amount }}"}}});
        assert!(NotionConfig::parse(&values, false).is_ok());
    }
}
