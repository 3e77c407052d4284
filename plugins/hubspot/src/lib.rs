//! hookgate platform plugin for **HubSpot** webhooks (Webhooks API CRM subscriptions), with
//! request signature **v3**.
//!
//! Verifies `X-HubSpot-Signature-v3`: standard base64 of the HMAC-SHA256, under the app's client
//! secret (raw bytes), of `method + URI + body + X-HubSpot-Request-Timestamp`, concatenated
//! without separators, as HubSpot's Node, Python, PHP and Ruby SDKs compute it. The URI is the
//! full URL HubSpot called (scheme, host, path and query): hookgate's request URL, so set the
//! source's `public_url` to the URL configured in the HubSpot app (behind a proxy the gateway
//! cannot know it). HubSpot's docs also have receivers decode a fixed list of percent-escapes
//! (`%3A` `%2F` `%3F` `%40` `%21` `%24` `%27` `%28` `%29` `%2A` `%2C` `%3B`) before signing; the
//! SDKs sign the URL as given, so both forms are tried.
//!
//! The timestamp is in milliseconds; a request older than the source's `tolerance_secs` (HubSpot
//! says 5 minutes) is refused. A timestamp in the future is accepted, as every HubSpot SDK
//! accepts it, so a receiver whose clock runs behind does not refuse genuine requests. The
//! legacy `X-HubSpot-Signature` (v1: SHA-256 of secret + body; v2: with method and URI) proves
//! nothing about freshness and is never accepted, alone or beside v3.
//!
//! The body is a JSON array of events (up to 100): one event each. HubSpot documents `eventId`
//! as not guaranteed unique, so the id is `<portalId>:<subscriptionId>:<eventId>[:<objectId>]`,
//! all signed and the same on retries (only `attemptNumber` changes). No handshake, no
//! settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The HubSpot platform.
pub struct HubSpot;

impl Platform for HubSpot {
    fn metadata() -> Metadata {
        Metadata::new(
            "hubspot",
            "HubSpot webhooks (X-HubSpot-Signature-v3, HMAC-SHA256 of method, URL, body and timestamp)",
        )
        .secret_description("app client secret")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(HubSpot);

#[cfg(test)]
mod tests {
    use super::*;

    /// The client secret of HubSpot's SDK tests.
    pub(crate) const SECRET: &[u8] = b"yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<HubSpot>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }
}
