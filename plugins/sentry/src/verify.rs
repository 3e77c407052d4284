//! `Sentry-Hook-Signature` verification: lower-case hex HMAC-SHA256 of the raw body, no prefix.
//! Sentry signs the compact JSON it sends (non-ASCII as `\u` escapes); the bytes are verified as
//! received, never re-serialized.

use hookgate_sdk::prelude::*;

/// The header Sentry signs with.
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::hex("sentry-hook-signature", Hash::Sha256);

/// The header naming the resource (`issue`), which normalization needs.
pub const RESOURCE: &str = "sentry-hook-resource";

/// Sentry's per-attempt request id (metadata, not the event id).
pub const REQUEST_ID: &str = "request-id";

/// Sentry's send time, Unix seconds (not signed).
pub const TIMESTAMP: &str = "sentry-hook-timestamp";

/// Verifies a Sentry webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The headers `hookgate send` adds: the signature, and `Request-ID` and
/// `Sentry-Hook-Timestamp` unless the operator gave them. Sentry names the resource only in
/// `Sentry-Hook-Resource`, so the operator must pass it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text(RESOURCE).is_none() {
        return Err(SignError::invalid(
            "Sentry names the resource in a header: pass --header 'Sentry-Hook-Resource: issue' (or the resource you are testing)",
        ));
    }
    let mut headers = vec![SIGNATURE.signed(ctx.secret_str()?.as_bytes(), &[&req.body])];
    if req.header_text(REQUEST_ID).is_none() {
        headers.push((REQUEST_ID.into(), ctx.nonce.clone()));
    }
    if req.header_text(TIMESTAMP).is_none() {
        headers.push((TIMESTAMP.into(), ctx.now_unix_secs.to_string()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sentry-client-secret";
    const BODY: &str = r#"{"action":"created","installation":{"uuid":"a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},"data":{"issue":{"id":"1170820242","title":"Error: caf\u00e9"}},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("Sentry-Hook-Signature", sig)
    }

    /// Sentry publishes no vector; `hmac.new(SECRET, BODY, sha256).hexdigest()` computed
    /// independently with Python, over the body with its `\u` escape as Sentry sends it.
    #[test]
    fn known_signature() {
        let expected = "78384908222ce4912115acbbc7d5b3ec4c8bb1bcebdd98810fafc7b58e1a52a5";
        assert_eq!(
            SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]),
            expected
        );
        assert_eq!(
            verify(&req(expected), &VerifyContext::new(SECRET, 0)),
            Ok(())
        );
        // The same JSON re-serialized with the raw character is other bytes: refused.
        let unescaped = Request::post(BODY.replace("\\u00e9", "é"))
            .with_header("Sentry-Hook-Signature", expected);
        assert_eq!(
            verify(&unescaped, &VerifyContext::new(SECRET, 0)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn prefixed_or_base64_signatures_are_malformed() {
        let ctx = VerifyContext::new(SECRET, 0);
        let hex = SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]);
        assert!(matches!(
            verify(&req(&format!("sha256={hex}")), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let b64 = base64_encode(&hex_decode(&hex).unwrap());
        assert!(verify(&req(&b64), &ctx).is_err());
        let rotating = VerifyContext {
            secrets: vec![b"rotated".to_vec(), SECRET.into()],
            ..ctx
        };
        assert_eq!(verify(&req(&hex), &rotating), Ok(()));
    }
}
