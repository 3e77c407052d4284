//! hookgate platform plugin for **Zendesk** webhooks (Admin Center / Webhooks API).
//!
//! Verifies `X-Zendesk-Webhook-Signature`: the base64 HMAC-SHA256 of the
//! `X-Zendesk-Webhook-Signature-Timestamp` value followed directly by the raw body, under the
//! webhook's signing secret used as text (it looks like base64 but is not decoded). Zendesk
//! documents no replay window: the timestamp must be within the source's tolerance in either
//! direction. Zendesk's public test secret (used for the webhook builder's test sends) is never
//! accepted, since anyone can sign with it.
//!
//! Two kinds of body arrive. Event-subscribed webhooks carry Zendesk's envelope
//! (`{"id","type":"zen:event-type:…","subject","time","detail",…}`): the event id is its `id`
//! (signed), the type `zendesk.<event type>`. Trigger and automation webhooks carry whatever the
//! admin's template makes (JSON, XML, form): their id is `X-Zendesk-Webhook-Invocation-Id`
//! (unsigned; Zendesk keeps it across the attempts of one invocation), their type
//! `zendesk.webhook`. Only POSTs are taken: hookgate does not ingest the GET/DELETE requests a
//! trigger webhook can be set to send. No handshake, no per-source settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Zendesk platform.
pub struct Zendesk;

impl Platform for Zendesk {
    fn metadata() -> Metadata {
        Metadata::new(
            "zendesk",
            "Zendesk webhooks (X-Zendesk-Webhook-Signature, HMAC-SHA256, timestamped)",
        )
        .secret_description("webhook signing secret")
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

hookgate_sdk::export_platform!(Zendesk);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"zendesk-signing-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Zendesk>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
