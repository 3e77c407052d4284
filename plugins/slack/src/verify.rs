//! Slack `v0` request signing.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: &str = "x-slack-signature";
/// The signed timestamp header.
pub const TIMESTAMP: &str = "x-slack-request-timestamp";

/// Verifies a Slack request.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(SIGNATURE)?
        .ok_or(VerifyError::MissingSignature)?;
    let hex = header
        .strip_prefix("v0=")
        .ok_or_else(|| VerifyError::malformed("expected v0=<hex>"))?;
    if hex.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let sig = hex_decode(hex).map_err(|_| VerifyError::malformed("signature is not hex"))?;
    let ts = req
        .header_str(TIMESTAMP)?
        .ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_timestamp(ts)?;
    let message: [&[u8]; 4] = [b"v0:", ts.as_bytes(), b":", &req.body];
    ctx.verify_any_secret(|secret| hmac_verify(Hash::Sha256, secret, &message, &sig))
}

/// Builds the `(X-Slack-Request-Timestamp, X-Slack-Signature)` pair for a body.
pub fn sign(secret: &str, ts: i64, body: &[u8]) -> (String, String) {
    let ts = ts.to_string();
    let mac = hmac(
        Hash::Sha256,
        secret.as_bytes(),
        &[b"v0:", ts.as_bytes(), b":", body],
    );
    (ts, format!("v0={}", hex_encode(&mac)))
}

/// The headers `hookgate send` adds: the request timestamp (now) and its `v0` signature.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let (ts, signature) = sign(ctx.secret_str()?, ctx.now_unix_secs, &req.body);
    Ok(vec![(TIMESTAMP.into(), ts), (SIGNATURE.into(), signature)])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's documented example ("Verifying requests from Slack").
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: i64 = 1_531_420_618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn req(ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("X-Slack-Request-Timestamp", ts)
            .with_header("X-Slack-Signature", sig)
    }

    #[test]
    fn documented_example_verifies() {
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()).1, SIG);
        assert_eq!(
            verify(
                &req("1531420618", SIG),
                &VerifyContext::new(SECRET, TS + 60)
            ),
            Ok(())
        );
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_unsigned_and_stale_timestamps() {
        let ctx = VerifyContext::new(SECRET, TS);
        assert!(matches!(
            verify(&req("1531420618", "v1=ab"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let no_ts = Request::post(BODY).with_header(SIGNATURE, SIG);
        assert_eq!(verify(&no_ts, &ctx), Err(VerifyError::MissingTimestamp));
        // Signed timestamp changed: the signature no longer matches.
        assert_eq!(
            verify(&req("1531420619", SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let stale = VerifyContext::new(SECRET, TS + 301);
        assert_eq!(
            verify(&req("1531420618", SIG), &stale),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
    }
}
