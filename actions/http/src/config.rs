//! The route `config` table of an `http` route, checked when the configuration loads (with
//! template strings as written, whose form is checked once rendered) and again before each
//! attempt (rendered).
//!
//! ```toml
//! config = { url = "https://api.example.com/orders/{{ event.entity_id }}", method = "PUT",
//!            headers = { authorization = { env = "API_TOKEN" } },
//!            query = { source = "hookgate" },
//!            body = { order = "{{ event.entity_id }}", total = "{{ event.amount }}" } }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use hookgate_sdk::http::{Method, Url};
use serde_json::Value;

/// The keys an `http` config may have.
pub const ALLOWED_KEYS: [&str; 7] = [
    "url",
    "method",
    "headers",
    "query",
    "body",
    "body_text",
    "content_type",
];

/// Headers the action sets itself (an `idempotency-key` header of the route replaces the
/// default one, as the contract allows).
pub const OWN_HEADERS: [&str; 8] = [
    "content-type",
    "content-length",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "host",
    "date",
];

/// What the request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `body`: any JSON value, sent as `application/json`.
    Json(Value),
    /// `body_text` with its `content_type` (default `text/plain; charset=utf-8`).
    Text {
        /// The text.
        text: String,
        /// Its media type.
        content_type: String,
    },
    /// Neither: the normalized event for methods that carry a body, nothing for GET, HEAD
    /// and DELETE.
    Event,
}

/// A checked `http` config.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Absolute `http` or `https` URL, before the query.
    pub url: String,
    /// The method (POST unless configured).
    pub method: Method,
    /// Extra headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Query parameters appended to the URL, percent-encoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl HttpConfig {
    /// Checks and extracts the config; every problem at once, separated by `; `. `rendered`
    /// says whether templates have been rendered (then the URL must parse); header values are
    /// never quoted.
    pub fn parse(config: &Value, rendered: bool) -> Result<HttpConfig, String> {
        let mut check = ConfigCheck::new(config, &ALLOWED_KEYS, "{ url = \"https://...\" }")?;
        let table = check.table;
        let url = match table.get("url") {
            None => {
                check.error("url is required");
                String::new()
            }
            Some(Value::String(url)) => {
                if (rendered || !is_template(url))
                    && let Err(e) = Url::parse(url)
                {
                    check.error(format!("url: {e}"));
                }
                url.clone()
            }
            Some(_) => {
                check.error("url must be a string");
                String::new()
            }
        };
        let method = match table.get("method") {
            None => Method::Post,
            Some(Value::String(m)) if !rendered && is_template(m) => Method::Post,
            Some(Value::String(m)) => method(m).unwrap_or_else(|| {
                check.error(format!(
                    "method {m:?}: expected GET, POST, PUT, PATCH, DELETE or HEAD"
                ));
                Method::Post
            }),
            Some(_) => {
                check.error("method must be a string");
                Method::Post
            }
        };
        let headers = check.headers("headers", &OWN_HEADERS, rendered);
        let mut query = Vec::new();
        match table.get("query") {
            None => {}
            Some(Value::Object(map)) => {
                for (name, value) in map {
                    match value {
                        Value::String(s) => query.push((name.clone(), s.clone())),
                        Value::Number(_) | Value::Bool(_) => {
                            query.push((name.clone(), value.to_string()))
                        }
                        _ => check.error(format!(
                            "query.{name}: must be a string, a number or a boolean"
                        )),
                    }
                }
            }
            Some(_) => check.error("query must be a table of names to values"),
        }
        let body = match (table.get("body"), table.get("body_text")) {
            (Some(_), Some(_)) => {
                check.error("body and body_text exclude each other");
                Body::Event
            }
            (Some(value), None) => Body::Json(value.clone()),
            (None, Some(Value::String(text))) => Body::Text {
                text: text.clone(),
                content_type: match table.get("content_type") {
                    None => "text/plain; charset=utf-8".into(),
                    Some(Value::String(ct))
                        if hookgate_sdk::http::is_valid_header_value(ct) && !ct.is_empty() =>
                    {
                        ct.clone()
                    }
                    Some(_) => {
                        check.error("content_type must be a media type string");
                        String::new()
                    }
                },
            },
            (None, Some(_)) => {
                check.error("body_text must be a string");
                Body::Event
            }
            (None, None) => Body::Event,
        };
        if table.contains_key("content_type") && !matches!(body, Body::Text { .. }) {
            check.error("content_type goes with body_text");
        }
        check.finish(HttpConfig {
            url,
            method,
            headers,
            query,
            body,
        })
    }
}

fn method(name: &str) -> Option<Method> {
    Some(match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_and_full_configs() {
        let minimal = HttpConfig::parse(&json!({"url": "https://e.com/in"}), true).unwrap();
        assert_eq!(minimal.method, Method::Post);
        assert_eq!(minimal.body, Body::Event);
        let full = HttpConfig::parse(
            &json!({
                "url": "https://e.com/orders/1",
                "method": "put",
                "headers": {"Authorization": "Bearer x", "Idempotency-Key": "order-1"},
                "query": {"a": "b c", "n": 5, "t": true},
                "body": {"total": 1999},
            }),
            true,
        )
        .unwrap();
        assert_eq!(full.method, Method::Put);
        assert_eq!(
            full.headers[1],
            ("idempotency-key".into(), "order-1".into())
        );
        assert_eq!(
            full.query,
            vec![
                ("a".into(), "b c".into()),
                ("n".into(), "5".into()),
                ("t".into(), "true".into())
            ]
        );
        assert_eq!(full.body, Body::Json(json!({"total": 1999})));
        let text = HttpConfig::parse(
            &json!({"url": "https://e.com/", "body_text": "a=1", "content_type": "application/x-www-form-urlencoded"}),
            true,
        )
        .unwrap();
        assert_eq!(
            text.body,
            Body::Text {
                text: "a=1".into(),
                content_type: "application/x-www-form-urlencoded".into()
            }
        );
    }

    #[test]
    fn templates_are_checked_once_rendered() {
        let templated = json!({
            "url": "{{ event.payload.callback }}",
            "method": "{{ event.payload.verb }}",
            "headers": {"x-id": "{{ event.id }}\n"},
        });
        assert!(HttpConfig::parse(&templated, false).is_ok());
        let rendered = json!({"url": "not a url", "method": "TRACE", "headers": {"x-id": "a\nb"}});
        let err = HttpConfig::parse(&rendered, true).unwrap_err();
        assert_eq!(err.split("; ").count(), 3, "{err}");
    }

    #[test]
    fn mistakes_are_listed_at_once() {
        let err = HttpConfig::parse(
            &json!({
                "ulr": "x",
                "headers": {"content-type": "x"},
                "query": {"q": [1]},
                "body": {}, "body_text": "x",
                "content_type": 5,
            }),
            true,
        )
        .unwrap_err();
        for part in [
            "unknown key \"ulr\"",
            "url is required",
            "headers.content-type: set by the action itself",
            "query.q:",
            "body and body_text exclude each other",
            "content_type goes with body_text",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(HttpConfig::parse(&json!([]), true).is_err());
    }
}
