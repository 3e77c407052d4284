//! hookgate platform plugin for **Bitbucket Cloud** repository and workspace webhooks.
//!
//! Verifies `X-Hub-Signature` (`sha256=<hex HMAC-SHA256 of the body>` under the webhook's
//! secret; Bitbucket uses GitHub's old header name with SHA-256). Bitbucket signs only webhooks
//! that have a secret, and signs no timestamp: replays are caught by duplicate detection.
//!
//! The event id is `X-Request-UUID`, the delivery's UUID, which Bitbucket keeps across its
//! (up to three) attempts; like every Bitbucket header it is not signed. The type comes from
//! `X-Event-Key` (`pullrequest:created` → `bitbucket.pullrequest.created`). No handshake, no
//! per-source settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Bitbucket Cloud platform.
pub struct Bitbucket;

impl Platform for Bitbucket {
    fn metadata() -> Metadata {
        Metadata::new(
            "bitbucket",
            "Bitbucket Cloud webhooks (X-Hub-Signature, sha256= HMAC-SHA256)",
        )
        .secret_description("webhook secret")
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

hookgate_sdk::export_platform!(Bitbucket);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"bb-webhook-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Bitbucket>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn signing_asks_for_the_event_key_and_adds_a_request_uuid() {
        let message = sign_round_trip::<Bitbucket>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(message.contains("X-Event-Key"), "{message}");
        let request = Request::post("{}").with_header("X-Event-Key", "repo:push");
        let (signed, events) = sign_round_trip::<Bitbucket>(request, SECRET, NOW).unwrap();
        assert_eq!(
            signed.header_text("x-request-uuid"),
            Some(hookgate_sdk::testing::NONCE)
        );
        assert_eq!(events[0].event_type, "bitbucket.repo.push");
    }
}
