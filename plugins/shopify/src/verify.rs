//! `X-Shopify-Hmac-Sha256` verification. Shopify signs no timestamp.

use hookgate_sdk::prelude::*;

/// The header Shopify signs with.
pub const HEADER: &str = "x-shopify-hmac-sha256";

/// Verifies a Shopify webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(HEADER)?
        .ok_or(VerifyError::MissingSignature)?;
    if header.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let sig =
        base64_decode(header).map_err(|_| VerifyError::malformed("signature is not base64"))?;
    if sig.len() != 32 {
        return Err(VerifyError::malformed("signature is not a SHA-256 HMAC"));
    }
    ctx.verify_any_secret(|secret| hmac_verify(Hash::Sha256, secret, &[&req.body], &sig))
}

/// Builds an `X-Shopify-Hmac-Sha256` value.
pub fn sign(secret: &str, body: &[u8]) -> String {
    base64_encode(&hmac(Hash::Sha256, secret.as_bytes(), &[body]))
}

/// The headers `hookgate send` adds: `X-Shopify-Hmac-Sha256` over the body, and a fresh
/// `X-Shopify-Webhook-Id` unless the operator gave an id. Shopify names the topic only in
/// `X-Shopify-Topic`, so the operator must pass it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text("x-shopify-topic").is_none() {
        return Err(SignError::invalid(
            "Shopify names the topic in a header: pass --header 'X-Shopify-Topic: orders/create' (or the topic you are testing)",
        ));
    }
    let mut headers = vec![(HEADER.to_owned(), sign(ctx.secret_str()?, &req.body))];
    if req.header_text("x-shopify-webhook-id").is_none()
        && req.header_text("x-shopify-event-id").is_none()
    {
        headers.push(("x-shopify-webhook-id".into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "hush";
    const BODY: &str = r#"{"id":820982911946154508,"email":"jon@example.com"}"#;
    // Computed independently with Python: base64(hmac.new(b"hush", BODY, sha256).digest()).
    const SIG: &str = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-Shopify-Hmac-Sha256", sig)
    }

    #[test]
    fn valid_signature() {
        assert_eq!(sign(SECRET, BODY.as_bytes()), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_signatures() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert!(matches!(
            verify(&req("!!!"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req("YWJj"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }
}
