//! hookgate platform plugin for **Twilio** webhooks: Messaging and Voice requests, their status
//! callbacks, and other products that post form parameters (TaskRouter, Conversations…), plus
//! Event Streams' JSON deliveries.
//!
//! - **Verified**: `X-Twilio-Signature`, the base64 HMAC-SHA1 under the Auth Token of the full
//!   URL Twilio requested followed by the sorted POST parameters; for JSON bodies, of the URL
//!   alone, whose `bodySHA256` query parameter must be the body's hex SHA-256. The URL is
//!   `request.url`: set the source's `public_url` to the URL configured in Twilio. The URL
//!   variants twilio-node accepts (port, legacy query encoding) are accepted too. A Webhooks
//!   Rule's HMAC-SHA256 (`X-Twilio-Webhooks-Signature-Settings`) is verified with the SharedKey
//!   configured as the secret. Twilio signs no timestamp, so there is no replay window.
//! - **Event id**: the `I-Twilio-Idempotency-Token` header, which Twilio keeps on its retries;
//!   it is *not* signed (Twilio signs no header). Without it, `sha256:` + the body's SHA-256,
//!   which is signed. Event Streams events: each CloudEvent's `id` (signed).
//! - **Answer**: accepted form requests get empty TwiML (`text/xml`), which Twilio requires of
//!   Messaging and Voice webhooks and ignores for status callbacks.
//! - **Settings**: none. No handshake.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Twilio platform.
pub struct Twilio;

impl Platform for Twilio {
    fn metadata() -> Metadata {
        Metadata::new(
            "twilio",
            "Twilio webhooks (X-Twilio-Signature, HMAC-SHA1 of URL and parameters)",
        )
        .secret_description("account Auth Token (or a Webhooks Rule's SharedKey)")
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn answer(request: &Request, _settings: &Settings) -> Option<Response> {
        normalize::answer(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Twilio);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"twilio-auth-token-0123456789abcd";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Twilio>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn a_signed_request_round_trips_with_its_answer() {
        let request = Request::post("MessageSid=SM1&SmsStatus=received&From=%2B15551234567")
            .with_header("content-type", "application/x-www-form-urlencoded");
        let (signed, events) =
            hookgate_sdk::testing::sign_round_trip::<Twilio>(request, SECRET, NOW).unwrap();
        assert_eq!(events[0].platform_event_id, hookgate_sdk::testing::NONCE);
        let answer = Twilio::answer(&signed, &Settings::none()).unwrap();
        assert_eq!(answer.body, normalize::EMPTY_TWIML.as_bytes());
    }
}
