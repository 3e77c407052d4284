//! The route `config` table of a `forward` route, checked once when the configuration loads
//! (so a typo is refused at start) and again before each attempt.
//!
//! ```toml
//! config = { url = "https://example.com/hooks", headers = { x-tenant = "acme" } }
//! ```

use hookgate_sdk::api::{ConfigCheck, is_template};
use hookgate_sdk::http::Url;
use serde_json::Value;

/// The keys a `forward` config may have; anything else is a typo.
pub const ALLOWED_KEYS: [&str; 2] = ["url", "headers"];

/// Headers the plugin sets itself: a route overriding them would break idempotency,
/// signatures or the body framing.
const OWN_HEADERS: [&str; 9] = [
    "content-type",
    "content-length",
    "user-agent",
    "idempotency-key",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "host",
    "date",
];

/// A checked `forward` config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardConfig {
    /// Where events are POSTed: absolute `http` or `https`.
    pub url: String,
    /// Extra headers, names in lower case, in the order of the config.
    pub headers: Vec<(String, String)>,
}

impl ForwardConfig {
    /// Checks and extracts the config. Every problem is reported at once, separated by `; `,
    /// so an operator fixes the table in one go. Header values are never quoted in errors:
    /// they often hold credentials.
    pub fn parse(config: &Value) -> Result<ForwardConfig, String> {
        let mut check = ConfigCheck::new(config, &ALLOWED_KEYS, "{ url = \"https://...\" }")?;
        let url = match check.get("url") {
            None => {
                check.error("url is required");
                String::new()
            }
            Some(Value::String(url)) => {
                // A templated URL is checked once rendered, before each attempt.
                if !is_template(url)
                    && let Err(e) = Url::parse(url)
                {
                    check.error(format!("url {url:?}: {e}"));
                }
                url.clone()
            }
            Some(_) => {
                check.error("url must be a string");
                String::new()
            }
        };
        let headers = check.headers("headers", &OWN_HEADERS, true);
        check.finish(ForwardConfig { url, headers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_and_full_configs() {
        assert_eq!(
            ForwardConfig::parse(&json!({"url": "https://example.com/hooks"})),
            Ok(ForwardConfig {
                url: "https://example.com/hooks".into(),
                headers: vec![],
            })
        );
        let full = ForwardConfig::parse(&json!({
            "url": "http://127.0.0.1:9000/in",
            "headers": {"Authorization": "Bearer t0ken", "x-tenant": "acme"},
        }))
        .unwrap();
        assert_eq!(
            full.headers,
            vec![
                ("authorization".to_owned(), "Bearer t0ken".to_owned()),
                ("x-tenant".to_owned(), "acme".to_owned()),
            ]
        );
    }

    #[test]
    fn url_is_required_absolute_and_http() {
        assert_eq!(
            ForwardConfig::parse(&json!({})),
            Err("url is required".into())
        );
        assert_eq!(
            ForwardConfig::parse(&json!({"url": 5})),
            Err("url must be a string".into())
        );
        for bad in ["/relative", "example.com", "ftp://example.com/", "https://"] {
            let err = ForwardConfig::parse(&json!({ "url": bad })).unwrap_err();
            assert!(err.starts_with("url "), "{bad}: {err}");
        }
        assert!(ForwardConfig::parse(&json!("https://example.com")).is_err());
    }

    #[test]
    fn unknown_keys_list_the_allowed_ones() {
        let err = ForwardConfig::parse(&json!({"url": "https://e.com/", "ulr": "x"})).unwrap_err();
        assert_eq!(err, "unknown key \"ulr\" (allowed: url, headers)");
    }

    #[test]
    fn refuses_headers_the_plugin_owns_or_that_are_hop_by_hop() {
        for name in [
            "Content-Type",
            "idempotency-key",
            "Webhook-Signature",
            "user-agent",
            "Connection",
            "transfer-encoding",
            "host",
        ] {
            let err = ForwardConfig::parse(&json!({
                "url": "https://e.com/",
                "headers": { name: "x" },
            }))
            .unwrap_err();
            assert!(err.starts_with(&format!("headers.{name}: ")), "{err}");
        }
    }

    #[test]
    fn refuses_bad_header_names_and_values_without_quoting_values() {
        let err = ForwardConfig::parse(&json!({
            "url": "https://e.com/",
            "headers": {"bad name": "v", "x-a": 1, "x-b": "secret\r\nx-evil: 1"},
        }))
        .unwrap_err();
        assert!(
            err.contains("headers.bad name: not a valid header name"),
            "{err}"
        );
        assert!(
            err.contains("headers.x-a: the value must be a string"),
            "{err}"
        );
        assert!(err.contains("headers.x-b: the value contains"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(ForwardConfig::parse(&json!({"url": "https://e.com/", "headers": []})).is_err());
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = ForwardConfig::parse(&json!({"nope": 1, "headers": {"host": "x"}})).unwrap_err();
        assert_eq!(err.split("; ").count(), 3, "{err}");
    }
}
