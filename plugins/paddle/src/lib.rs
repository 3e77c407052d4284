//! hookgate platform plugin for **Paddle Billing** webhooks (not Paddle Classic, which signs
//! form fields with RSA).
//!
//! - **Verified**: `Paddle-Signature: ts=…;h1=…`, the hex HMAC-SHA256 of `{ts}:{body}` under the
//!   notification destination's secret key (`pdl_ntfset_…`); any `h1` may match (rotation).
//!   Timestamps older than the source's tolerance are refused and future ones accepted, as
//!   Paddle's SDKs do (their default window is 5 s: set `tolerance_secs = 5` to match it).
//! - **Event id**: `event_id` (signed), the same on every delivery and destination of an event.
//! - **Normalized**: `transaction.completed` → `payment.completed`,
//!   `transaction.payment_failed` → `payment.failed`, customer and subscription events to their
//!   neutral names, the rest `paddle.<event_type>`; amounts from Paddle's integer strings.
//! - **Answer**: an empty 200, which Paddle's docs require (hookgate's own is a 202).
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Paddle platform.
pub struct Paddle;

impl Platform for Paddle {
    fn metadata() -> Metadata {
        Metadata::new(
            "paddle",
            "Paddle Billing webhooks (Paddle-Signature, HMAC-SHA256, timestamped)",
        )
        .secret_description("notification destination secret key (pdl_ntfset_…)")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    /// Paddle's docs require "HTTP 200 within five seconds" and retry anything else (up to 60
    /// times over 3 days); hookgate's own answer is a 202: answer 200.
    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        Some(Response::empty(200))
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Paddle);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"pdl_ntfset_01h8e1jxna32kc43ev1vkqsq8x_test";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn accepted_webhooks_are_answered_200() {
        let answer = Paddle::answer(&Request::post("{}"), &Settings::none());
        assert_eq!(answer, Some(Response::empty(200)));
    }

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Paddle>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
