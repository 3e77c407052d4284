//! Clerk signature verification, as `verifyWebhook` of `@clerk/backend/webhooks` does it: the
//! `svix-*` headers (trimmed; all three required, the `webhook-*` names are not read), mapped
//! onto the `standardwebhooks` library.
//!
//! - Signed bytes: `{svix-id}.{t}.{body}`, where `t` is the integer the library parses from
//!   `svix-timestamp` (`parseInt`, base 10) and writes back. Clerk's own tests send fractional
//!   timestamps (`1700000000.123`), which verify against their integer part.
//! - Key: the base64 text after `whsec_` (the prefix is optional), decoded.
//! - `svix-signature`: space-separated `v1,<base64>` entries; other versions are skipped; any
//!   entry may match; the base64 text is compared with the expected one in constant time.
//! - Timestamp: refused when more than the tolerance away from now, past or future ("too old",
//!   "too new").

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{self, LIBRARY, SVIX};

/// The message id header (also the event id).
pub const ID: &str = "svix-id";
/// The signed timestamp header, Unix seconds.
pub const TIMESTAMP: &str = "svix-timestamp";
/// The signature header.
pub const SIGNATURE: &str = "svix-signature";

/// Verifies a Clerk webhook: the library's rules under the `svix-*` names only.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    LIBRARY.with_names(SVIX).verify(req, ctx)
}

/// The `svix-signature` value for one message (`v1,<base64>`), as Clerk signs it.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    standard_webhooks::sign(secret, id, timestamp, body)
        .map_err(|_| SignError::invalid("the secret is not base64 (expected whsec_<base64>)"))
}

/// The headers `hookgate send` adds: `svix-id` (a fresh `msg_…` unless the operator gave one),
/// `svix-timestamp` (now) and `svix-signature`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    LIBRARY.with_names(SVIX).signed_headers(req, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Clerk's own test setup (packages/backend/src/__tests__/webhooks.test.ts): the secret is
    // "whsec_" + base64("test_signing_secret_32_chars_long"), the body
    // {"type":"user.created","data":{"id":"user_123"}}, svix-id msg_123 and a fractional
    // svix-timestamp; the signature at 1700000000 recomputed with Python's hmac.
    const SECRET: &str = "whsec_dGVzdF9zaWduaW5nX3NlY3JldF8zMl9jaGFyc19sb25n";
    const BODY: &str = r#"{"type":"user.created","data":{"id":"user_123"}}"#;
    const TS: i64 = 1_700_000_000;
    const SIG: &str = "v1,kLln/mW/qoI9eUisvvoz9O/1VqBkTyNgcAAorkVSisc=";

    fn req(ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("svix-id", "msg_123")
            .with_header("svix-timestamp", ts)
            .with_header("svix-signature", sig)
    }

    #[test]
    fn clerks_test_vector_verifies_with_a_fractional_timestamp() {
        assert_eq!(sign(SECRET, "msg_123", TS, BODY.as_bytes()).unwrap(), SIG);
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&req("1700000000", SIG), &ctx), Ok(()));
        assert_eq!(verify(&req("1700000000.123", SIG), &ctx), Ok(()));
        // Surrounding whitespace is trimmed, as verifyWebhook does.
        assert_eq!(
            verify(&req(" 1700000000 ", &format!(" {SIG} ")), &ctx),
            Ok(())
        );
    }

    #[test]
    fn standard_webhooks_names_are_not_read() {
        let request = Request::post(BODY)
            .with_header("webhook-id", "msg_123")
            .with_header("webhook-timestamp", "1700000000")
            .with_header("webhook-signature", SIG);
        assert_eq!(
            verify(&request, &VerifyContext::new(SECRET, TS)),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn tolerance_both_ways_inclusive() {
        let at = |ts: i64| {
            req(
                &ts.to_string(),
                &sign(SECRET, "msg_123", ts, BODY.as_bytes()).unwrap(),
            )
        };
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&at(TS - 300), &ctx), Ok(()));
        assert_eq!(verify(&at(TS + 300), &ctx), Ok(()));
        assert_eq!(
            verify(&at(TS - 301), &ctx),
            Err(VerifyError::TimestampOutsideTolerance(TS - 301))
        );
        assert_eq!(
            verify(&at(TS + 301), &ctx),
            Err(VerifyError::TimestampOutsideTolerance(TS + 301))
        );
        assert_eq!(
            verify(&req("NaN", SIG), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn only_v1_entries_count() {
        let ctx = VerifyContext::new(SECRET, TS);
        let listed = format!("v1a,AAAA v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SIG}");
        assert_eq!(verify(&req("1700000000", &listed), &ctx), Ok(()));
        assert_eq!(
            verify(&req("1700000000", &SIG.replacen("v1,", "v2,", 1)), &ctx),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            verify(&req("1700000000", SIG.trim_end_matches('=')), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn parse_int_reads_a_numeric_prefix() {
        assert_eq!(parse_int_prefix("1700000000.123"), Some(1_700_000_000));
        assert_eq!(parse_int_prefix("+12"), Some(12));
        assert_eq!(parse_int_prefix("-12"), Some(-12));
        assert_eq!(parse_int_prefix("abc"), None);
    }
}
