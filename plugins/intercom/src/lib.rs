//! hookgate platform plugin for **Intercom** webhooks (Developer Hub topic subscriptions).
//!
//! Verifies `X-Hub-Signature`: `sha1=` + hex HMAC-SHA1 of the raw body under the app's
//! `client_secret` (raw bytes; for legacy v1.0 subscriptions, the subscription's `hub_secret`).
//! Intercom signs no timestamp, so there is no replay window: a replay is caught by duplicate
//! detection on the event id. Rotating the client secret invalidates in-flight retries: keep the
//! old secret configured beside the new one for a while.
//!
//! The event id is the body's notification id (`notif_…`), covered by the signature and the
//! same on redeliveries (only `delivery_attempts` and `first_sent_at` change). Intercom checks a
//! new endpoint URL with an unsigned `HEAD` request, answered `200` by [`Platform::handshake`]:
//! it reveals nothing and stores nothing. No settings.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Intercom platform.
pub struct Intercom;

impl Platform for Intercom {
    fn metadata() -> Metadata {
        Metadata::new("intercom", "Intercom webhooks (X-Hub-Signature, HMAC-SHA1)")
            .secret_description("app client secret (or the subscription's hub_secret)")
            .with_handshake()
    }

    fn handshake(request: &Request, _context: &VerifyContext) -> Option<Response> {
        // The URL check carries no body and no signature; answering it accepts nothing.
        (request.method == "HEAD").then(|| Response::empty(200))
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

hookgate_sdk::export_platform!(Intercom);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"intercom-client-secret-0123456789";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Intercom>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn the_head_url_check_is_answered_and_nothing_else() {
        let context = VerifyContext::new(SECRET, NOW);
        let head = Request {
            method: "HEAD".into(),
            ..Request::post("")
        };
        assert_eq!(
            Intercom::handshake(&head, &context),
            Some(Response::empty(200))
        );
        let get = Request {
            method: "GET".into(),
            ..Request::post("")
        };
        assert_eq!(Intercom::handshake(&get, &context), None);
        let post = Request::post(r#"{"type":"notification_event"}"#);
        assert_eq!(Intercom::handshake(&post, &context), None);
    }
}
