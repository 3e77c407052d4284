//! `X-Hub-Signature-256` verification. The legacy SHA-1 `X-Hub-Signature` is deliberately not
//! accepted: GitHub always sends the SHA-256 header too.

use hookgate_sdk::prelude::*;

/// The header GitHub signs with.
pub const HEADER: &str = "x-hub-signature-256";

/// Verifies a GitHub webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(HEADER)?
        .ok_or(VerifyError::MissingSignature)?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or_else(|| VerifyError::malformed("expected sha256=<hex>"))?;
    if hex.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let sig = hex_decode(hex).map_err(|_| VerifyError::malformed("signature is not hex"))?;
    ctx.verify_any_secret(|secret| hmac_verify(Hash::Sha256, secret, &[&req.body], &sig))
}

/// Builds an `X-Hub-Signature-256` value.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex_encode(&hmac(Hash::Sha256, secret.as_bytes(), &[body]))
    )
}

/// The headers `hookgate send` adds: `X-Hub-Signature-256` over the body, and a fresh
/// `X-GitHub-Delivery` unless the operator gave one. GitHub names the event only in
/// `X-GitHub-Event`, so the operator must pass it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text("x-github-event").is_none() {
        return Err(SignError::invalid(
            "GitHub names the event in a header: pass --header 'X-GitHub-Event: push' (or the event you are testing)",
        ));
    }
    let mut headers = vec![(HEADER.to_owned(), sign(ctx.secret_str()?, &req.body))];
    if req.header_text("x-github-delivery").is_none() {
        headers.push(("x-github-delivery".into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's documented example ("Validating webhook deliveries").
    const SECRET: &str = "It's a Secret to Everybody";
    const BODY: &str = "Hello, World!";
    const SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-Hub-Signature-256", sig)
    }

    #[test]
    fn documented_example_verifies() {
        assert_eq!(sign(SECRET, BODY.as_bytes()), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
        let rotating = VerifyContext {
            secrets: vec![b"new".to_vec(), SECRET.into()],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(verify(&req(SIG), &rotating), Ok(()));
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_signatures() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert!(matches!(
            verify(&req("sha1=abcd"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req("sha256=xyz"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }
}
