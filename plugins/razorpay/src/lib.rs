//! hookgate platform plugin for **Razorpay** webhooks (Payments, Subscriptions, RazorpayX).
//!
//! Verifies `X-Razorpay-Signature`: lower-case hex HMAC-SHA256 of the raw body under the
//! webhook secret typed in the Dashboard (raw bytes), as Razorpay's Node SDK
//! (`validateWebhookSignature`) computes it. Razorpay signs no timestamp, so there is no replay
//! window: a replay is caught by duplicate detection on the event id. After a secret change
//! Razorpay still signs retries of older events with the old secret: keep both configured.
//!
//! The event id is the `x-razorpay-event-id` header, the same on every redelivery. It is **not
//! signed** (the body carries no event id at all): a replayed body under a new id would be
//! stored again. Without the header the id is `sha256:<hex of the body>`, which a redelivery
//! of the same bytes repeats. No handshake, no settings. Amounts are already integers in the
//! currency's smallest unit (paise for INR).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Razorpay platform.
pub struct Razorpay;

impl Platform for Razorpay {
    fn metadata() -> Metadata {
        Metadata::new(
            "razorpay",
            "Razorpay webhooks (X-Razorpay-Signature, HMAC-SHA256)",
        )
        .secret_description("webhook secret")
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

hookgate_sdk::export_platform!(Razorpay);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"rzp-webhook-secret-0123456789";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Razorpay>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
