//! hookgate platform plugin for **Resend** webhooks (delivered through Svix).
//!
//! - **Verification**: Standard Webhooks, exactly as the `standardwebhooks` library that
//!   `resend.webhooks.verify` wraps (see [`verify`]): `svix-signature` `v1,<base64
//!   HMAC-SHA256>` over `{svix-id}.{svix-timestamp as parsed}.{body}`, keyed with the base64
//!   after `whsec_`, timestamp within the tolerance both ways; `webhook-*` names as the Svix
//!   libraries' fallback. Every configured secret is tried (rotation).
//! - **Event id**: the `svix-id` header (`msg_…`), signed and the same in every retry; Resend's
//!   API calls it the webhook event's id. The body has none.
//! - **Type**: `resend.<type>` (`resend.email.bounced`); entity `data.email_id` for email
//!   events, `data.id` for contacts, domains and suppressions; time `created_at`.
//! - **Handshake**: none. **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Resend platform.
pub struct Resend;

impl Platform for Resend {
    fn metadata() -> Metadata {
        Metadata::new(
            "resend",
            "Resend webhooks (Svix signatures: svix-id, svix-timestamp, svix-signature)",
        )
        .secret_description("webhook signing secret (whsec_…)")
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

hookgate_sdk::export_platform!(Resend);

#[cfg(test)]
mod tests {
    use super::*;

    // resend-node's test secret (the Standard Webhooks example secret).
    const SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_750_000_100;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Resend>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
