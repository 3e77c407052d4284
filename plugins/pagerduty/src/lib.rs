//! hookgate platform plugin for **PagerDuty** webhooks (v3 webhook subscriptions).
//!
//! Verifies `X-PagerDuty-Signature`: one or more comma-separated `v1=<hex HMAC-SHA256 of the raw
//! body>` entries, one per active subscription secret (PagerDuty signs with both while a secret
//! is rotated), any of which may match; entries of other versions are ignored, as in
//! go-pagerduty's `webhookv3.VerifySignature`. The key is the subscription secret as raw bytes:
//! it looks like base64 but is not decoded. PagerDuty signs no timestamp, so there is no replay
//! window: a replay is caught by duplicate detection on the event id.
//!
//! The event id is the body's `event.id`, covered by the signature (the `X-Webhook-Id` delivery
//! header is stable across retries too, but unsigned). No handshake, no settings. PagerDuty
//! treats any 4xx but 429 as final and disables a subscription after a few: the gateway
//! answers 4xx only to forgeries, and 503 to its own faults.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The PagerDuty platform.
pub struct PagerDuty;

impl Platform for PagerDuty {
    fn metadata() -> Metadata {
        Metadata::new(
            "pagerduty",
            "PagerDuty v3 webhooks (X-PagerDuty-Signature, HMAC-SHA256)",
        )
        .secret_description("webhook subscription secret")
        // Payloads over 256 KB are dropped by PagerDuty itself.
        .suggested_max_body_bytes(256 * 1024)
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

hookgate_sdk::export_platform!(PagerDuty);

#[cfg(test)]
mod tests {
    use super::*;

    /// go-pagerduty's test secret: the `priority_updated` fixture carries the signature its
    /// test publishes, verified as it is.
    pub(crate) const SECRET: &[u8] =
        b"lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<PagerDuty>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
