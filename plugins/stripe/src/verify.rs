//! `Stripe-Signature` verification: `HMAC-SHA256(secret, "{t}.{body}")`, hex, compared against
//! every `v1` value (Stripe sends one per active secret while a secret is being rolled).

use hookgate_sdk::prelude::*;

/// The header Stripe signs with.
pub const HEADER: &str = "stripe-signature";

/// Verifies a Stripe webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(HEADER)?
        .ok_or(VerifyError::MissingSignature)?;
    let parsed = SignatureHeader::parse(header)?;
    let t = parsed.get("t").ok_or(VerifyError::MissingTimestamp)?;
    // Like Stripe's own libraries, entries that are not hex simply do not match; the header is
    // malformed only when no v1 entry is usable at all.
    let candidates: Vec<&str> = parsed.all("v1").collect();
    if candidates.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let signatures: Vec<Vec<u8>> = candidates
        .iter()
        .filter_map(|s| hex_decode(s).ok())
        .collect();
    if signatures.is_empty() {
        return Err(VerifyError::malformed("no v1 signature is hex"));
    }
    // Stripe's libraries reject only timestamps that are too old, so a receiver whose clock
    // runs behind Stripe's does not refuse genuine events.
    let ts = parse_unix_secs(t).ok_or(VerifyError::MissingTimestamp)?;
    if ctx.now_unix_secs.saturating_sub(ts) > i64::try_from(ctx.tolerance_secs).unwrap_or(i64::MAX)
    {
        return Err(VerifyError::TimestampOutsideTolerance(ts));
    }
    let message: [&[u8]; 3] = [t.as_bytes(), b".", &req.body];
    // One MAC per secret, compared with every v1 entry (at most the SDK's entry cap).
    ctx.verify_any_mac(Hash::Sha256, &message, &signatures)
}

/// Builds a `Stripe-Signature` value, as Stripe's libraries do for tests.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mac = hmac(
        Hash::Sha256,
        secret.as_bytes(),
        &[t.to_string().as_bytes(), b".", body],
    );
    format!("t={t},v1={}", hex_encode(&mac))
}

/// The headers `hookgate send` adds: a fresh `Stripe-Signature` over the body at `now`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![(
        HEADER.into(),
        sign(ctx.secret_str()?, ctx.now_unix_secs, &req.body),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &str = r#"{"id":"evt_test_webhook","object":"event"}"#;
    const T: i64 = 1_492_774_577;

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("Stripe-Signature", sig)
    }

    #[test]
    fn known_signature() {
        // Computed independently with Python: hmac.new(b"whsec_test_secret",
        //   b"1492774577." + BODY, sha256).hexdigest()
        assert_eq!(
            sign(SECRET, T, BODY.as_bytes()),
            "t=1492774577,v1=88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a"
        );
    }

    #[test]
    fn valid_and_rotated_signatures() {
        let ctx = VerifyContext::new(SECRET, T + 10);
        assert_eq!(
            verify(&req(&sign(SECRET, T, BODY.as_bytes())), &ctx),
            Ok(())
        );
        // Two v1 values during a roll: the one from the other secret is ignored.
        let other = sign("whsec_other", T, BODY.as_bytes());
        let both = format!(
            "{},v1={}",
            sign(SECRET, T, BODY.as_bytes()),
            &other[other.find("v1=").unwrap() + 3..]
        );
        assert_eq!(verify(&req(&both), &ctx), Ok(()));
        // Old and new secret both configured.
        let rotating = VerifyContext {
            secrets: vec![b"whsec_new".to_vec(), SECRET.as_bytes().to_vec()],
            ..ctx
        };
        assert_eq!(
            verify(&req(&sign(SECRET, T, BODY.as_bytes())), &rotating),
            Ok(())
        );
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_and_stale_signatures() {
        let ctx = VerifyContext::new(SECRET, T);
        let good = sign(SECRET, T, BODY.as_bytes());
        assert!(matches!(
            verify(&req("garbage"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req("v1=abcd"), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        assert!(matches!(
            verify(&req(&format!("t={T},v1=zz")), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let late = VerifyContext::new(SECRET, T + 301);
        assert_eq!(
            verify(&req(&good), &late),
            Err(VerifyError::TimestampOutsideTolerance(T))
        );
    }
}
