//! hookgate platform plugin for the **SendGrid** signed Event Webhook.
//!
//! - **Verified**: `X-Twilio-Email-Event-Webhook-Signature`, the base64 DER ECDSA P-256/SHA-256
//!   signature of `X-Twilio-Email-Event-Webhook-Timestamp` followed by the raw body (CR LFs
//!   included). The source's secret is the webhook's **verification key**, the base64 DER
//!   public key SendGrid shows (PEM accepted). A timestamp older than the tolerance is refused;
//!   a future one is accepted, as SendGrid's SDKs (which check no time) accept it.
//! - **Events**: the body is an array of events; each becomes one event, with its
//!   `sg_event_id` (signed) as id and itself as payload. Types are `sendgrid.<event>`.
//! - **Signing** (`hookgate send --key`): the key is a P-256 private key, the raw 32 bytes as 64
//!   hex characters or base64 (or PKCS#8 as base64/PEM), whose public key the source has.
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The SendGrid platform.
pub struct SendGrid;

impl Platform for SendGrid {
    fn metadata() -> Metadata {
        Metadata::new(
            "sendgrid",
            "SendGrid Event Webhook (ECDSA P-256 signatures, batched events)",
        )
        .secret_description("Event Webhook verification key (base64 DER public key)")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(SendGrid);

#[cfg(test)]
mod tests {
    use super::*;

    /// A test key pair: the raw private scalar as hex (what `hookgate send --key` takes) and
    /// its public key as base64 DER (what the source is configured with), made with Python
    /// `cryptography`.
    const PRIVATE: &[u8] = b"1f2e3d4c5b6a79880123456789abcdeffedcba98765432100f1e2d3c4b5a6978";
    const PUBLIC: &[u8] = b"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXiR2E7qO0Bykf/4DYEbt+lllF9tn0E54ieK9Ozl4fdqQh9Ymr38HE1On+3IZaI07JZsBaT8yLoff5YDe6D8AJw==";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures_keyed::<SendGrid>(
            env!("CARGO_MANIFEST_DIR"),
            PUBLIC,
            PRIVATE,
            NOW,
        );
    }
}
