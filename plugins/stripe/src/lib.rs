//! hookgate platform plugin for **Stripe** webhooks.
//!
//! Verifies `Stripe-Signature` (`t=…,v1=…`, several `v1` during secret rotation) over
//! `{t}.{body}` with HMAC-SHA256 and the endpoint's `whsec_…` secret, enforces the timestamp
//! tolerance, and normalizes Stripe events (`payment_intent.succeeded` → `payment.completed`…).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Stripe platform.
pub struct Stripe;

impl Platform for Stripe {
    fn metadata() -> Metadata {
        Metadata::new(
            "stripe",
            "Stripe webhooks (Stripe-Signature, HMAC-SHA256, timestamped)",
        )
        .secret_description("endpoint signing secret (whsec_…)")
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

hookgate_sdk::export_platform!(Stripe);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Stripe>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
