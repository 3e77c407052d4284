//! hookgate's first-party **`hubspot`** action: creates or updates one CRM record per delivery
//! with HubSpot's CRM v3 batch upsert (`POST /crm/v3/objects/{object}/batch/upsert`): the
//! record of `object` (`contacts`, `companies`, `deals`) whose unique property `id_property`
//! has the value `id` gets `properties`; when none has, one is created with them. `token` is a
//! private app's access token (scopes `crm.objects.{object}.write`); `base_url` (default
//! `https://api.hubapi.com`) points elsewhere for a proxy or a test double.
//!
//! ```toml
//! [[routes]]
//! source = "stripe"
//! events = ["payment.completed"]
//! action = "hubspot"
//! config = { token = { env = "HUBSPOT_TOKEN" }, object = "contacts", id_property = "email",
//!            id = "{{ event.payload.data.object.receipt_email }}",
//!            properties = { lifecyclestage = "customer", last_payment = "{{ event.amount | money(event.currency) }}" } }
//! ```
//!
//! An upsert by a unique property is idempotent: a retry or a replay updates the record the
//! first attempt created. Answers are classified as HubSpot documents them ([`classify`]): a
//! 207 whose one input failed is a failure by its error's category, a 429 waits out the rolling
//! window, and a success that says no request is left in the window pauses the route for it.

pub mod classify;
pub mod config;
pub mod request;

use config::HubSpotConfig;
use hookgate_sdk::prelude::*;

/// The `hubspot` action.
pub struct HubSpot;

impl Action for HubSpot {
    fn metadata() -> ActionMetadata {
        ActionMetadata::new(
            "hubspot",
            "Creates or updates a HubSpot CRM record (contact, company, deal) by a unique property",
        )
    }

    fn check_config(config: &serde_json::Value) -> Result<(), String> {
        HubSpotConfig::parse(config, false).map(|_| ())
    }

    fn run(delivery: &Delivery) -> Result<Delivered, ActionError> {
        let config = HubSpotConfig::parse(&delivery.config, true)
            .map_err(|e| ActionError::permanent(format!("invalid rendered config: {e}")))?;
        classify::classify(request::build(&config).send(), delivery.now_unix_ms)
            // Should an answer ever echo the token.
            .map_err(|e| e.redacting([config.token.as_str()]))
    }
}

hookgate_sdk::export_action!(HubSpot);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_action() {
        assert_eq!(HubSpot::metadata().name, "hubspot");
    }

    #[test]
    fn a_config_that_renders_wrong_is_permanent_and_quotes_no_token() {
        let delivery = Delivery {
            config: serde_json::json!({"token": "pat-na1-SECRET", "object": "contacts", "id_property": "email", "id": "", "properties": {}}),
            ..Default::default()
        };
        let err = HubSpot::run(&delivery).unwrap_err();
        assert!(matches!(err, ActionError::Permanent { .. }), "{err}");
        assert!(err.reason().contains("id rendered empty"), "{err}");
        assert!(!err.reason().contains("SECRET"), "{err}");
    }
}
