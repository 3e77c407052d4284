//! hookgate platform plugin for **Standard Webhooks** senders — and Svix, which uses the same
//! scheme under `svix-*` header names — so one plugin serves Svix, Clerk, Resend, and every
//! other sender that follows <https://www.standardwebhooks.com>.
//!
//! Verifies `webhook-signature` (space-separated `v1,<base64 HMAC-SHA256>` entries, or `v1a,`
//! Ed25519 entries for `whpk_` public keys) over `{id}.{timestamp}.{body}`, with `whsec_`
//! base64 secrets and a replay window on `webhook-timestamp`.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Standard Webhooks platform.
pub struct StandardWebhooks;

impl Platform for StandardWebhooks {
    fn metadata() -> Metadata {
        Metadata::new(
            "standard-webhooks",
            "Standard Webhooks / Svix senders (webhook-* or svix-* headers; Clerk, Resend, ...)",
        )
        .secret_description("endpoint secret (whsec_… or whpk_… public key)")
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

hookgate_sdk::export_platform!(StandardWebhooks);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_654_012_591;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<StandardWebhooks>(
            env!("CARGO_MANIFEST_DIR"),
            SECRET,
            NOW,
        );
    }
}
