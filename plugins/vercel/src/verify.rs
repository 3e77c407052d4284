//! `x-vercel-signature` verification: lower-case hex HMAC-SHA1 (40 characters, no prefix) of
//! the raw body. SHA-1 is what Vercel signs with; a SHA-256 MAC in the header never matches.

use hookgate_sdk::prelude::*;

/// The header Vercel signs with.
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::hex("x-vercel-signature", Hash::Sha1);

/// Verifies a Vercel webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The header `hookgate send` adds: the signature over the body (everything else Vercel sends
/// is in the body).
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![
        SIGNATURE.signed(ctx.secret_str()?.as_bytes(), &[&req.body]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "vercel-webhook-secret";
    const BODY: &str = r#"{"id":"uHvGfz3p0oPZ8c9bR1nQ2wXs","type":"deployment.created","createdAt":1700000000000}"#;

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("x-vercel-signature", sig)
    }

    /// Vercel publishes no vector; `hmac.new(SECRET, BODY, sha1).hexdigest()`, computed
    /// independently with Python.
    #[test]
    fn known_signature() {
        let expected = "54fbc0614dcf0e233855daadc8d607126bb03cf5";
        assert_eq!(
            SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]),
            expected
        );
        assert_eq!(
            verify(&req(expected), &VerifyContext::new(SECRET, 0)),
            Ok(())
        );
    }

    #[test]
    fn a_sha256_mac_is_not_accepted() {
        let ctx = VerifyContext::new(SECRET, 0);
        let sha256 = hex_encode(&hmac(Hash::Sha256, SECRET.as_bytes(), &[BODY.as_bytes()]));
        assert_eq!(
            verify(&req(&sha256), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert!(matches!(
            verify(&req("sha1=abc"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let good = SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]);
        let rotating = VerifyContext {
            secrets: vec![b"new".to_vec(), SECRET.into()],
            ..ctx
        };
        assert_eq!(verify(&req(&good), &rotating), Ok(()));
    }
}
