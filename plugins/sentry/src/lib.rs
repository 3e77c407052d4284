//! hookgate platform plugin for **Sentry** integration-platform webhooks (Sentry apps and
//! internal integrations).
//!
//! Verifies `Sentry-Hook-Signature`: the hex HMAC-SHA256 of the raw body under the
//! integration's client secret. `Sentry-Hook-Timestamp` is not signed and Sentry defines no
//! window, so it is not checked: replays are caught by duplicate detection.
//!
//! The event id is `{resource}.{action}:{first 32 hex digits of the body's SHA-256}`. Sentry's
//! `Request-ID` is made afresh for every attempt (and unsigned), so it cannot recognise a
//! retry; the body is signed, and a retry of the same data is the same bytes. Sentry rebuilds an
//! issue webhook's body from the issue's current state when it retries, so a retry after the
//! issue changed counts as a new event. The resource (`issue`, `error`, `comment`,
//! `event_alert`, `metric_alert`, `installation`, …) is only in the `Sentry-Hook-Resource`
//! header. No handshake (installation is an ordinary `installation.created` webhook), no
//! per-source settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Sentry platform.
pub struct Sentry;

impl Platform for Sentry {
    fn metadata() -> Metadata {
        Metadata::new(
            "sentry",
            "Sentry integration webhooks (Sentry-Hook-Signature, HMAC-SHA256)",
        )
        .secret_description("integration client secret")
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

hookgate_sdk::export_platform!(Sentry);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"sentry-client-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Sentry>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn signing_asks_for_the_resource_and_adds_what_sentry_always_sends() {
        let message = sign_round_trip::<Sentry>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(message.contains("Sentry-Hook-Resource"), "{message}");
        let request = Request::post(r#"{"action":"created"}"#)
            .with_header("Sentry-Hook-Resource", "installation");
        let (signed, events) = sign_round_trip::<Sentry>(request, SECRET, NOW).unwrap();
        assert_eq!(
            signed.header_text("request-id"),
            Some(hookgate_sdk::testing::NONCE)
        );
        assert_eq!(
            signed.header_text("sentry-hook-timestamp"),
            Some("1700000000")
        );
        assert_eq!(events[0].event_type, "sentry.installation.created");
    }
}
