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
}

hookgate_sdk::export_platform!(Shopify);
