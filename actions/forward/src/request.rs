//! Builds the outbound request of one delivery attempt: pure, so the exact headers and the
//! signature are unit-tested without a network.

use crate::config::ForwardConfig;
use hookgate_sdk::prelude::*;

/// `user-agent` of every forwarded request, so receivers can recognise (and allow-list) the
/// gateway.
pub const USER_AGENT: &str = concat!("hookgate/", env!("CARGO_PKG_VERSION"));

/// The POST of `delivery` to the configured URL, with every header the contract requires.
///
/// The signature timestamp is the host's `now` of this attempt, not the event's time: a
/// receiver checks it against its own clock to refuse replays, so a retry hours later must
/// carry a fresh timestamp. The message id stays the event id, so receivers de-duplicate
/// retries and replays.
pub fn build(delivery: &Delivery, config: &ForwardConfig) -> Result<HttpRequest, ActionError> {
    let mut request = HttpRequest::new(Method::Post, config.url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", USER_AGENT)
        .header("idempotency-key", delivery.event_id.as_str());
    for (name, value) in &config.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    for (name, value) in delivery.signature_headers(&delivery.event_json)? {
        request = request.header(name, value);
    }
    Ok(request.body(delivery.event_json.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_plugin_standard_webhooks::{StandardWebhooks, verify};
    use hookgate_sdk::serde_json::json;
    use hookgate_sdk::testing::{self, received};

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW_MS: u64 = 1_614_265_330_123;
    const EVENT: &[u8] = br#"{"id":"evt_abc","type":"payment.completed"}"#;

    fn delivery(secret: Option<&str>) -> Delivery {
        Delivery {
            event_json: EVENT.to_vec(),
            event_id: "evt_abc".into(),
            event_type: "payment.completed".into(),
            route: "r0".into(),
            config: json!({}),
            signing_secret: secret.map(Into::into),
            attempt: 3,
            now_unix_ms: NOW_MS,
        }
    }

    fn config() -> ForwardConfig {
        ForwardConfig::parse(&json!({
            "url": "https://example.com/hooks",
            "headers": {"Authorization": "Bearer t"},
        }))
        .unwrap()
    }

    #[test]
    fn unsigned_request_has_the_contract_headers_and_the_exact_body() {
        let req = build(&delivery(None), &config()).unwrap();
        assert_eq!(req.method(), Method::Post);
        assert_eq!(req.url(), "https://example.com/hooks");
        assert_eq!(req.body_bytes(), EVENT);
        assert_eq!(
            req.headers(),
            [
                ("content-type".to_owned(), "application/json".to_owned()),
                (
                    "user-agent".to_owned(),
                    format!("hookgate/{}", env!("CARGO_PKG_VERSION"))
                ),
                ("idempotency-key".to_owned(), "evt_abc".to_owned()),
                ("authorization".to_owned(), "Bearer t".to_owned()),
            ]
        );
    }

    #[test]
    fn signed_request_carries_standard_webhooks_headers() {
        let req = received(&build(&delivery(Some(SECRET)), &config()).unwrap());
        assert_eq!(req.header_text("webhook-id"), Some("evt_abc"));
        assert_eq!(req.header_text("webhook-timestamp"), Some("1614265330"));
        let expected = standard_webhooks::sign(SECRET, "evt_abc", 1_614_265_330, EVENT).unwrap();
        assert_eq!(
            req.header_text("webhook-signature"),
            Some(expected.as_str())
        );
        // Retries and replays keep the key: it depends on the event only.
        let later = Delivery {
            now_unix_ms: NOW_MS + 3_600_000,
            ..delivery(Some(SECRET))
        };
        let retry = received(&build(&later, &config()).unwrap());
        assert_eq!(retry.header_text("idempotency-key"), Some("evt_abc"));
        assert_eq!(retry.header_text("webhook-timestamp"), Some("1614268930"));
    }

    #[test]
    fn the_projects_own_verifier_accepts_what_forward_signs_and_refuses_it_forged() {
        let inbound = received(&build(&delivery(Some(SECRET)), &config()).unwrap());
        let ctx = VerifyContext::new(SECRET, 1_614_265_330);
        assert_eq!(verify::verify(&inbound, &ctx), Ok(()));

        let secret = SECRET.as_bytes();
        let genuine =
            testing::genuine::<StandardWebhooks>(&inbound, secret, 1_614_265_330).unwrap();
        assert_eq!(
            genuine.signature_headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        testing::refusals::<StandardWebhooks>(&genuine, secret, 1_614_265_330);
    }

    #[test]
    fn a_broken_whsec_secret_is_permanent_and_not_quoted() {
        match build(&delivery(Some("whsec_not*base64")), &config()) {
            Err(ActionError::Permanent { reason, .. }) => {
                assert!(!reason.contains("not*base64"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
