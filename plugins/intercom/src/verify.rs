//! `X-Hub-Signature` verification: `sha1=<hex HMAC-SHA1 of the body>`. SHA-1 is what Intercom
//! signs with; there is no SHA-256 header to prefer.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::hex("x-hub-signature", Hash::Sha1).prefixed("sha1=");

/// Verifies an Intercom notification under any configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The header `hookgate send` adds: the signature over the body (the topic and id are in the
/// body).
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![SIGNATURE.signed(&ctx.secret, &[&req.body])])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Intercom's SDKs have no verifier and its docs' example omits the secret and exact body;
    // this vector was computed independently with
    // `printf '{"type":"notification_event"}' | openssl dgst -sha1 -hmac secret`.
    const SECRET: &str = "secret";
    const BODY: &str = r#"{"type":"notification_event"}"#;
    const SIG: &str = "sha1=f3d8e3f3fd442fb2f093e5d59714a8d1b27ba426";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-Hub-Signature", sig)
    }

    #[test]
    fn an_independently_computed_signature_verifies() {
        assert_eq!(SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
    }

    #[test]
    fn other_schemes_are_malformed() {
        let ctx = VerifyContext::new(SECRET, 0);
        let sha256 = format!(
            "sha256={}",
            hex_encode(&hmac(Hash::Sha256, SECRET.as_bytes(), &[BODY.as_bytes()]))
        );
        for bad in [
            sha256.as_str(),
            "f3d8e3f3fd442fb2f093e5d59714a8d1b27ba426",
            "sha1=xyz",
        ] {
            assert!(
                matches!(
                    verify(&req(bad), &ctx),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{bad}"
            );
        }
    }
}
