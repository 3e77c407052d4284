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
}

hookgate_sdk::export_platform!(Slack);
