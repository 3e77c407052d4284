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

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
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
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"shpss_secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Shopify>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn signing_asks_for_the_header_that_names_the_event() {
        let message = sign_round_trip::<Shopify>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(message.contains("X-Shopify-Topic"), "{message}");
    }
}
