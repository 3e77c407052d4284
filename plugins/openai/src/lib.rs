//! hookgate platform plugin for **OpenAI** webhooks (platform project webhooks: responses,
//! batches, fine-tuning jobs, evals, realtime calls…).
//!
//! - **Verification**: Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`), verified exactly as the official SDK does (see [`verify`]): a
//!   `whsec_` secret is base64-decoded, any other secret is used as its UTF-8 bytes; the
//!   timestamp header's text is what is signed; `v1,` or bare base64 entries; the timestamp
//!   within the tolerance, past or future. Every configured secret is tried (rotation, during
//!   which OpenAI sends several signatures).
//! - **Event id**: the body's `id` (`evt_…`, "the unique ID of the event"), covered by the
//!   signature with the rest of the body; `webhook-id` (the message id, `wh_…`) is kept as
//!   metadata, and stands in only for a body without an id.
//! - **Type**: `openai.<type>` (`openai.response.completed`); entity `data.id` (or
//!   `data.call_id`) of the type's resource kind (`fine_tuning_job`); time `created_at`.
//! - **Handshake**: none. **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The OpenAI platform.
pub struct OpenAi;

impl Platform for OpenAi {
    fn metadata() -> Metadata {
        Metadata::new(
            "openai",
            "OpenAI webhooks (webhook-id, webhook-timestamp, webhook-signature)",
        )
        .secret_description("webhook signing secret (whsec_…)")
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

hookgate_sdk::export_platform!(OpenAi);

#[cfg(test)]
mod tests {
    use super::*;

    // openai-node's test secret (tests/lib/webhooks.test.ts).
    const SECRET: &[u8] = b"whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=";
    const NOW: i64 = 1_750_861_250;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<OpenAi>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn a_plain_secret_signs_and_verifies_as_the_sdk_does() {
        let (signed, events) = hookgate_sdk::testing::sign_round_trip::<OpenAi>(
            Request::post(
                r#"{"id":"evt_test","type":"response.completed","data":{"id":"resp_test"}}"#,
            ),
            b"synthetic-webhook-secret",
            NOW,
        )
        .unwrap();
        assert!(signed.header("webhook-id").is_some());
        assert_eq!(events[0].platform_event_id, "evt_test");
    }
}
