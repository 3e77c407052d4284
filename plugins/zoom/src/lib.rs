//! hookgate platform plugin for **Zoom** webhooks (Marketplace app event subscriptions).
//!
//! - **Verified**: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">` under the app's
//!   Webhook Secret Token, `ts` being `x-zm-request-timestamp`. A timestamp older than the
//!   tolerance is refused; a future one is accepted, as Zoom's SDK (which checks no time) does.
//! - **Event id**: Zoom sends none; the id is `{event}:{event_ts}:{object uuid or id}`, all
//!   signed (`x-zm-trackingid`, unsigned and of undocumented stability, is metadata only).
//! - **Handshake**: `endpoint.url_validation` is answered `{"plainToken", "encryptedToken"}`
//!   (the token's hex HMAC-SHA256 under the secret token that signed the request) only once its
//!   signature verifies, as Rivet does.
//! - **Answer**: an empty 200 to accepted events (Zoom expects 200 or 204).
//! - **Settings**: none.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Zoom platform.
pub struct Zoom;

impl Platform for Zoom {
    fn metadata() -> Metadata {
        Metadata::new(
            "zoom",
            "Zoom webhooks (x-zm-signature v0, HMAC-SHA256, URL validation)",
        )
        .secret_description("app Webhook Secret Token")
        .with_handshake()
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        let token = normalize::plain_token(request)?;
        // An unsigned validation gets no answer here; verified as an ordinary webhook, it is
        // then refused with a 401. The answer uses the token that signed it (rotation).
        let secret = verify::signing_secret(request, context)?;
        Some(normalize::url_validation_answer(&token, secret))
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request).map(|e| vec![e])
    }

    /// Zoom expects "200 or 204" within 3 seconds and retries otherwise; hookgate's own answer is a
    /// 202: answer 200.
    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        Some(Response::empty(200))
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Zoom);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"zoom-secret-token-0123456789";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn accepted_webhooks_are_answered_200() {
        let answer = Zoom::answer(&Request::post("{}"), &Settings::none());
        assert_eq!(answer, Some(Response::empty(200)));
    }

    #[test]
    fn fixtures() {
        hookgate_sdk::testing::check_fixtures::<Zoom>(env!("CARGO_MANIFEST_DIR"), SECRET, NOW);
    }

    #[test]
    fn only_a_signed_url_validation_is_answered() {
        let validation = Request::post(
            r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#,
        );
        let context = VerifyContext::new(SECRET, NOW);
        assert_eq!(Zoom::handshake(&validation, &context), None);
        let signed = hookgate_sdk::testing::sign::<Zoom>(&validation, SECRET, NOW).unwrap();
        assert_eq!(
            Zoom::handshake(&signed, &context),
            Some(normalize::url_validation_answer(
                "qgg8vlvZRS6UYooatFL8Aw",
                SECRET
            ))
        );
        let stale = VerifyContext::new(SECRET, NOW + 301);
        assert_eq!(Zoom::handshake(&signed, &stale), None);
        let wrong = VerifyContext::new("other-token", NOW);
        assert_eq!(Zoom::handshake(&signed, &wrong), None);
        // An ordinary event is not a handshake.
        let event = Request::post(r#"{"event":"meeting.started","event_ts":1,"payload":{}}"#);
        let signed = hookgate_sdk::testing::sign::<Zoom>(&event, SECRET, NOW).unwrap();
        assert_eq!(Zoom::handshake(&signed, &context), None);
    }
}
