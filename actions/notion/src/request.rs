//! The request of one attempt: pure.

use crate::config::NotionConfig;
use hookgate_sdk::prelude::*;
use serde_json::{Value, json};

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The API version every request names (`Notion-Version`, required by Notion: without it the
/// answer is a 400 `missing_version`). The page, property and block shapes the config holds
/// are this version's.
pub const NOTION_VERSION: &str = "2022-06-28";

/// `POST {base_url}/v1/pages` with `Authorization: Bearer`, `Notion-Version` and
/// `{"parent": {"database_id": …}, "properties": {…}, "children": [...]}` (`children` only when
/// configured).
pub fn build(config: &NotionConfig) -> HttpRequest {
    let mut body = json!({
        "parent": {"database_id": config.database_id},
        "properties": Value::Object(config.properties.clone()),
    });
    if let Some(children) = &config.children {
        body["children"] = children.clone();
    }
    HttpRequest::new(Method::Post, format!("{}/v1/pages", config.base_url))
        .header("authorization", format!("Bearer {}", config.token))
        .header("notion-version", NOTION_VERSION)
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_in_the_database_with_version_and_bearer_token() {
        let config = NotionConfig::parse(
            &json!({"token": "ntn_T0KEN", "database_id": "d9824bdc-8445-4327-be8b-5b47500af6ce",
                    "properties": {"Name": {"title": [{"text": {"content": "Order 1"}}]}, "Amount": {"number": 1250}},
                    "children": [{"object": "block", "type": "divider", "divider": {}}]}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(request.method(), Method::Post);
        assert_eq!(request.url(), "https://api.notion.com/v1/pages");
        let headers = request.headers();
        for header in [
            ("authorization", "Bearer ntn_T0KEN"),
            ("notion-version", "2022-06-28"),
            ("content-type", "application/json"),
        ] {
            assert!(
                headers.contains(&(header.0.into(), header.1.into())),
                "{header:?}"
            );
        }
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({
                "parent": {"database_id": "d9824bdc-8445-4327-be8b-5b47500af6ce"},
                "properties": {"Name": {"title": [{"text": {"content": "Order 1"}}]}, "Amount": {"number": 1250}},
                "children": [{"object": "block", "type": "divider", "divider": {}}],
            })
        );
    }

    #[test]
    fn without_children_and_through_a_base_url() {
        let config = NotionConfig::parse(
            &json!({"token": "t", "database_id": "db1", "properties": {"Done": {"checkbox": true}},
                    "base_url": "http://127.0.0.1:9/"}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(request.url(), "http://127.0.0.1:9/v1/pages");
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({"parent": {"database_id": "db1"}, "properties": {"Done": {"checkbox": true}}})
        );
    }
}
