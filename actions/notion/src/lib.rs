//! hookgate's first-party **`notion`** action: creates one page per event in a Notion database
//! (`POST {base_url}/v1/pages` with `Authorization: Bearer` and `Notion-Version: 2022-06-28`).
//! `token`, `database_id`, `properties` (property values by name, in Notion's shapes; a value
//! that is exactly one `{{ expr }}` keeps its JSON type, so `number = "{{ event.amount }}"` is
//! a number), `children` (the page's content blocks, at most 100), `base_url`.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "notion"
//! config = { token = { env = "NOTION_TOKEN" }, database_id = "d9824bdc-8445-4327-be8b-5b47500af6ce",
//!            properties = { Name = { title = [{ text = { content = "Payment {{ event.entity_id }}" } }] },
//!                           Amount = { number = "{{ event.amount }}" },
//!                           Currency = { select = { name = "{{ event.currency }}" } } },
//!            children = [{ object = "block", type = "paragraph",
//!                          paragraph = { rich_text = [{ type = "text", text = { content = "{{ event.amount | money(event.currency) }} received" } }] } }] }
//! ```
//!
//! Answers are classified as Notion documents them ([`classify`]): `rate_limited` (429) waits
//! for `Retry-After`; `conflict_error` (409) and 5xx are retried; `validation_error`,
//! `unauthorized`, `restricted_resource`, `object_not_found` and the other 4xx are
//! dead-lettered with Notion's code and message.

pub mod classify;
pub mod config;
pub mod request;

use config::NotionConfig;
use hookgate_sdk::prelude::*;

/// The `notion` action.
pub struct Notion;

impl Action for Notion {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "notion",
            "Creates a page (properties, content blocks) in a Notion database",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        NotionConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = NotionConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        classify::classify(request::build(&config).send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Notion);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Notion::metadata().name, "notion");
    }

    #[test]
    fn the_config_is_checked_as_written() {
        assert!(
            Notion::check_config(&json!({"token": "{{ x }}", "database_id": "d", "properties": {"Amount": {"number": "{{ event.amount }}"}}}))
                .is_ok()
        );
        assert!(Notion::check_config(&json!({"token": "t", "database_id": "d"})).is_err());
    }

    #[test]
    fn a_rendered_config_that_went_wrong_is_permanent() {
        let delivery = Delivery {
            config: json!({"token": "t", "database_id": "d", "properties": "{{ not rendered }}"}),
            ..Default::default()
        };
        assert!(matches!(
            Notion::run(&delivery),
            Err(ActionError::Permanent { .. })
        ));
    }
}
