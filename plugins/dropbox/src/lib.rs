//! hookgate platform plugin for **Dropbox** (API v2 file-change webhooks of an App Console app).
//!
//! - **Verification**: `X-Dropbox-Signature` is the lower-case hex HMAC-SHA256 of the whole raw
//!   body, keyed with the app secret's bytes as configured. Dropbox signs no timestamp, so there
//!   is no replay window: redeliveries are caught by duplicate detection on the event id.
//! - **Handshake**: registering the URI sends one unauthenticated `GET ?challenge=…` (Dropbox
//!   signs only the POSTs); it is answered with the challenge echoed as `text/plain` and
//!   `X-Content-Type-Options: nosniff`, as Dropbox asks (a reflected value must not be sniffed
//!   as HTML). Any other GET is refused.
//! - **Events**: a notification only says "these accounts changed" (`list_folder.accounts`);
//!   several accounts may share one notification, so each becomes its own
//!   `dropbox.list_folder.changed` event about that account. A notification that lists no
//!   account (a shape not documented, such as a team notification) is one `dropbox.notification`.
//! - **Event id**: the body names no id, so it is derived: `sha256:<hex SHA-256 of the raw
//!   body>:<account id>` (`sha256:<hex>` alone for a notification without accounts). The body
//!   is signed, so the id is covered by the signature, and Dropbox's retries (the same bytes,
//!   for about ten minutes) are recognised as duplicates. The price of an id without a clock
//!   (normalization sees no time): a later notification with identical bytes, the same
//!   account changing again, is a duplicate too while it is inside the gateway's dedupe window
//!   (`storage.dedupe_window_days`, gateway-wide, 7 days by default), and is not delivered.
//!   Where notifications repeat (an app with one linked account), shorten that window.
//! - **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Dropbox platform.
pub struct Dropbox;

impl Platform for Dropbox {
    fn metadata() -> Metadata {
        Metadata::new(
            "dropbox",
            "Dropbox file-change webhooks (X-Dropbox-Signature, HMAC-SHA256 of the body)",
        )
        .secret_description("app secret (App Console)")
        .with_handshake()
    }

    fn handshake(request: &Request, _context: &VerifyContext) -> Option<Response> {
        verify::challenge(request).map(|challenge| {
            Response::ok("text/plain", challenge).header("x-content-type-options", "nosniff")
        })
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

hookgate_sdk::export_platform!(Dropbox);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"dropbox-app-secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Dropbox>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    fn get(url: &str) -> Request {
        Request {
            method: "GET".into(),
            url: url.into(),
            ..Request::default()
        }
    }

    #[test]
    fn the_challenge_is_echoed_as_plain_text_that_must_not_be_sniffed() {
        let context = VerifyContext::new(SECRET, NOW);
        let answer = Dropbox::handshake(
            &get("https://hooks.example.com/webhooks/dropbox?challenge=abc123"),
            &context,
        )
        .unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"abc123");
        assert_eq!(
            answer.headers,
            [
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("x-content-type-options".to_owned(), "nosniff".to_owned()),
            ]
        );
    }

    #[test]
    fn only_a_get_with_a_challenge_is_a_handshake() {
        let context = VerifyContext::new(SECRET, NOW);
        assert_eq!(
            Dropbox::handshake(&get("https://hooks.example.com/webhooks/dropbox"), &context),
            None
        );
        let post = Request {
            url: "https://hooks.example.com/webhooks/dropbox?challenge=abc".into(),
            ..Request::post("{}")
        };
        assert_eq!(Dropbox::handshake(&post, &context), None);
    }
}
