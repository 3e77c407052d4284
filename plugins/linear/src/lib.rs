//! hookgate platform plugin for **Linear** webhooks (data-change and app webhooks).
//!
//! - **Verified**: `Linear-Signature`, the hex HMAC-SHA256 of the raw body under the webhook's
//!   signing secret, then the body's `webhookTimestamp` (milliseconds, signed) within 60 s of
//!   now either way, as Linear's SDK checks it; a shorter `tolerance_secs` narrows the window,
//!   a longer one does not widen it. A body without `webhookTimestamp` is refused.
//! - **Event id**: the `Linear-Delivery` header, Linear's delivery id (not signed); without it,
//!   the signed `{type}:{action}:{data.id}:{createdAt}`.
//! - **Normalized**: `linear.<type in snake case>.<action>` (`linear.issue.create`), the
//!   entity `data.id`, the user the `actor`.
//! - **Signing** (`hookgate send`): `webhookTimestamp` in the operator's body is set to now (the
//!   only change), then the body is signed.
//! - **Answer**: an empty 200; Linear retries anything but a 200 (hookgate's own is a 202).
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Linear platform.
pub struct Linear;

impl Platform for Linear {
    fn metadata() -> Metadata {
        Metadata::new(
            "linear",
            "Linear webhooks (Linear-Signature, HMAC-SHA256, webhookTimestamp within 60 s)",
        )
        .secret_description("webhook signing secret")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    /// Linear counts any status but 200 as a failed delivery (its docs: "responds with a non-200
    /// HTTP status code" is retried, up to 3 times) and hookgate's own answer is a 202: answer 200.
    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        Some(Response::empty(200))
    }

    fn sign_body(request: &Request, context: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
        verify::sign_body(request, context)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Linear);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"lin_wh_test_0123456789abcdefghijklmnopqrstuv";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn accepted_webhooks_are_answered_200() {
        let answer = Linear::answer(&Request::post("{}"), &Settings::none());
        assert_eq!(answer, Some(Response::empty(200)));
    }

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Linear>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn hookgate_send_restamps_a_stale_body() {
        let stale = r#"{"action":"create","type":"Issue","data":{"id":"i1"},"webhookTimestamp":1579784000000}"#;
        let (signed, events) =
            hookgate_sdk::testing::sign_round_trip::<Linear>(Request::post(stale), SECRET, NOW)
                .unwrap();
        assert_eq!(verify::webhook_timestamp_ms(&signed.body), Some(NOW * 1000));
        assert_eq!(events[0].platform_event_id, hookgate_sdk::testing::NONCE);
    }
}
