//! `x-zm-signature` verification, as Zoom's Rivet SDK and its webhook sample do it: `v0=` and
//! the hex HMAC-SHA256, under the app's Webhook Secret Token, of `v0:{x-zm-request-timestamp}:
//! {body}`. Rivet verifies the body it re-serialized from the parsed JSON; Zoom sends compact
//! JSON, so that is the raw body, which is what is verified here.
//!
//! Zoom's SDK and sample check no time. A timestamp older than the source's tolerance is
//! refused here (Zoom retries after 5, 20 and 60 minutes, re-signing each attempt); one in the
//! future is accepted, as Zoom's own code accepts it.

use hookgate_sdk::prelude::*;

/// The signature header and scheme.
pub const SCHEME: HmacHeader<'static> =
    HmacHeader::hex("x-zm-signature", Hash::Sha256).prefixed("v0=");
/// The signed timestamp header: Unix seconds.
pub const TIMESTAMP: &str = "x-zm-request-timestamp";

/// Verifies a Zoom request under any configured secret token.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = SCHEME.signatures(req)?;
    let ts = timestamp(req, ctx)?;
    ctx.verify_any_secret(|secret| {
        signatures
            .iter()
            .any(|sig| hmac_verify(Hash::Sha256, secret, &message(ts, &req.body), sig))
    })
}

/// The configured secret token that signed `req`, for the URL validation answer (made with
/// that same token); `None` when none did.
pub fn signing_secret<'c>(req: &Request, ctx: &'c VerifyContext) -> Option<&'c [u8]> {
    let signatures = SCHEME.signatures(req).ok()?;
    let ts = timestamp(req, ctx).ok()?;
    ctx.secrets
        .iter()
        .find(|secret| {
            signatures
                .iter()
                .any(|sig| hmac_verify(Hash::Sha256, secret, &message(ts, &req.body), sig))
        })
        .map(Vec::as_slice)
}

/// The timestamp header's value, once it is known not to be stale.
fn timestamp<'r>(req: &'r Request, ctx: &VerifyContext) -> Result<&'r str, VerifyError> {
    let ts = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    let secs = parse_unix_secs(ts).ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_not_stale(secs)?;
    Ok(ts)
}

fn message<'a>(ts: &'a str, body: &'a [u8]) -> [&'a [u8]; 4] {
    [b"v0:", ts.as_bytes(), b":", body]
}

/// The headers `hookgate send` adds: the request timestamp (now) and its `v0` signature.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let ts = ctx.now_unix_secs.to_string();
    let secret = ctx.secret_str()?.as_bytes();
    Ok(vec![
        (TIMESTAMP.into(), ts.clone()),
        SCHEME.signed(secret, &message(&ts, &req.body)),
    ])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // Zoom's documented url_validation body, signed independently with Python's hmac under
    // a test secret token (Zoom publishes no signed example).
    pub(crate) const SECRET: &str = "zoom-secret-token-0123456789";
    pub(crate) const BODY: &str = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    pub(crate) const TS: i64 = 1_654_503_849;
    pub(crate) const SIG: &str =
        "v0=79a21986e029d327b2a7c3c30e57744c670bb7fcb1ddde1b25d180f75188fc2d";

    fn req(ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("x-zm-request-timestamp", ts)
            .with_header("x-zm-signature", sig)
    }

    #[test]
    fn independently_signed_example_verifies() {
        let ctx = VerifyContext::new(SECRET, TS);
        assert_eq!(verify(&req("1654503849", SIG), &ctx), Ok(()));
        assert_eq!(
            signing_secret(&req("1654503849", SIG), &ctx),
            Some(SECRET.as_bytes())
        );
        // The timestamp is signed.
        assert_eq!(
            verify(&req("1654503850", SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_is_refused_future_is_accepted() {
        let at = |now| verify(&req("1654503849", SIG), &VerifyContext::new(SECRET, now));
        assert_eq!(at(TS + 300), Ok(()));
        assert_eq!(
            at(TS + 301),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(at(TS - 3600), Ok(()));
    }

    #[test]
    fn malformed_headers() {
        let ctx = VerifyContext::new(SECRET, TS);
        assert!(matches!(
            verify(&req("1654503849", "79a21986"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req("soon", SIG), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        let no_ts = Request::post(BODY).with_header("x-zm-signature", SIG);
        assert_eq!(verify(&no_ts, &ctx), Err(VerifyError::MissingTimestamp));
        assert_eq!(signing_secret(&no_ts, &ctx), None);
    }

    #[test]
    fn the_secret_that_signed_is_found_among_several() {
        let ctx = VerifyContext {
            secrets: vec![b"newer".to_vec(), SECRET.into()],
            ..VerifyContext::new("", TS)
        };
        assert_eq!(
            signing_secret(&req("1654503849", SIG), &ctx),
            Some(SECRET.as_bytes())
        );
        assert_eq!(verify(&req("1654503849", SIG), &ctx), Ok(()));
    }
}
