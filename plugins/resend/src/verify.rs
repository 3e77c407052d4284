//! Resend signature verification: Standard Webhooks as the `standardwebhooks` library that
//! `resend.webhooks.verify` wraps, under the `svix-*` header names Resend (through Svix) sends.
//!
//! - Signed bytes: `{svix-id}.{t}.{body}`, where `t` is the integer the library parses from
//!   `svix-timestamp` (`parseInt`, base 10: a numeric prefix) and writes back, not the header
//!   text as received.
//! - Key: the base64 text after `whsec_` (the prefix is optional), decoded.
//! - `svix-signature`: space-separated `v1,<base64>` entries; entries of any other version are
//!   skipped; any entry may match. Like the library, the comparison is of the base64 text with
//!   the expected one, in constant time (a non-canonical encoding of the right bytes does not
//!   match).
//! - Timestamp: refused when more than the tolerance away from now, in the past or the future
//!   (the library's "too old" and "too new").
//! - Header names: `svix-*`; when any of the three is missing, the `webhook-*` set, as the Svix
//!   libraries (Resend's documented manual alternative) fall back.

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{self, LIBRARY};
pub use hookgate_sdk::standard_webhooks::{HeaderNames as Headers, SVIX, WEBHOOK as STANDARD};

/// The header set a request uses: `svix-*` when all three are present and non-empty, else
/// `webhook-*`.
pub fn headers_of(req: &Request) -> Headers {
    let complete = [SVIX.id, SVIX.timestamp, SVIX.signature]
        .iter()
        .all(|name| req.header_text(name).is_some());
    if complete { SVIX } else { STANDARD }
}

/// Verifies a Resend webhook: the library's rules under the names the request uses.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    LIBRARY.with_names(headers_of(req)).verify(req, ctx)
}

/// The `svix-signature` value for one message (`v1,<base64>`), as Resend signs it.
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

    // The Standard Webhooks specification's example, which the `standardwebhooks` library
    // (the one resend-node's verify wraps) reproduces.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn req(h: Headers, ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header(h.id, ID)
            .with_header(h.timestamp, ts)
            .with_header(h.signature, sig)
    }

    #[test]
    fn specification_example_verifies_under_svix_names_and_the_fallback() {
        assert_eq!(sign(SECRET, ID, TS, BODY.as_bytes()).unwrap(), SIG);
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&req(SVIX, "1614265330", SIG), &ctx), Ok(()));
        assert_eq!(verify(&req(STANDARD, "1614265330", SIG), &ctx), Ok(()));
        // The prefix is optional, as in the library.
        let bare = VerifyContext::new(SECRET.trim_start_matches("whsec_"), TS);
        assert_eq!(verify(&req(SVIX, "1614265330", SIG), &bare), Ok(()));
    }

    #[test]
    fn resend_node_test_shape_verifies() {
        // resend-node's verify test signs {"type":"email.sent","data":{"id":<msg id>}} with
        // the library; at a fixed time, recomputed with Python's hmac.
        let body = r#"{"type":"email.sent","data":{"id":"msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}}"#;
        let request = Request::post(body)
            .with_header("svix-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
            .with_header("svix-timestamp", "1750000000")
            .with_header(
                "svix-signature",
                "v1,s5bgRIaV4qMlg0cvWFDL0PZu+5DbGh+yVLcH+r+5Hv8=",
            );
        assert_eq!(
            verify(&request, &VerifyContext::new(SECRET, 1_750_000_000)),
            Ok(())
        );
    }

    #[test]
    fn the_parsed_integer_is_what_is_signed() {
        let ctx = VerifyContext::new(SECRET, TS);
        // A fractional or suffixed header verifies against its integer part.
        assert_eq!(verify(&req(SVIX, "1614265330.75", SIG), &ctx), Ok(()));
        assert_eq!(verify(&req(SVIX, "+1614265330", SIG), &ctx), Ok(()));
        assert_eq!(
            verify(&req(SVIX, "abc", SIG), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        assert_eq!(parse_int_prefix(" 12x"), Some(12));
        assert_eq!(parse_int_prefix("-5"), Some(-5));
        assert_eq!(parse_int_prefix("x12"), None);
        assert_eq!(parse_int_prefix(""), None);
    }

    #[test]
    fn tolerance_both_ways_inclusive() {
        let sig_at = |ts: i64| {
            let s = sign(SECRET, ID, ts, BODY.as_bytes()).unwrap();
            req(SVIX, &ts.to_string(), &s)
        };
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&sig_at(TS - 300), &ctx), Ok(()));
        assert_eq!(verify(&sig_at(TS + 300), &ctx), Ok(()));
        assert_eq!(
            verify(&sig_at(TS - 301), &ctx),
            Err(VerifyError::TimestampOutsideTolerance(TS - 301))
        );
        assert_eq!(
            verify(&sig_at(TS + 301), &ctx),
            Err(VerifyError::TimestampOutsideTolerance(TS + 301))
        );
    }

    #[test]
    fn only_v1_entries_count_and_any_may_match() {
        let ctx = VerifyContext::new(SECRET, TS);
        let many = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,xyz {SIG}");
        assert_eq!(verify(&req(SVIX, "1614265330", &many), &ctx), Ok(()));
        let other_version = SIG.replacen("v1,", "v2,", 1);
        assert_eq!(
            verify(&req(SVIX, "1614265330", &other_version), &ctx),
            Err(VerifyError::MissingSignature)
        );
        // The same bytes in non-canonical base64 (no padding) do not match the library's text.
        let unpadded = SIG.trim_end_matches('=');
        assert_eq!(
            verify(&req(SVIX, "1614265330", unpadded), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
    }

    /// A secret that decodes to no key never verifies, and is reported as the configuration
    /// problem it is (no usable secret: a 503 the sender retries), not as a forgery.
    #[test]
    fn a_secret_that_is_not_base64_never_verifies() {
        let ctx = VerifyContext::new("whsec_***", TS);
        assert_eq!(
            verify(&req(SVIX, "1614265330", SIG), &ctx),
            Err(VerifyError::NoSecretConfigured)
        );
        let empty = VerifyContext::new("whsec_", TS);
        assert_eq!(
            verify(&req(SVIX, "1614265330", SIG), &empty),
            Err(VerifyError::NoSecretConfigured)
        );
        assert!(sign("whsec_***", ID, TS, b"{}").is_err());
    }
}
