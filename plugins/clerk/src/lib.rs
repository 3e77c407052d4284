//! hookgate platform plugin for **Clerk** webhooks (delivered through Svix).
//!
//! - **Verification**: as Clerk's `verifyWebhook` (see [`verify`]): the `svix-id`,
//!   `svix-timestamp` and `svix-signature` headers, all required; `v1,<base64 HMAC-SHA256>`
//!   over `{svix-id}.{svix-timestamp as parsed}.{body}`, keyed with the base64 after `whsec_`;
//!   the timestamp within the tolerance both ways. Every configured secret is tried (rotation).
//! - **Event id**: the `svix-id` header, signed and the same in every retry and in replays
//!   from the Clerk Dashboard. The body has none.
//! - **Type**: Clerk Billing's `subscription.created|updated` keep their (neutral) names, a
//!   `paymentAttempt.updated` whose status is `paid` or `failed` is `payment.completed` /
//!   `payment.failed`, and everything else is `clerk.<type in snake case>`
//!   (`clerk.user.created`, `clerk.organization_membership.created`). Entity `data.id` of type
//!   `data.object`; time `timestamp` (Unix ms); amounts from billing totals' decimal
//!   `amount_formatted`.
//! - **Handshake**: none. **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Clerk platform.
pub struct Clerk;

impl Platform for Clerk {
    fn metadata() -> Metadata {
        Metadata::new(
            "clerk",
            "Clerk webhooks (Svix signatures: svix-id, svix-timestamp, svix-signature)",
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

hookgate_sdk::export_platform!(Clerk);

#[cfg(test)]
mod tests {
    use super::*;

    // Clerk's test secret: "whsec_" + base64("test_signing_secret_32_chars_long").
    const SECRET: &[u8] = b"whsec_dGVzdF9zaWduaW5nX3NlY3JldF8zMl9jaGFyc19sb25n";
    const NOW: i64 = 1_654_012_600;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Clerk>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
