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

    fn normalize(request: &Request) -> Result<Vec<Event>, NormalizeError> {
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

    const SECRET: &[u8] = b"gh-secret";
    const NOW: i64 = 1_700_000_000;

    fn fixture() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pull_request.opened.json"
        ))
        .unwrap()
    }

    #[test]
    fn signed_test_requests_verify_and_normalize() {
        let request = Request::post(fixture()).with_header("x-github-event", "pull_request");
        let (signed, events) =
            hookgate_sdk::platform::sign_round_trip::<GitHub>(request, SECRET, NOW).unwrap();
        assert_eq!(events.len(), 1);
        // A different secret must not verify what this one signed.
        let other = VerifyContext {
            secrets: vec![b"another-secret".to_vec()],
            tolerance_secs: 300,
            now_unix_secs: NOW,
        };
        assert!(GitHub::verify(&signed, &other).is_err());
    }

    #[test]
    fn signing_asks_for_the_header_that_names_the_event() {
        let request = Request::post(fixture());
        match hookgate_sdk::platform::sign_round_trip::<GitHub>(request, SECRET, NOW) {
            Err(message) => assert!(message.contains("X-GitHub-Event"), "{message}"),
            Ok(_) => panic!("signed without X-GitHub-Event"),
        }
    }
}
