//! `X-Dropbox-Signature` verification and the registration challenge.

use hookgate_sdk::prelude::*;

/// Dropbox's scheme: lower-case hex HMAC-SHA256 of the raw body under the app secret, alone in
/// its header (no prefix, no timestamp).
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::hex("x-dropbox-signature", Hash::Sha256);

/// Verifies a Dropbox notification.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The header `hookgate send` adds: `X-Dropbox-Signature` over the body.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![
        SIGNATURE.signed(ctx.secret_str()?.as_bytes(), &[&req.body]),
    ])
}

/// The `challenge` of the registration GET, if this is one. Dropbox does not sign it; the
/// answer proves only that the endpoint wants the notifications, which is its whole purpose.
pub fn challenge(req: &Request) -> Option<String> {
    if req.method != "GET" {
        return None;
    }
    query_value(&req.url, "challenge").filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A published example (the tests of the hapi-dropbox-webhooks package), recomputed with
    // Python's hmac: HMAC-SHA256("the_secret", body).
    const SECRET: &str = "the_secret";
    const BODY: &str = r#"{"delta": {"users": [12345]}}"#;
    const SIG: &str = "0a8c16b085420b960dc78664279fe09e936a2a01b1f91064869d9e77dfd64529";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-Dropbox-Signature", sig)
    }

    #[test]
    fn published_example_verifies() {
        assert_eq!(SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
        // Hex in upper case is the same signature.
        assert_eq!(
            verify(
                &req(&SIG.to_ascii_uppercase()),
                &VerifyContext::new(SECRET, 0)
            ),
            Ok(())
        );
        let rotating = VerifyContext {
            secrets: vec![b"new-secret".to_vec(), SECRET.into()],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(verify(&req(SIG), &rotating), Ok(()));
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_signatures() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert!(matches!(
            verify(&req("sha256=0a8c"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req("not hex"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value(
                "https://h.example/d?x=1&challenge=a%2Bb+c#frag",
                "challenge"
            )
            .as_deref(),
            Some("a+b c")
        );
        assert_eq!(query_value("https://h.example/d", "challenge"), None);
        assert_eq!(
            query_value("https://h.example/d?other=1", "challenge"),
            None
        );
    }
}
