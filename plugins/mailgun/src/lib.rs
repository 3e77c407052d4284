//! hookgate platform plugin for **Mailgun** webhooks (the current JSON webhooks).
//!
//! - **Verified**: the body's `signature` object, `signature` (or, for a subaccount's domain,
//!   `parent-signature`) being the hex HMAC-SHA256 of `timestamp` followed by `token` under the
//!   HTTP webhook signing key. **Mailgun signs only the timestamp and the token, not
//!   `event-data`**: a genuine signature object proves Mailgun sent *a* request around that
//!   time, not what its event data says. A timestamp older than the tolerance is refused (the
//!   only bound on reusing a signature object); a future one is accepted, as Mailgun's SDKs
//!   accept it. Legacy form webhooks and Routes forwards are not supported.
//! - **Event id**: `event-data.id`, Mailgun's event id, kept on retries; not signed.
//! - **Normalized**: `mailgun.<event>` (`mailgun.delivered`, `mailgun.opened`), failures as
//!   `mailgun.failed.permanent` / `mailgun.failed.temporary`; the entity is the message's
//!   `Message-Id`, the user the recipient.
//! - **Signing** (`hookgate send`): a fresh `signature` object (now, the nonce as token) is
//!   written into the operator's body, replacing any it has.
//! - **Answer**: an empty 200; Mailgun retries any other code (hookgate's own is a 202).
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Mailgun platform.
pub struct Mailgun;

impl Platform for Mailgun {
    fn metadata() -> Metadata {
        Metadata::new(
            "mailgun",
            "Mailgun webhooks (signature object in the body, HMAC-SHA256 of timestamp and token)",
        )
        .secret_description("HTTP webhook signing key")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    /// Mailgun takes only a 200 as success (406 as a refusal) and retries any other code for 8
    /// hours; hookgate's own answer is a 202: answer 200.
    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        Some(Response::empty(200))
    }

    fn sign_body(request: &Request, context: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
        verify::sign_body(request, context)
    }

    /// Mailgun signs inside the body ([`Platform::sign_body`]): no header to add.
    fn sign(
        _request: &Request,
        _context: &SignContext,
    ) -> Result<Vec<(String, String)>, SignError> {
        Ok(Vec::new())
    }
}

hookgate_sdk::export_platform!(Mailgun);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"mailgun-http-webhook-signing-key-0123";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn accepted_webhooks_are_answered_200() {
        let answer = Mailgun::answer(&Request::post("{}"), &Settings::none());
        assert_eq!(answer, Some(Response::empty(200)));
    }

    /// The kit changes body bytes at the start, middle and end, as for any platform that signs
    /// inside its body. Mailgun signs only the `signature` object, so the fixture is a small
    /// event whose middle byte lies in that object; `verify::tests::event_data_is_not_signed`
    /// pins that a change to `event-data` is *not* detected.
    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Mailgun>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn hookgate_send_signs_a_realistic_body() {
        let body = r#"{"event-data":{"account":{"id":"1234567890303a4bd1f33898"},"domain":{"name":"sample.mailgun.com"},"event":"delivered","id":"CCXMjJ7nQi2N3BPigGOdgQ","log-level":"info","timestamp":1770920771.845071,"recipient":"recipient@sample.mailgun.com","recipient-domain":"sample.mailgun.com","message":{"headers":{"from":"Sample Sender <sender@sample.mailgun.com>","message-id":"20260203192638.000be97f99f8cea1@sample.mailgun.com","subject":"Sample webhook payload","to":"recipient@sample.mailgun.com"},"size":341},"delivery-status":{"code":250,"message":"OK"},"tags":[],"user-variables":{}}}"#;
        let (signed, events) =
            hookgate_sdk::testing::sign_round_trip::<Mailgun>(Request::post(body), SECRET, NOW)
                .unwrap();
        assert!(signed.body.starts_with(br#"{"signature":{"token":"#));
        assert_eq!(events[0].event_type, "mailgun.delivered");
        assert_eq!(events[0].platform_event_id, "CCXMjJ7nQi2N3BPigGOdgQ");
    }
}
