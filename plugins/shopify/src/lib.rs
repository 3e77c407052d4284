//! hookgate platform plugin for **Shopify** webhooks.
//!
//! Verifies `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the body under the app's client
//! secret), maps `X-Shopify-Topic` to a normalized type, and identifies events by
//! `X-Shopify-Event-Id` (or the legacy `X-Shopify-Webhook-Id`) — never by a timestamp, which
//! would make two events in the same second look like duplicates.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Shopify platform.
pub struct Shopify;

impl Platform for Shopify {
    fn metadata() -> Metadata {
        Metadata::new(
            "shopify",
            "Shopify webhooks (X-Shopify-Hmac-Sha256, base64 HMAC-SHA256)",
        )
        .secret_description("app client secret")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Shopify);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"shpss_secret";
    const NOW: i64 = 1_700_000_000;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/orders.create.json"
        ))
        .unwrap()
    }

    #[test]
    fn signed_test_requests_verify_and_normalize() {
        let request = Request::post(fixture()).with_header("x-shopify-topic", "orders/create");
        let (signed, events) =
            hookgate_sdk::platform::sign_round_trip::<Shopify>(request, SECRET, NOW).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "order.created");
        // A different secret must not verify what this one signed.
        let other = VerifyContext {
            secrets: vec![b"another-secret".to_vec()],
            tolerance_secs: 300,
            now_unix_secs: NOW,
        };
        assert!(Shopify::verify(&signed, &other).is_err());
    }

    #[test]
    fn signing_asks_for_the_header_that_names_the_event() {
        let request = Request::post(fixture());
        match hookgate_sdk::platform::sign_round_trip::<Shopify>(request, SECRET, NOW) {
            Err(message) => assert!(message.contains("X-Shopify-Topic"), "{message}"),
            Ok(_) => panic!("signed without X-Shopify-Topic"),
        }
    }
}
