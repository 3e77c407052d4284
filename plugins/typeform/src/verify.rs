//! `Typeform-Signature` verification: `sha256=<base64 HMAC-SHA256 of the body>`.

use hookgate_sdk::prelude::*;

/// The signature header. The prefix precedes the base64 text, not the binary MAC (the guide's
/// wording is loose; its Ruby and Node examples prefix the encoded string).
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::base64("typeform-signature", Hash::Sha256).prefixed("sha256=");

/// Verifies a Typeform webhook under any configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The header `hookgate send` adds: the signature over the body. Everything normalization
/// reads is in the body.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![SIGNATURE.signed(&ctx.secret, &[&req.body])])
}

#[cfg(test)]
mod tests {
    use super::*;

    // Typeform publishes no example signature; this one was computed independently with
    // `printf '{"event_id":"x"}' | openssl dgst -sha256 -hmac abc123 -binary | base64`.
    const SECRET: &str = "abc123";
    const BODY: &str = r#"{"event_id":"x"}"#;
    const SIG: &str = "sha256=U1rJymdgorpNL5RkZrWJNbgFqLo1b0tqVtnqONoXh1w=";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("Typeform-Signature", sig)
    }

    #[test]
    fn an_independently_computed_signature_verifies() {
        assert_eq!(SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
    }

    #[test]
    fn hex_or_unprefixed_signatures_are_malformed() {
        let ctx = VerifyContext::new(SECRET, 0);
        let hex = format!(
            "sha256={}",
            hex_encode(&hmac(Hash::Sha256, SECRET.as_bytes(), &[BODY.as_bytes()]))
        );
        // 64 hex characters happen to be valid base64 too, but of other bytes.
        assert_eq!(
            verify(&req(&hex), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let bare = SIG.trim_start_matches("sha256=");
        assert!(matches!(
            verify(&req(bare), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req("sha256=***"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }
}
