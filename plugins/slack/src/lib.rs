//! hookgate platform plugin for **Slack** (Events API, slash commands, interactivity).
//!
//! Verifies `X-Slack-Signature` (`v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">`) with the app's
//! signing secret and a replay window on `X-Slack-Request-Timestamp`; answers the Events API
//! `url_verification` handshake, but only once its signature checks out.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Slack platform.
pub struct Slack;

impl Platform for Slack {
    fn metadata() -> Metadata {
        Metadata::new(
            "slack",
            "Slack Events API, slash commands and interactivity (v0 signatures)",
        )
        .secret_description("app signing secret")
        .with_handshake()
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<HandshakeResponse> {
        let challenge = normalize::url_verification_challenge(request)?;
        // An unsigned challenge gets no answer here; the host then verifies the request as an
        // ordinary webhook, which refuses it with a 401.
        verify::verify(request, context).ok()?;
        Some(HandshakeResponse::ok("text/plain", challenge))
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const NOW: i64 = 1_700_000_000;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/event_callback.message.json"
        ))
        .unwrap()
    }

    #[test]
    fn signed_test_requests_verify_and_normalize() {
        let request = Request::post(fixture());
        let (signed, events) =
            hookgate_sdk::platform::sign_round_trip::<Slack>(request, SECRET, NOW).unwrap();
        assert_eq!(events.len(), 1);
        // A different secret must not verify what this one signed.
        let other = VerifyContext {
            secrets: vec![b"another-secret".to_vec()],
            tolerance_secs: 300,
            now_unix_secs: NOW,
        };
        assert!(Slack::verify(&signed, &other).is_err());
    }
}
