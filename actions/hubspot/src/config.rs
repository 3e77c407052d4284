//! The route `config` of a `hubspot` route: one record created or updated ("upserted") by a
//! unique property, with the CRM v3 batch upsert endpoint.
//!
//! ```toml
//! config = { token = { env = "HUBSPOT_TOKEN" }, object = "contacts", id_property = "email",
//!            id = "{{ event.payload.data.object.receipt_email }}",
//!            properties = { lifecyclestage = "customer", last_payment = "{{ event.amount }}" } }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use serde_json::{Map, Value};

/// The keys a `hubspot` config may have.
pub const ALLOWED_KEYS: [&str; 6] = [
    "token",
    "object",
    "id_property",
    "id",
    "properties",
    "base_url",
];

/// The API's public address.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// The CRM objects a route may upsert.
pub const OBJECTS: [&str; 3] = ["contacts", "companies", "deals"];

/// A checked `hubspot` config.
#[derive(Debug, Clone, PartialEq)]
pub struct HubSpotConfig {
    /// The private app's access token (sent as `Authorization: Bearer`; never quoted).
    pub token: String,
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// `contacts`, `companies` or `deals`.
    pub object: String,
    /// The unique property the record is found by (`email`, `domain`, a custom unique one).
    pub id_property: String,
    /// That property's value for this record.
    pub id: String,
    /// The properties to set. Before rendering it may still be a template string that renders
    /// to the table.
    pub properties: Value,
}

impl HubSpotConfig {
    /// Checks and extracts the config; with `rendered` false (at load), templated values are
    /// accepted as written.
    pub fn parse(config: &Value, rendered: bool) -> Result<HubSpotConfig, String> {
        let mut check = ConfigCheck::new(
            config,
            &ALLOWED_KEYS,
            "{ token = { env = \"HUBSPOT_TOKEN\" }, object = \"contacts\", id_property = \"email\", id = \"…\", properties = { … } }",
        )?;
        let templated = |v: &str| !rendered && is_template(v);
        let token = check.credential("token", rendered);
        let base_url = check.base_url(rendered, DEFAULT_BASE_URL);
        let mut object = check.required("object", &OBJECTS.join(", "));
        if !object.is_empty() && !templated(&object) && !OBJECTS.contains(&object.as_str()) {
            check.error(format!(
                "object {object:?} is not one of {}",
                OBJECTS.join(", ")
            ));
            object.clear();
        }
        let id_property = check.required(
            "id_property",
            "the unique property the record is found by, e.g. email",
        );
        let id = match check.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            // `id = "{{ event.payload.id }}"` keeps a number's type once rendered.
            Some(Value::Number(id)) => id.to_string(),
            Some(Value::String(_)) if rendered => {
                check.error("id rendered empty: the record has no id_property value to upsert by");
                String::new()
            }
            _ => {
                check.error("id is required (the record's id_property value, a string)");
                String::new()
            }
        };
        let properties = match check.get("properties") {
            Some(Value::Object(map)) => {
                if rendered && let Err(e) = check_values(map) {
                    check.error(e);
                }
                Value::Object(map.clone())
            }
            Some(Value::String(s)) if templated(s) => Value::String(s.clone()),
            // Once rendered, a table that came out as JSON text is read.
            Some(Value::String(s)) if rendered && json_object(s).is_some() => {
                let map = json_object(s).unwrap_or_default();
                if let Err(e) = check_values(&map) {
                    check.error(e);
                }
                Value::Object(map)
            }
            None => {
                check.error("properties is required (a table of HubSpot property names to values)");
                Value::Null
            }
            Some(_) => {
                check.error("properties must be a table of HubSpot property names to values");
                Value::Null
            }
        };
        check.finish(HubSpotConfig {
            token,
            base_url,
            object,
            id_property,
            id,
            properties,
        })
    }
}

/// The JSON object `text` holds, if it holds one.
fn json_object(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// HubSpot property values are strings, numbers or booleans (`null` or `""` clears one): a
/// table or list there is a mistake HubSpot would refuse.
fn check_values(properties: &Map<String, Value>) -> Result<(), String> {
    let wrong: Vec<&str> = properties
        .iter()
        .filter(|(_, v)| v.is_object() || v.is_array())
        .map(|(k, _)| k.as_str())
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "properties.{} must be a string, number or boolean",
            wrong.join(", properties.")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full() -> Value {
        json!({"token": "pat-na1-11111111-2222", "object": "contacts", "id_property": "email", "id": "ada@example.com", "properties": {"firstname": "Ada", "amount": 1250, "vip": true}})
    }

    #[test]
    fn a_full_config() {
        let config = HubSpotConfig::parse(&full(), true).unwrap();
        assert_eq!(config.base_url, "https://api.hubapi.com");
        assert_eq!(config.object, "contacts");
        assert_eq!(config.id_property, "email");
        assert_eq!(config.id, "ada@example.com");
        assert_eq!(
            config.properties,
            json!({"firstname": "Ada", "amount": 1250, "vip": true})
        );
        let mut other = full();
        other["base_url"] = json!("http://127.0.0.1:9/");
        other["object"] = json!("deals");
        other["id"] = json!(4711);
        let config = HubSpotConfig::parse(&other, true).unwrap();
        assert_eq!(config.base_url, "http://127.0.0.1:9");
        assert_eq!(config.id, "4711");
        for object in OBJECTS {
            let mut c = full();
            c["object"] = json!(object);
            assert!(HubSpotConfig::parse(&c, true).is_ok(), "{object}");
        }
    }

    #[test]
    fn mistakes_are_listed_without_quoting_the_token() {
        let err = HubSpotConfig::parse(
            &json!({"token": "pat-secret\nvalue", "object": "tickets", "id": "", "properties": [1], "colour": 1}),
            true,
        )
        .unwrap_err();
        for part in [
            "unknown key \"colour\"",
            "token contains a line break",
            "object \"tickets\" is not one of contacts, companies, deals",
            "id_property is required",
            "id rendered empty",
            "properties must be a table",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(!err.contains("pat-secret"), "{err}");
        let err = HubSpotConfig::parse(&json!({}), true).unwrap_err();
        for part in [
            "token is required",
            "object is required",
            "id_property is required",
            "id is required",
            "properties is required",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        let mut nested = full();
        nested["properties"] = json!({"a": "x", "address": {"city": "Bonn"}, "tags": ["x"]});
        let err = HubSpotConfig::parse(&nested, true).unwrap_err();
        assert_eq!(
            err,
            "properties.address, properties.tags must be a string, number or boolean"
        );
        let mut bad_base = full();
        bad_base["base_url"] = json!("ftp://x");
        assert!(HubSpotConfig::parse(&bad_base, true).is_err());
    }

    #[test]
    fn templates_are_accepted_at_load() {
        let templated = json!({"token": "{{ x }}", "object": "{{ event.metadata.object }}", "id_property": "email", "id": "{{ event.payload.email }}", "properties": "{{ event.payload.properties }}"});
        assert!(HubSpotConfig::parse(&templated, false).is_ok());
        assert!(HubSpotConfig::parse(&templated, true).is_err());
        // Rendered, a table that came out as JSON text is read.
        let mut rendered = full();
        rendered["properties"] = json!(r#"{"firstname":"Ada"}"#);
        assert_eq!(
            HubSpotConfig::parse(&rendered, true).unwrap().properties,
            json!({"firstname": "Ada"})
        );
    }
}
