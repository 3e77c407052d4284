//! The request of one attempt: pure.

use crate::config::AirtableConfig;
use hookgate_sdk::encoding::percent_encode;
use hookgate_sdk::prelude::*;
use serde_json::{Value, json};

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// `POST {base_url}/v0/{base_id}/{table}` with `Authorization: Bearer` and one record, in the
/// form Airtable's "Create records" documents: `{"records": [{"fields": {…}}]}`, plus
/// `"typecast"` when configured. The table name is percent-encoded (`Sales Leads` →
/// `Sales%20Leads`); a `tbl…` id passes unchanged.
pub fn build(config: &AirtableConfig) -> HttpRequest {
    let url = format!(
        "{}/v0/{}/{}",
        config.base_url,
        percent_encode(&config.base_id),
        percent_encode(&config.table)
    );
    let mut body = json!({"records": [{"fields": Value::Object(config.fields.clone())}]});
    if let Some(typecast) = config.typecast {
        body["typecast"] = Value::Bool(typecast);
    }
    HttpRequest::new(Method::Post, url)
        .header("authorization", format!("Bearer {}", config.token))
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: Value) -> AirtableConfig {
        let mut config = json!({"token": "patT0KEN.x", "base_id": "appA1b2C3d4E5f6G7", "table": "Sales Leads",
                                "fields": {"Name": "Ada", "Amount": 1250, "Paid": true}});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        AirtableConfig::parse(&config, true).unwrap()
    }

    #[test]
    fn one_record_with_a_bearer_token_and_the_table_encoded() {
        let request = build(&config(json!({"typecast": true})));
        assert_eq!(request.method(), Method::Post);
        assert_eq!(
            request.url(),
            "https://api.airtable.com/v0/appA1b2C3d4E5f6G7/Sales%20Leads"
        );
        let headers = request.headers();
        assert!(headers.contains(&("authorization".into(), "Bearer patT0KEN.x".into())));
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({"records": [{"fields": {"Name": "Ada", "Amount": 1250, "Paid": true}}], "typecast": true})
        );
    }

    #[test]
    fn a_table_id_and_a_base_url_and_no_typecast() {
        let request = build(&config(
            json!({"table": "tblXYZ123", "base_url": "http://127.0.0.1:9/", "typecast": false}),
        ));
        assert_eq!(
            request.url(),
            "http://127.0.0.1:9/v0/appA1b2C3d4E5f6G7/tblXYZ123"
        );
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(body["typecast"], false);
        let request = build(&config(json!({"table": "Q&A/2024 ü?"})));
        assert_eq!(
            request.url(),
            "https://api.airtable.com/v0/appA1b2C3d4E5f6G7/Q%26A%2F2024%20%C3%BC%3F"
        );
        let body: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            body,
            json!({"records": [{"fields": {"Name": "Ada", "Amount": 1250, "Paid": true}}]})
        );
    }
}
