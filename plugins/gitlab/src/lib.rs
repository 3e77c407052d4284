//! hookgate platform plugin for **GitLab** webhooks (project, group and system hooks).
//!
//! GitLab authenticates a hook in one of two ways, and the source's secret says which:
//! - **Secret token** (every GitLab): GitLab sends the hook's token itself in `X-Gitlab-Token`,
//!   compared here in constant time with each configured secret (line breaks removed, as GitLab
//!   removes them before sending). This proves the sender knows the token, nothing more: the
//!   body is not authenticated and nothing is timestamped, so a captured request can be
//!   replayed (duplicate detection then catches the same event id).
//! - **Signing token** (`whsec_<base64>`, GitLab's newer Standard Webhooks signing): the
//!   `webhook-signature` header holds `v1,<base64 HMAC-SHA256>` entries over
//!   `{webhook-id}.{webhook-timestamp}.{body}` under the base64-decoded key, and the timestamp
//!   must be within the source's `tolerance_secs` either way (as the Standard Webhooks
//!   libraries check it). As soon as one configured secret is a `whsec_` signing token, every
//!   request must carry a valid signature: `X-Gitlab-Token` alone is not accepted any more.
//!
//! The event id is `Idempotency-Key` (its signed copy `webhook-id` when present): GitLab
//! creates it once per event and hook and reuses it on retries. `X-Gitlab-Event-UUID` is not
//! used: it is the recursion-detection id of the whole GitLab request, shared by every event
//! that request fires, so distinct events would be taken for duplicates; `X-Gitlab-Webhook-UUID`
//! changes on every attempt. Older GitLab versions send no `Idempotency-Key`; the id is then
//! `sha256:<hex of the body>`, which a retry of the same payload repeats. The event kind is the
//! body's `object_kind` (or `event_name` for system hooks), else `X-Gitlab-Event`. No handshake,
//! no settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The GitLab platform.
pub struct GitLab;

impl Platform for GitLab {
    fn metadata() -> Metadata {
        Metadata::new(
            "gitlab",
            "GitLab webhooks (X-Gitlab-Token, or whsec_ signing token: Standard Webhooks HMAC-SHA256)",
        )
        .secret_description("webhook secret token, or signing token (whsec_…)")
        // GitLab refuses to send bodies over 25 MB.
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

hookgate_sdk::export_platform!(GitLab);

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixtures run with a signing token: a secret token authenticates no body, so the
    /// kit's tampered-body forgeries could not be refused (token mode is tested in verify.rs).
    pub(crate) const SIGNING_TOKEN: &[u8] = b"whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=";
    pub(crate) const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<GitLab>(
            env!("CARGO_MANIFEST_DIR"),
            SIGNING_TOKEN,
            NOW,
        );
    }
}
