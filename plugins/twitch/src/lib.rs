//! hookgate platform plugin for **Twitch EventSub** (webhook transport).
//!
//! Verifies `Twitch-Eventsub-Message-Signature`: `sha256=` + lower-case hex HMAC-SHA256 of
//! `Twitch-Eventsub-Message-Id` + `Twitch-Eventsub-Message-Timestamp` + the raw body, no
//! separators, under the subscription's `secret` (raw bytes; Twitch secrets are per
//! subscription, so configure every one the endpoint serves). The timestamp (RFC 3339, up to
//! nanoseconds) must be within the source's `tolerance_secs` either way. Twitch's guidance is
//! to refuse messages older than 10 minutes; the source's setting decides here (default 300 s,
//! set `tolerance_secs = 600` to follow Twitch exactly), and a timestamp that far in the future
//! is refused too: Twitch's sample verifies no time at all, and the docs only speak of the past.
//!
//! The event id is `Twitch-Eventsub-Message-Id`, covered by the signature and the same when
//! Twitch resends a message. All three message types are signed and verified:
//! - `webhook_callback_verification` is answered by [`Platform::handshake`] with `200`, the
//!   raw challenge as `text/plain`, once its signature checks out (else it is refused with a
//!   401 like any forged request, which fails the subscription);
//! - `notification` becomes `twitch.<subscription type>` (`twitch.channel.follow`, …);
//! - `revocation` is stored as `twitch.revocation.<reason>` (`twitch.revocation.
//!   authorization_revoked`, …) so that a lost subscription is noticed.
//!
//! No settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Twitch EventSub platform.
pub struct Twitch;

impl Platform for Twitch {
    fn metadata() -> Metadata {
        Metadata::new(
            "twitch",
            "Twitch EventSub webhooks (Twitch-Eventsub-Message-Signature, HMAC-SHA256, timestamped)",
        )
        .secret_description("EventSub subscription secret")
        .with_handshake()
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        let challenge = normalize::verification_challenge(request)?;
        // An unverified challenge gets no answer here: the host then verifies the request as an
        // ordinary webhook, which refuses it with a 401.
        verify::verify(request, context).ok()?;
        Some(Response::ok("text/plain", challenge))
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

hookgate_sdk::export_platform!(Twitch);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign;

    const SECRET: &[u8] = b"keepItSecretKeepItSafe";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Twitch>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    fn challenge_request() -> Request {
        Request::post(
            r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"2","cost":1,"condition":{"broadcaster_user_id":"12826","moderator_user_id":"12826"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z"}}"#,
        )
        .with_header("Content-Type", "application/json")
        .with_header("Twitch-Eventsub-Message-Type", "webhook_callback_verification")
    }

    #[test]
    fn only_a_verified_callback_verification_is_answered_with_the_raw_challenge() {
        let context = VerifyContext::new(SECRET, NOW);
        let unsigned = challenge_request();
        assert_eq!(Twitch::handshake(&unsigned, &context), None);
        let signed = sign::<Twitch>(&unsigned, SECRET, NOW).unwrap();
        let answer = Twitch::handshake(&signed, &context).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"pogchamp-kappa-360noscope-vohiyo");
        assert_eq!(
            answer.headers,
            [("content-type".to_owned(), "text/plain".to_owned())]
        );
        // Signed with another secret, or too old: refused.
        let other = sign::<Twitch>(&unsigned, b"someone-elses-secret", NOW).unwrap();
        assert_eq!(Twitch::handshake(&other, &context), None);
        let stale = VerifyContext::new(SECRET, NOW + 301);
        assert_eq!(Twitch::handshake(&signed, &stale), None);
    }

    #[test]
    fn notifications_and_revocations_are_not_handshakes() {
        let context = VerifyContext::new(SECRET, NOW);
        let mut notification = challenge_request();
        notification
            .headers
            .retain(|(n, _)| n != "twitch-eventsub-message-type");
        let notification = notification.with_header("Twitch-Eventsub-Message-Type", "notification");
        let signed = sign::<Twitch>(&notification, SECRET, NOW).unwrap();
        assert_eq!(Twitch::handshake(&signed, &context), None);
    }
}
