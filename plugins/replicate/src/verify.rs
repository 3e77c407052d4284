//! Replicate signature verification, as the official SDKs' `validateWebhook` (JavaScript) and
//! `Webhooks.validate` (Python) do it:
//!
//! - Headers: `webhook-id`, `webhook-timestamp`, `webhook-signature` (any case).
//! - Key: the account's default webhook secret (`GET /v1/webhooks/default/secret` answers
//!   `{"key": "whsec_…"}`; the same for every prediction), base64-decoded after its last `_`.
//! - Signed bytes: `{webhook-id}.{webhook-timestamp}.{body}`, the header texts as received.
//! - `webhook-signature`: space-separated `<version>,<base64>` entries; like both SDKs, the
//!   version label is not checked; any entry may match; decoded bytes are compared in
//!   constant time (as the Python SDK; the JavaScript one compares the base64 text).
//! - Timestamp: the JavaScript SDK never checks it and the Python one only when given a
//!   tolerance, then both ways (`abs(now - ts) > tolerance`); Replicate's docs say it is there
//!   to stop replays. It is checked here, both ways, with the source's tolerance, as an integer
//!   (Python's `int()`: a fractional or suffixed value is refused).

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{Dialect, Entries, KeyFormat, Timestamp, WEBHOOK};

/// The message id header (also the event id).
pub const ID: &str = WEBHOOK.id;

/// Replicate's rules, as above.
pub const DIALECT: Dialect = Dialect {
    names: WEBHOOK,
    key: KeyFormat::Base64AfterLastUnderscore,
    timestamp: Timestamp::AsSent {
        seconds: parse_integer,
    },
    entries: Entries::AnyVersion,
    empty_id_allowed: false,
    id_prefix: "msg_",
};

/// A whole integer, as Python's `int()` reads a timestamp: optional sign and digits only.
pub fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Verifies a Replicate webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    DIALECT.verify(req, ctx)
}

/// The `webhook-signature` value for one message (`v1,<base64>`).
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> Result<String, SignError> {
    DIALECT.sign(secret, id, timestamp, body)
}

/// The headers `hookgate send` adds: `webhook-id` (a fresh `msg_…` unless the operator gave
/// one), `webhook-timestamp` (now) and `webhook-signature`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    DIALECT.signed_headers(req, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::standard_webhooks::Key;

    fn key(secret: &[u8]) -> Option<Vec<u8>> {
        match DIALECT.key.key(secret) {
            Some(Key::Hmac(key)) => Some(key),
            _ => None,
        }
    }

    // The vector both official SDKs test with (index.test.ts, tests/test_webhooks.py), from
    // Svix's test suite.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID_VALUE: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn req(ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("Webhook-ID", ID_VALUE)
            .with_header("Webhook-Timestamp", ts)
            .with_header("Webhook-Signature", sig)
    }

    #[test]
    fn sdk_vector_verifies() {
        assert_eq!(
            sign(SECRET, ID_VALUE, "1614265330", BODY.as_bytes()).unwrap(),
            SIG
        );
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&req("1614265330", SIG), &ctx), Ok(()));
        // The version label is not checked, as in both SDKs.
        assert_eq!(
            verify(&req("1614265330", &SIG.replacen("v1,", "v9,", 1)), &ctx),
            Ok(())
        );
        assert_eq!(
            verify(
                &req(
                    "1614265330",
                    &format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SIG}")
                ),
                &ctx
            ),
            Ok(())
        );
        // The secret of the SDK's secret-endpoint mock decodes too.
        assert!(key(b"whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH").is_some());
    }

    #[test]
    fn the_sdks_invalid_signature_is_refused() {
        let ctx = VerifyContext::new(SECRET, TS);
        assert!(verify(&req("1614265330", "v1,invalid_signature"), &ctx).is_err());
        assert!(matches!(
            verify(&req("1614265330", "nocomma"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn tolerance_both_ways() {
        let ctx = |now: i64| VerifyContext::new(SECRET, now);
        assert_eq!(verify(&req("1614265330", SIG), &ctx(TS + 300)), Ok(()));
        assert_eq!(verify(&req("1614265330", SIG), &ctx(TS - 300)), Ok(()));
        assert_eq!(
            verify(&req("1614265330", SIG), &ctx(TS + 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(
            verify(&req("1614265330", SIG), &ctx(TS - 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(
            verify(&req("1614265330.5", SIG), &ctx(TS)),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn keys_and_integers() {
        assert_eq!(key(b"whsec_eA=="), Some(b"x".to_vec()));
        assert_eq!(key(b"eA=="), Some(b"x".to_vec()));
        assert_eq!(key(b"whsec_"), None);
        assert_eq!(key(b"whsec_***"), None);
        assert_eq!(parse_integer("1614265330"), Some(TS));
        assert_eq!(parse_integer("+5"), Some(5));
        assert_eq!(parse_integer("1.5"), None);
        assert_eq!(parse_integer("12x"), None);
    }
}
