//! hookgate platform plugin for **Calendly** API v2 webhook subscriptions.
//!
//! Verifies `Calendly-Webhook-Signature` (`t=<unix seconds>,v1=<hex>`): the HMAC-SHA256 of
//! `{t}.{body}` under the subscription's signing key (the key passed at creation, or the OAuth
//! app's), refusing a `t` older than the source's tolerance. Calendly documents its replay
//! check as rejecting old signatures only, so a `t` ahead of hookgate's clock is accepted.
//!
//! Calendly sends no event or delivery id. The event id is `{event}:{payload.uri}:{created_at}`,
//! all signed: the same invitee URI appears in `invitee.created` and its later
//! `invitee.canceled`, so the event name is part of it, and `created_at` (when Calendly created
//! the webhook event) stays the same on retries. No handshake, no per-source settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Calendly platform.
pub struct Calendly;

impl Platform for Calendly {
    fn metadata() -> Metadata {
        Metadata::new(
            "calendly",
            "Calendly webhooks (Calendly-Webhook-Signature, HMAC-SHA256, timestamped)",
        )
        .secret_description("webhook signing key")
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

hookgate_sdk::export_platform!(Calendly);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"calendly-signing-key";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Calendly>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
