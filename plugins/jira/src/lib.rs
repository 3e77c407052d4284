//! hookgate platform plugin for **Jira Cloud** admin webhooks registered with a secret.
//!
//! Verifies `X-Hub-Signature` (WebSub style `sha256=<hex HMAC-SHA256 of the body>` under the
//! webhook's secret). Jira signs no timestamp (the body's `timestamp` is no replay guard, as
//! retries come up to ~30 minutes late): replays are caught by duplicate detection.
//!
//! The event id is `X-Atlassian-Webhook-Identifier`, which Jira keeps across retries; it is not
//! signed. The type is the body's `webhookEvent` (`jira:issue_updated` →
//! `jira.issue_updated`). No handshake, no per-source settings. Connect apps' JWT-authenticated
//! webhooks are another scheme and not handled here.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Jira Cloud platform.
pub struct Jira;

impl Platform for Jira {
    fn metadata() -> Metadata {
        Metadata::new(
            "jira",
            "Jira Cloud webhooks (X-Hub-Signature, sha256= HMAC-SHA256)",
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

hookgate_sdk::export_platform!(Jira);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing::sign_round_trip;

    const SECRET: &[u8] = b"jira-webhook-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Jira>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn signing_adds_the_identifier_jira_always_sends() {
        let body =
            r#"{"timestamp":1525698237764,"webhookEvent":"sprint_started","sprint":{"id":5}}"#;
        let (signed, events) = sign_round_trip::<Jira>(Request::post(body), SECRET, NOW).unwrap();
        assert_eq!(
            signed.header_text("x-atlassian-webhook-identifier"),
            Some(hookgate_sdk::testing::NONCE)
        );
        assert_eq!(events[0].event_type, "jira.sprint_started");
    }
}
