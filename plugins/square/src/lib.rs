//! hookgate platform plugin for **Square** webhooks (event notifications).
//!
//! - **Verified**: `x-square-hmacsha256-signature`, the base64 HMAC-SHA256 under the
//!   subscription's signature key of the notification URL followed by the raw body. The URL is
//!   `request.url`: set the source's `public_url` to the notification URL registered with
//!   Square, byte for byte. Square signs no timestamp, so there is no replay window.
//! - **Event id**: `event_id` (signed), Square's idempotency value for redeliveries.
//! - **Normalized**: customer, order and subscription events to their neutral names,
//!   `invoice.payment_made` → `invoice.paid`, the rest `square.<type>`; amounts from the
//!   object's `amount_money` or `total_money`.
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Square platform.
pub struct Square;

impl Platform for Square {
    fn metadata() -> Metadata {
        Metadata::new(
            "square",
            "Square webhooks (x-square-hmacsha256-signature, HMAC-SHA256 of URL and body)",
        )
        .secret_description("webhook subscription signature key")
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

hookgate_sdk::export_platform!(Square);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"Ibxx_5AKakO-3qeNVR61Dw";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Square>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
