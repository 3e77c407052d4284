//! Builds the outbound request of one attempt from the rendered config: pure, so headers,
//! query and body are unit-tested without a network.

use crate::config::{Body, HttpConfig};
use hookgate_sdk::encoding::percent_encode;
use hookgate_sdk::prelude::*;

/// `user-agent` of every request, so receivers can recognise the gateway.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The request of `delivery` as `config` describes it: `idempotency-key` is the event id
/// unless the route sets its own; with a signing secret, the Standard Webhooks headers sign
/// the body sent (with the event id as message id and the attempt's time).
pub fn build(delivery: &Delivery, config: &HttpConfig) -> Result<HttpRequest, ActionError> {
    let url = with_query(&config.url, &config.query);
    let mut request = HttpRequest::new(config.method, url).header("user-agent", USER_AGENT);
    if !config.headers.iter().any(|(n, _)| n == "idempotency-key") {
        request = request.header("idempotency-key", delivery.event_id.as_str());
    }
    for (name, value) in &config.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let (body, content_type): (Vec<u8>, Option<&str>) = match &config.body {
        Body::Json(value) => (value.to_string().into_bytes(), Some("application/json")),
        Body::Text { text, content_type } => (text.clone().into_bytes(), Some(content_type)),
        Body::Event if carries_body(config.method) => {
            (delivery.event_json.clone(), Some("application/json"))
        }
        Body::Event => (Vec::new(), None),
    };
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    for (name, value) in delivery.signature_headers(&body)? {
        request = request.header(name, value);
    }
    Ok(request.body(body))
}

fn carries_body(method: Method) -> bool {
    matches!(method, Method::Post | Method::Put | Method::Patch)
}

/// `url` with `query` appended (after any query it has), each name and value
/// percent-encoded.
pub fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut out = base.to_owned();
    let mut separator = if base.contains('?') { '&' } else { '?' };
    if base.ends_with('?') || base.ends_with('&') {
        separator = '\0';
    }
    for (name, value) in query {
        if separator != '\0' {
            out.push(separator);
        }
        separator = '&';
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delivery() -> Delivery {
        Delivery {
            event_json: br#"{"id":"evt_1"}"#.to_vec(),
            event_id: "evt_1".into(),
            now_unix_ms: 1_614_265_330_000,
            ..Default::default()
        }
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_json_body_with_query_and_the_default_idempotency_key() {
        let config = HttpConfig::parse(
            &json!({"url": "https://e.com/in?x=1", "query": {"who": "a b"}, "body": {"n": 1}}),
            true,
        )
        .unwrap();
        let request = build(&delivery(), &config).unwrap();
        assert_eq!(request.method(), Method::Post);
        assert_eq!(request.url(), "https://e.com/in?x=1&who=a%20b");
        assert_eq!(header(&request, "idempotency-key"), Some("evt_1"));
        assert_eq!(header(&request, "content-type"), Some("application/json"));
        assert_eq!(request.body_bytes(), br#"{"n":1}"#);
    }

    #[test]
    fn the_route_may_set_its_own_idempotency_key_and_text_body() {
        let config = HttpConfig::parse(
            &json!({"url": "https://e.com/", "method": "PATCH", "headers": {"Idempotency-Key": "order-7"},
                    "body_text": "a=1", "content_type": "application/x-www-form-urlencoded"}),
            true,
        )
        .unwrap();
        let request = build(&delivery(), &config).unwrap();
        let keys: Vec<_> = request
            .headers()
            .iter()
            .filter(|(n, _)| n == "idempotency-key")
            .collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1, "order-7");
        assert_eq!(
            header(&request, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(request.body_bytes(), b"a=1");
    }

    #[test]
    fn without_a_body_post_sends_the_event_and_get_sends_nothing() {
        let post = HttpConfig::parse(&json!({"url": "https://e.com/"}), true).unwrap();
        assert_eq!(
            build(&delivery(), &post).unwrap().body_bytes(),
            br#"{"id":"evt_1"}"#
        );
        let get =
            HttpConfig::parse(&json!({"url": "https://e.com/", "method": "GET"}), true).unwrap();
        let request = build(&delivery(), &get).unwrap();
        assert!(request.body_bytes().is_empty());
        assert_eq!(header(&request, "content-type"), None);
    }

    #[test]
    fn a_signing_secret_signs_the_body_sent() {
        let config =
            HttpConfig::parse(&json!({"url": "https://e.com/", "body": {"n": 1}}), true).unwrap();
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let signed = Delivery {
            signing_secret: Some(secret.into()),
            ..delivery()
        };
        let request = build(&signed, &config).unwrap();
        let expected =
            standard_webhooks::sign(secret, "evt_1", 1_614_265_330, br#"{"n":1}"#).unwrap();
        assert_eq!(
            header(&request, "webhook-signature"),
            Some(expected.as_str())
        );
    }

    #[test]
    fn queries_join_urls_of_every_shape() {
        let q = [("a".to_owned(), "1".to_owned())];
        assert_eq!(with_query("https://e.com/p", &q), "https://e.com/p?a=1");
        assert_eq!(with_query("https://e.com/p?", &q), "https://e.com/p?a=1");
        assert_eq!(
            with_query("https://e.com/p?b=2#f", &q),
            "https://e.com/p?b=2&a=1#f"
        );
        assert_eq!(with_query("https://e.com/p", &[]), "https://e.com/p");
    }
}
