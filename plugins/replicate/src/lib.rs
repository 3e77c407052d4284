//! hookgate platform plugin for **Replicate** webhooks (prediction and training callbacks).
//!
//! - **Verification**: Standard Webhooks headers, verified as the official SDKs do (see
//!   [`verify`]): `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`,
//!   keyed with the account's default webhook secret (`whsec_…`, fetched from
//!   `GET /v1/webhooks/default/secret`, the same for every prediction). Unlike the SDKs, which
//!   leave it to the receiver, the timestamp is checked against the source's tolerance both
//!   ways. Every configured secret is tried.
//! - **Event id**: the `webhook-id` header, signed, the same when a webhook is retried, and
//!   different for every webhook of a run. The prediction's `id` is not enough, and neither is
//!   `id` + `status`: one prediction sends a webhook per step, several of them `processing`
//!   (each new output, logs), which would be taken for duplicates and dropped. The run's `id`
//!   is the event's entity.
//! - **Type**: the body is the prediction itself, with no type: `replicate.prediction.<status>`
//!   (`replicate.prediction.succeeded`), or `replicate.training.<status>` for trainings.
//! - **Handshake**: none. **Settings**: none (query parameters added to the webhook URL are
//!   not signed and not read).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Replicate platform.
pub struct Replicate;

impl Platform for Replicate {
    fn metadata() -> Metadata {
        Metadata::new(
            "replicate",
            "Replicate prediction and training webhooks (webhook-id, webhook-timestamp, webhook-signature)",
        )
        .secret_description("default webhook signing secret (whsec_…, from GET /v1/webhooks/default/secret)")
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

hookgate_sdk::export_platform!(Replicate);

#[cfg(test)]
mod tests {
    use super::*;

    // The secret the official SDKs test with.
    const SECRET: &[u8] = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const NOW: i64 = 1_674_087_300;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Replicate>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
