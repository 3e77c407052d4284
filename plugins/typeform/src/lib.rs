//! hookgate platform plugin for **Typeform** webhooks (form responses).
//!
//! Verifies `Typeform-Signature`: `sha256=` + standard base64 of the HMAC-SHA256 of the raw body
//! under the webhook's `secret` (raw bytes), as Typeform's "Secure your webhooks" guide
//! computes it. Typeform signs no timestamp, so there is no replay window: a replay is caught by
//! duplicate detection on the event id. A webhook without a secret sends no signature; such a
//! source cannot be verified and is refused.
//!
//! The event id is the body's `event_id`, covered by the signature. No handshake, no settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Typeform platform.
pub struct Typeform;

impl Platform for Typeform {
    fn metadata() -> Metadata {
        Metadata::new(
            "typeform",
            "Typeform webhooks (Typeform-Signature, base64 HMAC-SHA256)",
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

hookgate_sdk::export_platform!(Typeform);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"typeform-webhook-secret-0123456789";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Typeform>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
