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

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        let challenge = normalize::url_verification_challenge(request)?;
        // An unsigned challenge gets no answer here; the host then verifies the request as an
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

hookgate_sdk::export_platform!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Slack>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn only_a_signed_url_verification_is_answered() {
        let challenge = Request::post(r#"{"type":"url_verification","challenge":"c-123"}"#)
            .with_header("content-type", "application/json");
        let context = VerifyContext::new(SECRET, NOW);
        assert_eq!(Slack::handshake(&challenge, &context), None);
        let signed = hookgate_sdk::testing::sign::<Slack>(&challenge, SECRET, NOW).unwrap();
        assert_eq!(
            Slack::handshake(&signed, &context),
            Some(Response::ok("text/plain", "c-123"))
        );
        let stale = VerifyContext::new(SECRET, NOW + 301);
        assert_eq!(Slack::handshake(&signed, &stale), None);
    }
}
