//! `Calendly-Webhook-Signature` verification: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "{t}.{body}">`, the key the signing key's text. Unknown keys in the header are ignored; every
//! `v1` is tried.

use hookgate_sdk::prelude::*;

/// The header Calendly signs with.
pub const HEADER: &str = "calendly-webhook-signature";

/// The `v1=` signatures of the header (the `t=` item is not one and is skipped).
const V1: HmacHeader<'static> = HmacHeader::hex(HEADER, Hash::Sha256)
    .prefixed("v1=")
    .listing();

/// Verifies a Calendly webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = V1.signatures(req)?;
    let header = req.header_str(HEADER)?.unwrap_or_default();
    let t = SignatureHeader::parse(header)?
        .get("t")
        .ok_or(VerifyError::MissingTimestamp)?;
    let ts = parse_unix_secs(t).ok_or(VerifyError::MissingTimestamp)?;
    // Calendly's documented check rejects only signatures older than the window; a clock of
    // ours that runs behind Calendly's must not refuse genuine events.
    ctx.check_not_stale(ts)?;
    let message: [&[u8]; 3] = [t.as_bytes(), b".", &req.body];
    ctx.verify_any_secret(|secret| {
        signatures
            .iter()
            .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
    })
}

/// A `Calendly-Webhook-Signature` value for `body` at `t`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let t = t.to_string();
    let mac = hmac(Hash::Sha256, secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex_encode(&mac))
}

/// The header `hookgate send` adds: a fresh signature over the body at `now`.
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

    const KEY: &str = "calendly-signing-key";
    const BODY: &str = r#"{"event":"invitee.created","created_at":"2020-11-23T17:51:19.000000Z"}"#;
    const T: i64 = 1_606_153_879;

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("Calendly-Webhook-Signature", sig)
    }

    /// Calendly publishes no vector with its key and body; this one was computed
    /// independently with Python: `hmac.new(KEY, b"1606153879." + BODY, sha256).hexdigest()`.
    #[test]
    fn known_signature() {
        let expected =
            "t=1606153879,v1=e5782122151fb4dea4121b43472b4c92e0746c82da6d0ac21e7f62eb9dfb062d";
        assert_eq!(sign(KEY.as_bytes(), T, BODY.as_bytes()), expected);
        assert_eq!(
            verify(&req(expected), &VerifyContext::new(KEY, T + 10)),
            Ok(())
        );
    }

    #[test]
    fn old_timestamps_are_refused_future_ones_accepted() {
        let good = sign(KEY.as_bytes(), T, BODY.as_bytes());
        assert_eq!(
            verify(&req(&good), &VerifyContext::new(KEY, T + 300)),
            Ok(())
        );
        assert_eq!(
            verify(&req(&good), &VerifyContext::new(KEY, T + 301)),
            Err(VerifyError::TimestampOutsideTolerance(T))
        );
        // Calendly's clock ahead of ours.
        assert_eq!(
            verify(&req(&good), &VerifyContext::new(KEY, T - 3600)),
            Ok(())
        );
    }

    #[test]
    fn header_forms() {
        let ctx = VerifyContext::new(KEY, T);
        let good = sign(KEY.as_bytes(), T, BODY.as_bytes());
        let mac = good.split_once("v1=").unwrap().1;
        // Order, spaces, unknown keys and a second (stale-key) v1 do not matter.
        let reordered = format!("v0=abc, v1={}, t={T}, v1={mac}", "0".repeat(64));
        assert_eq!(verify(&req(&reordered), &ctx), Ok(()));
        assert_eq!(
            verify(&req(&format!("v1={mac}")), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        assert_eq!(
            verify(&req(&format!("t=soon,v1={mac}")), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
        assert!(matches!(
            verify(&req(&format!("t={T}")), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req(&format!("t={T},v1=zz")), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        // The timestamp is signed: another one breaks the signature.
        assert_eq!(
            verify(&req(&format!("t={},v1={mac}", T + 1)), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let rotating = VerifyContext {
            secrets: vec![b"new-key".to_vec(), KEY.into()],
            ..ctx
        };
        assert_eq!(verify(&req(&good), &rotating), Ok(()));
    }
}
