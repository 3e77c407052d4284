//! The request of one attempt: pure.

use crate::config::HubSpotConfig;
use hookgate_sdk::encoding::percent_encode;
use hookgate_sdk::prelude::*;
use serde_json::{Value, json};

/// `user-agent` of every request.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The batch upsert body with one input: the record found by `idProperty` = `id` is updated,
/// or created with it when none is.
pub fn body(config: &HubSpotConfig) -> Value {
    json!({
        "inputs": [{
            "idProperty": config.id_property,
            "id": config.id,
            "properties": config.properties,
        }],
    })
}

/// `POST {base_url}/crm/v3/objects/{object}/batch/upsert` with `Authorization: Bearer {token}`
/// (a private app's access token) and the body as JSON. Upserting by a unique property makes a
/// retry or a replay update the record the first attempt created instead of adding another.
pub fn build(config: &HubSpotConfig) -> HttpRequest {
    HttpRequest::new(
        Method::Post,
        format!(
            "{}/crm/v3/objects/{}/batch/upsert",
            config.base_url,
            percent_encode(&config.object)
        ),
    )
    .header("authorization", format!("Bearer {}", config.token))
    .header("content-type", "application/json")
    .header("user-agent", USER_AGENT)
    .body(body(config).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_input_upserted_by_its_unique_property() {
        let config = HubSpotConfig::parse(
            &json!({"token": "pat-na1-abc", "object": "contacts", "id_property": "email", "id": "ada@example.com", "properties": {"firstname": "Ada", "lifecyclestage": "customer"}}),
            true,
        )
        .unwrap();
        let request = build(&config);
        assert_eq!(request.method(), Method::Post);
        assert_eq!(
            request.url(),
            "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert"
        );
        let headers = request.headers();
        assert!(headers.contains(&("authorization".into(), "Bearer pat-na1-abc".into())));
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
        let sent: Value = serde_json::from_slice(request.body_bytes()).unwrap();
        assert_eq!(
            sent,
            json!({"inputs": [{"idProperty": "email", "id": "ada@example.com", "properties": {"firstname": "Ada", "lifecyclestage": "customer"}}]})
        );
    }

    #[test]
    fn the_base_url_and_object_make_the_path() {
        let config = HubSpotConfig::parse(
            &json!({"token": "t0ken1", "object": "companies", "id_property": "domain", "id": "example.com", "properties": {}, "base_url": "http://127.0.0.1:8080/"}),
            true,
        )
        .unwrap();
        assert_eq!(
            build(&config).url(),
            "http://127.0.0.1:8080/crm/v3/objects/companies/batch/upsert"
        );
        assert_eq!(
            body(&config),
            json!({"inputs": [{"idProperty": "domain", "id": "example.com", "properties": {}}]})
        );
    }
}
