//! hookgate's first-party **`airtable`** action: creates one record per event in an Airtable
//! table through the Web API's "Create records" (`POST {base_url}/v0/{base_id}/{table}` with
//! `Authorization: Bearer`). `token`, `base_id` (`app…`), `table` (a name or a `tbl…` id),
//! `fields` (cell values by field name; a value that is exactly one `{{ expr }}` keeps its
//! JSON type, so `"{{ event.amount }}"` is a number), `typecast`, `base_url`.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "airtable"
//! config = { token = { env = "AIRTABLE_TOKEN" }, base_id = "appA1b2C3d4E5f6G7", table = "Payments",
//!            fields = { "Event" = "{{ event.id }}", "Amount" = "{{ event.amount }}",
//!                       "Currency" = "{{ event.currency }}", "Customer" = "{{ event.user_id | default('') }}" },
//!            typecast = true }
//! ```
//!
//! Answers are classified as Airtable documents them ([`classify`]): a 429 waits the
//! 30 seconds Airtable asks for (or the `Retry-After` it sends); authentication, permission,
//! not-found and validation errors (401, 403, 404, 413, 422) are dead-lettered with Airtable's
//! error type and message; 5xx is retried.

pub mod classify;
pub mod config;
pub mod request;

use config::AirtableConfig;
use hookgate_sdk::prelude::*;

/// The `airtable` action.
pub struct Airtable;

impl Action for Airtable {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "airtable",
            "Creates a record in an Airtable table (Web API, personal access token)",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        AirtableConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = AirtableConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        classify::classify(request::build(&config).send(), delivery.now_unix_ms)
    }
}

hookgate_sdk::export_action!(Airtable);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(Airtable::metadata().name, "airtable");
    }

    #[test]
    fn the_config_is_checked_as_written() {
        assert!(
            Airtable::check_config(&json!({"token": "{{ x }}", "base_id": "appX1", "table": "T", "fields": {"A": "{{ event.amount }}"}}))
                .is_ok()
        );
        assert!(
            Airtable::check_config(
                &json!({"token": "t", "base_id": "nope", "table": "T", "fields": {}})
            )
            .is_err()
        );
    }

    #[test]
    fn a_rendered_config_that_went_wrong_is_permanent() {
        let delivery = Delivery {
            config: json!({"token": "t", "base_id": "{{ not rendered }}", "table": "T", "fields": {}}),
            ..Default::default()
        };
        assert!(matches!(
            Airtable::run(&delivery),
            Err(ActionError::Permanent { .. })
        ));
    }
}
