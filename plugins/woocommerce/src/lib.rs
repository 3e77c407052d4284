//! hookgate platform plugin for **WooCommerce** webhooks (WooCommerce core's `WC_Webhook`).
//!
//! Verifies `X-WC-Webhook-Signature`: the base64 HMAC-SHA256 of the raw body under the
//! webhook's secret (HTML entities in the stored secret decoded first, as WooCommerce does).
//! WooCommerce signs no timestamp and nothing but the body, so replays are caught by duplicate
//! detection on the event id.
//!
//! The event id is `{X-WC-Webhook-Topic}:{first 32 hex digits of the body's SHA-256}`. The
//! body is signed (the topic header is not). WooCommerce's `X-WC-Webhook-Delivery-ID` is no
//! id: it is a hash of the webhook id and the current second, so two deliveries of one webhook
//! in the same second share it, and it is not signed; it is kept as metadata. The topic is part
//! of the id because `order.created` and `order.updated` often carry byte-identical bodies. The
//! price: two deliveries of one topic with byte-identical bodies count as one event (a second
//! `order.deleted` of the same id after a restore, whose body is only `{"id":N}`, is taken for a
//! duplicate). WooCommerce core never retries a failed delivery.
//!
//! Handshake: when a webhook is created or activated WooCommerce POSTs the form body
//! `webhook_id=N`, with no signature and no `X-WC-Webhook-*` header, and keeps the webhook
//! pending unless the answer is exactly 200. That ping is answered `200` and nothing is stored
//! (it carries nothing to verify or store). No per-source settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The WooCommerce platform.
pub struct WooCommerce;

impl Platform for WooCommerce {
    fn metadata() -> Metadata {
        Metadata::new(
            "woocommerce",
            "WooCommerce webhooks (X-WC-Webhook-Signature, base64 HMAC-SHA256)",
        )
        .secret_description("webhook secret (WooCommerce → Settings → Advanced → Webhooks)")
        .with_handshake()
    }

    fn handshake(request: &Request, _context: &VerifyContext) -> Option<Response> {
        // WooCommerce accepts only exactly 200 here; 202 or 204 would leave the webhook pending.
        verify::is_ping(request).then(|| Response::empty(200))
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(WooCommerce);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"wc-webhook-s3cret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<WooCommerce>(
            env!("CARGO_MANIFEST_DIR"),
            SECRET,
            NOW,
        );
    }

    #[test]
    fn the_creation_ping_gets_exactly_200_and_nothing_else_does() {
        let context = VerifyContext::new(SECRET, NOW);
        let ping = Request::post("webhook_id=12")
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_header("user-agent", "WooCommerce/9.0 Hookshot (WordPress/6.5)");
        assert_eq!(
            WooCommerce::handshake(&ping, &context),
            Some(Response::empty(200))
        );
        // A delivery (it names its topic and is signed) is no ping, whatever its body.
        let delivery = ping
            .clone()
            .with_header("X-WC-Webhook-Topic", "order.created");
        assert_eq!(WooCommerce::handshake(&delivery, &context), None);
        let signed = Request::post("webhook_id=12").with_header("X-WC-Webhook-Signature", "x");
        assert_eq!(WooCommerce::handshake(&signed, &context), None);
        for body in [
            "webhook_id=",
            "webhook_id=12&x=1",
            "webhook_id=abc",
            r#"{"id":12}"#,
        ] {
            assert_eq!(
                WooCommerce::handshake(&Request::post(body), &context),
                None,
                "{body}"
            );
        }
        let get = Request {
            method: "GET".into(),
            ..Request::post("webhook_id=12")
        };
        assert_eq!(WooCommerce::handshake(&get, &context), None);
    }

    #[test]
    fn signing_asks_for_the_topic_header() {
        let message = sign_round_trip::<WooCommerce>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(message.contains("X-WC-Webhook-Topic"), "{message}");
    }
}
