//! `Paddle-Signature` verification, as Paddle's SDKs do it (paddle-node-sdk
//! `WebhooksValidator`, paddle-python-sdk `Verifier`): `ts=<unix secs>;h1=<hex>`, the hex
//! HMAC-SHA256 under the notification destination's secret key of `{ts}:{raw body}`.
//!
//! The two SDKs disagree at the edges, and the union is taken: every `h1` counts, as in Python
//! (Node keeps only the last; Paddle sends several while a secret is rotated), and unknown keys
//! are ignored, as in Node (Python raises). Both SDKs refuse only timestamps that are too old
//! (Node's and Python's default is 5 s, against the source's `tolerance_secs` here), and accept
//! future ones, so a receiver whose clock runs behind Paddle's refuses nothing genuine.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const HEADER: &str = "paddle-signature";

/// A parsed `Paddle-Signature`: the signed timestamp as sent, and every `h1`.
#[derive(Debug, PartialEq, Eq)]
pub struct Signature<'a> {
    /// `ts`, exactly as in the header (it is signed as text).
    pub ts: &'a str,
    /// Every non-empty `h1` value.
    pub h1: Vec<&'a str>,
}

/// Parses `ts=…;h1=…[;h1=…]`; items are `;`-separated `key=value` pairs.
pub fn parse(header: &str) -> Result<Signature<'_>, VerifyError> {
    let mut ts = None;
    let mut h1 = Vec::new();
    for item in header.split(';').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| VerifyError::malformed("Paddle-Signature items must be key=value"))?;
        match key.trim() {
            "ts" => ts = Some(value.trim()),
            "h1" if !value.trim().is_empty() => h1.push(value.trim()),
            _ => {}
        }
    }
    let ts = ts
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    if h1.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    Ok(Signature { ts, h1 })
}

/// Verifies a Paddle webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(HEADER)?
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    let signature = parse(header)?;
    let macs: Vec<Vec<u8>> = signature
        .h1
        .iter()
        .filter_map(|h| hex_decode(h).ok())
        .collect();
    if macs.is_empty() {
        return Err(VerifyError::malformed("no h1 signature is hex"));
    }
    let ts = parse_unix_secs(signature.ts).ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_not_stale(ts)?;
    let message: [&[u8]; 3] = [signature.ts.as_bytes(), b":", &req.body];
    ctx.verify_any_secret(|secret| {
        macs.iter()
            .any(|mac| hmac_verify(Hash::Sha256, secret, &message, mac))
    })
}

/// A `Paddle-Signature` value for `body` at `ts` under `secret`.
pub fn sign(secret: &[u8], ts: i64, body: &[u8]) -> String {
    let ts = ts.to_string();
    let mac = hmac(Hash::Sha256, secret, &[ts.as_bytes(), b":", body]);
    format!("ts={ts};h1={}", hex_encode(&mac))
}

/// The header `hookgate send` adds: a fresh `Paddle-Signature` at `now`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![(
        HEADER.into(),
        sign(ctx.secret_str()?.as_bytes(), ctx.now_unix_secs, &req.body),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    // paddle-node-sdk `webhooks-validator.node.test.ts`: secret, body, timestamp and h1.
    const SECRET: &str = "VALID_SECRET";
    const BODY: &str = r#"{"data": ["1", "2"]}"#;
    const TS: i64 = 1_698_796_800;
    const H1: &str = "a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";

    fn req(header: &str) -> Request {
        Request::post(BODY).with_header("Paddle-Signature", header)
    }

    fn at(now: i64) -> VerifyContext {
        VerifyContext::new(SECRET, now)
    }

    #[test]
    fn published_example_verifies() {
        assert_eq!(
            sign(SECRET.as_bytes(), TS, BODY.as_bytes()),
            format!("ts={TS};h1={H1}")
        );
        assert_eq!(verify(&req(&format!("ts={TS};h1={H1}")), &at(TS)), Ok(()));
        // The SDK test's header with a repeated h1 and an unknown h2.
        let extra = format!("ts={TS};h1={H1};h1={H1};h2=RANDOM_HASH");
        assert_eq!(verify(&req(&extra), &at(TS)), Ok(()));
        // Raw bytes matter: the same JSON spaced differently fails.
        let spaced = Request::post(r#"{"data":  ["1", "2"]}"#)
            .with_header("Paddle-Signature", format!("ts={TS};h1={H1}"));
        assert_eq!(
            verify(&spaced, &at(TS)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn any_h1_of_a_rotation_verifies() {
        let old = hex_encode(&hmac(
            Hash::Sha256,
            b"OLD_SECRET",
            &[b"1698796800:", BODY.as_bytes()],
        ));
        assert_eq!(
            verify(&req(&format!("ts={TS};h1={H1};h1={old}")), &at(TS)),
            Ok(())
        );
        assert_eq!(
            verify(&req(&format!("ts={TS};h1={old};h1={H1}")), &at(TS)),
            Ok(())
        );
    }

    #[test]
    fn stale_timestamps_are_refused_and_future_ones_accepted() {
        let header = format!("ts={TS};h1={H1}");
        // The SDKs' own window: 5 s late passes, 6 s does not.
        let five = |now| VerifyContext {
            tolerance_secs: 5,
            ..at(now)
        };
        assert_eq!(verify(&req(&header), &five(TS + 5)), Ok(()));
        assert_eq!(
            verify(&req(&header), &five(TS + 6)),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(verify(&req(&header), &five(TS - 3600)), Ok(()));
        // The ts is signed.
        assert_eq!(
            verify(&req(&format!("ts={};h1={H1}", TS + 1)), &at(TS)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn malformed_headers() {
        let ctx = at(TS);
        assert_eq!(
            verify(&req(&format!("h1={H1}")), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        assert_eq!(
            verify(&req(&format!("ts={TS};h2={H1}")), &ctx),
            Err(VerifyError::MissingSignature)
        );
        assert!(matches!(
            verify(&req("invalid_header"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req(&format!("ts={TS};h1=zz")), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req(&format!("ts=yesterday;h1={H1}")), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
    }
}
