//! hookgate platform plugin for **GitHub** webhooks.
//!
//! Verifies `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256 of the body>`), takes the event
//! name from `X-GitHub-Event` and the id from `X-GitHub-Delivery`. GitHub signs no timestamp:
//! replays are caught by duplicate detection on the delivery id.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The GitHub platform.
pub struct GitHub;

impl Platform for GitHub {
    fn metadata() -> Metadata {
        Metadata::new(
            "github",
            "GitHub webhooks (X-Hub-Signature-256, HMAC-SHA256)",
        )
        .secret_description("webhook secret")
        // GitHub caps payloads at 25 MB and never retries a 413.
        .suggested_max_body_bytes(25 * 1024 * 1024)
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

hookgate_sdk::export_platform!(GitHub);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"gh-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<GitHub>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn signing_asks_for_the_header_that_names_the_event() {
        let message = sign_round_trip::<GitHub>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(message.contains("X-GitHub-Event"), "{message}");
    }
}
