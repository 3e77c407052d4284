//! hookgate platform plugin for **Trello** webhooks.
//!
//! - **Verification**: `X-Trello-Webhook` is the base64 HMAC-SHA1 of the raw body immediately
//!   followed by the webhook's callback URL, keyed with the application's OAuth secret (not the
//!   API key, not a user token). The callback URL must be byte for byte the one given when the
//!   webhook was created: set the source's `public_url` to it, and the gateway hands that
//!   string to the plugin as the request URL (without it, the URL is rebuilt from the request,
//!   which a proxy or a reordered query string breaks). Trello signs no timestamp: replays are
//!   caught by duplicate detection on the event id.
//! - **Handshake**: creating a webhook sends an unsigned `HEAD` to the callback URL, which must
//!   answer 200 or the webhook is not created; it is answered 200 with no body. Every other
//!   non-POST request is refused.
//! - **Event id**: `action.id`, the 24-hex id of the Trello action, inside the signed body. One
//!   action matching several webhooks that share a source (a card's and its board's) arrives
//!   once per webhook with the same `action.id`: the copies after the first are duplicates.
//! - **Type**: `trello.<action.type in snake case>` (`createCard` → `trello.create_card`).
//! - **Settings**: none (the callback URL is the source's `public_url`).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Trello platform.
pub struct Trello;

impl Platform for Trello {
    fn metadata() -> Metadata {
        Metadata::new(
            "trello",
            "Trello webhooks (X-Trello-Webhook, HMAC-SHA1 of body + callback URL)",
        )
        .secret_description("application OAuth secret")
        .with_handshake()
    }

    fn handshake(request: &Request, _context: &VerifyContext) -> Option<Response> {
        verify::is_creation_check(request).then(|| Response::empty(200))
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

hookgate_sdk::export_platform!(Trello);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"trello-oauth-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Trello>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn the_creation_head_is_answered_200_and_nothing_else_is() {
        let context = VerifyContext::new(SECRET, NOW);
        let head = Request {
            method: "HEAD".into(),
            ..Request::post("")
        };
        assert_eq!(
            Trello::handshake(&head, &context),
            Some(Response::empty(200))
        );
        let get = Request {
            method: "GET".into(),
            ..Request::post("")
        };
        assert_eq!(Trello::handshake(&get, &context), None);
        assert_eq!(Trello::handshake(&Request::post("{}"), &context), None);
    }

    #[test]
    fn a_signature_for_another_callback_url_is_refused() {
        let body = r#"{"action":{"id":"55906023892770637b766345","type":"createCard"}}"#;
        let signed =
            hookgate_sdk::testing::sign::<Trello>(&Request::post(body), SECRET, NOW).unwrap();
        let context = VerifyContext::new(SECRET, NOW);
        assert_eq!(Trello::verify(&signed, &context), Ok(()));
        let moved = Request {
            url: format!("{}/", signed.url),
            ..signed
        };
        assert_eq!(
            Trello::verify(&moved, &context),
            Err(VerifyError::SignatureMismatch)
        );
    }
}
