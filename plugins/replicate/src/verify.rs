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

/// The message id header (also the event id).
pub const ID: &str = "webhook-id";
/// The signed timestamp header, Unix seconds.
pub const TIMESTAMP: &str = "webhook-timestamp";
/// The signature header.
pub const SIGNATURE: &str = "webhook-signature";

/// The HMAC key of the secret: the base64 after its last `_` (`whsec_…`), decoded; `None` when
/// it is not base64 or decodes to nothing.
pub fn key(secret: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(secret).ok()?.trim();
    let encoded = text.rsplit('_').next().unwrap_or(text);
    base64_decode(encoded).ok().filter(|key| !key.is_empty())
}

/// A whole integer, as Python's `int()` reads a timestamp: optional sign and digits only.
pub fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The decodable signatures of the header: the part after each entry's first comma.
fn signatures(header: &str) -> Vec<Vec<u8>> {
    header
        .split(' ')
        .filter_map(|entry| entry.split(',').nth(1))
        .filter_map(|sig| base64_decode(sig).ok())
        .filter(|sig| !sig.is_empty())
        .collect()
}

/// Verifies a Replicate webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(SIGNATURE)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let id = req
        .header_str(ID)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| VerifyError::malformed("missing webhook-id"))?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|s| !s.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    let seconds = parse_integer(timestamp).ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_unix_secs(seconds)?;
    let signatures = signatures(header);
    if signatures.is_empty() {
        return Err(VerifyError::malformed(
            "no webhook-signature entry is <version>,<base64>",
        ));
    }
    let prefix = format!("{id}.{timestamp}.");
    let message: [&[u8]; 2] = [prefix.as_bytes(), &req.body];
    ctx.verify_any_secret(|secret| {
        key(secret).is_some_and(|key| {
            signatures.iter().fold(false, |ok, sig| {
                ok | hmac_verify(Hash::Sha256, &key, &message, sig)
            })
        })
    })
}

/// The `webhook-signature` value for one message (`v1,<base64>`).
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> Result<String, SignError> {
    let key = key(secret.as_bytes())
        .ok_or_else(|| SignError::invalid("the secret is not whsec_<base64>"))?;
    let prefix = format!("{id}.{timestamp}.");
    let mac = hmac(Hash::Sha256, &key, &[prefix.as_bytes(), body]);
    Ok(format!("v1,{}", base64_encode(&mac)))
}

/// The headers `hookgate send` adds: `webhook-id` (a fresh `msg_…` unless the operator gave
/// one), `webhook-timestamp` (now) and `webhook-signature`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let given = req.header_text(ID);
    let id = given.map_or_else(|| format!("msg_{}", ctx.nonce), str::to_owned);
    let timestamp = ctx.now_unix_secs.to_string();
    let signature = sign(ctx.secret_str()?, &id, &timestamp, &req.body)?;
    let mut headers = Vec::new();
    if given.is_none() {
        headers.push((ID.to_owned(), id));
    }
    headers.push((TIMESTAMP.to_owned(), timestamp));
    headers.push((SIGNATURE.to_owned(), signature));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

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
