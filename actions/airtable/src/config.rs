//! The route `config` of an `airtable` route: one record created in a table.
//!
//! ```toml
//! config = { token = { env = "AIRTABLE_TOKEN" }, base_id = "appA1b2C3d4E5f6G7", table = "Payments",
//!            fields = { "Event" = "{{ event.id }}", "Amount" = "{{ event.amount }}", "Paid" = true },
//!            typecast = true }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use serde_json::{Map, Value};

/// The keys an `airtable` config may have.
pub const ALLOWED_KEYS: [&str; 6] = [
    "token", "base_id", "table", "fields", "typecast", "base_url",
];

/// The Web API's public address.
pub const DEFAULT_BASE_URL: &str = "https://api.airtable.com";

/// The prefix of every Airtable base id (`appA1b2C3d4E5f6G7`).
pub const BASE_ID_PREFIX: &str = "app";

/// A checked `airtable` config.
#[derive(Debug, Clone, PartialEq)]
pub struct AirtableConfig {
    /// The personal access token or OAuth token (a credential: never quoted).
    pub token: String,
    /// The base, `app…`.
    pub base_id: String,
    /// The table's name or id (`tbl…`), as written: encoded into the path by the request.
    pub table: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// The record's cell values, keyed by field name or id, with the JSON types the templates
    /// rendered to (a number stays a number). Empty before rendering when `fields` is one
    /// template rendering to the whole table.
    pub fields: Map<String, Value>,
    /// Whether Airtable should convert string values to the fields' types; `None` when not
    /// configured (Airtable's default: no conversion) or, before rendering, templated.
    pub typecast: Option<bool>,
}

impl AirtableConfig {
    /// Checks and extracts the config; every problem at once, separated by `; `. With
    /// `rendered` false (at load), templated values are accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<AirtableConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ token = { env = \"AIRTABLE_TOKEN\" }, base_id = \"app…\", table = \"…\", fields = { … } }",
        )?;
        let templated = |v: &str| !rendered && is_template(v);
        let token = check.credential("token", rendered);
        let base_id = check.required("base_id", "the base's id, app…");
        if !base_id.is_empty() && !templated(&base_id) && !is_base_id(&base_id) {
            check.error(format!(
                "base_id {base_id:?} is not an Airtable base id (app followed by letters and digits, as in appA1b2C3d4E5f6G7)"
            ));
        }
        let table = check.required("table", "the table's name or id, tbl…");
        let base_url = check.base_url(rendered, DEFAULT_BASE_URL);
        let fields = check.table("fields", rendered, "field names to cell values");
        let typecast = match check.get("typecast") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if templated(s) => None,
            Some(_) => {
                check.error("typecast must be true or false");
                None
            }
        };
        check.finish(AirtableConfig {
            token,
            base_id,
            table,
            base_url,
            fields,
            typecast,
        })
    }
}

/// Whether `id` has the form of a base id: `app` and then letters and digits.
pub fn is_base_id(id: &str) -> bool {
    id.strip_prefix(BASE_ID_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_full_config() {
        let config = AirtableConfig::parse(
            &json!({"token": "patABC.123", "base_id": "appA1b2C3d4E5f6G7", "table": "Sales Leads",
                    "fields": {"Name": "Ada", "Amount": 1250, "Tags": ["a", "b"]}, "typecast": true,
                    "base_url": "http://127.0.0.1:9/"}),
            true,
        )
        .unwrap();
        assert_eq!(
            config,
            AirtableConfig {
                token: "patABC.123".into(),
                base_id: "appA1b2C3d4E5f6G7".into(),
                table: "Sales Leads".into(),
                base_url: "http://127.0.0.1:9".into(),
                fields: json!({"Name": "Ada", "Amount": 1250, "Tags": ["a", "b"]})
                    .as_object()
                    .unwrap()
                    .clone(),
                typecast: Some(true),
            }
        );
        let minimal = AirtableConfig::parse(
            &json!({"token": "pat1", "base_id": "appX1", "table": "tblQ9", "fields": {}}),
            true,
        )
        .unwrap();
        assert_eq!(minimal.base_url, DEFAULT_BASE_URL);
        assert_eq!(minimal.typecast, None);
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_token() {
        let err = AirtableConfig::parse(
            &json!({"token": "patsecret\r\nx", "base_id": "base123", "fields": ["Name"], "typecast": "yes", "view": "Grid"}),
            true,
        )
        .unwrap_err();
        for part in [
            "unknown key \"view\"",
            "token contains a line break",
            "base_id \"base123\" is not an Airtable base id",
            "table is required",
            "fields must be a table",
            "typecast must be true or false",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("patsecret"), "{err}");
        let err = AirtableConfig::parse(&json!({}), true).unwrap_err();
        for part in [
            "token is required",
            "base_id is required",
            "table is required",
            "fields is required",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        for bad in ["app", "tblA1b2C3", "app/../x", "APPabc"] {
            let err = AirtableConfig::parse(
                &json!({"token": "t", "base_id": bad, "table": "T", "fields": {}}),
                true,
            )
            .unwrap_err();
            assert!(err.contains("not an Airtable base id"), "{bad}: {err}");
        }
        assert!(
            AirtableConfig::parse(
                &json!({"token": "t", "base_id": "appX", "table": "", "fields": {}, "base_url": "ftp://x"}),
                true
            )
            .is_err()
        );
        assert!(AirtableConfig::parse(&json!("not a table"), true).is_err());
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"token": "{{ x }}", "base_id": "{{ event.metadata.base }}", "table": "{{ event.type }}",
                               "fields": "{{ event.payload.fields }}", "typecast": "{{ event.metadata.typecast }}",
                               "base_url": "{{ route }}"});
        assert!(AirtableConfig::parse(&templated, false).is_ok());
        assert!(AirtableConfig::parse(&templated, true).is_err());
        let field_templates = json!({"token": "t", "base_id": "appX", "table": "T",
                                     "fields": {"Amount": "{{ event.amount }}"}});
        assert!(AirtableConfig::parse(&field_templates, false).is_ok());
    }
}
