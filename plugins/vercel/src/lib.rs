//! hookgate platform plugin for **Vercel** webhooks (account webhooks and integration
//! webhooks).
//!
//! Verifies `x-vercel-signature`: the hex HMAC-**SHA1** of the raw body, under the secret shown
//! when an account webhook is created, or the integration's client secret. Vercel signs no
//! timestamp: replays are caught by duplicate detection.
//!
//! The event id is the body's `id` (signed), which Vercel documents as the delivery's id. The
//! type is the body's `type` (`deployment.created` → `vercel.deployment.created`); the legacy
//! hyphenated names older integrations receive (`deployment-ready`) are mapped to the dotted
//! names where the two are documented to be the same event. No handshake, no per-source
//! settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Vercel platform.
pub struct Vercel;

impl Platform for Vercel {
    fn metadata() -> Metadata {
        Metadata::new("vercel", "Vercel webhooks (x-vercel-signature, HMAC-SHA1)")
            .secret_description("webhook secret, or the integration's client secret")
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

hookgate_sdk::export_platform!(Vercel);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"vercel-webhook-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Vercel>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
