//! `X-Hub-Signature` verification: `sha256=` + hex HMAC-SHA256 of the raw body. The header has
//! GitHub's legacy name but carries SHA-256; a `sha1=` value is refused, not read as SHA-1.

use hookgate_sdk::prelude::*;

/// The header Bitbucket signs with.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::hex("x-hub-signature", Hash::Sha256).prefixed("sha256=");

/// The header naming the event (`repo:push`), which normalization needs.
pub const EVENT_KEY: &str = "x-event-key";

/// The header naming the delivery, the event id.
pub const REQUEST_UUID: &str = "x-request-uuid";

/// Verifies a Bitbucket webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The headers `hookgate send` adds: the signature, and a fresh `X-Request-UUID` unless the
/// operator gave one. Bitbucket names the event only in `X-Event-Key`, so the operator must
/// pass it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text(EVENT_KEY).is_none() {
        return Err(SignError::invalid(
            "Bitbucket names the event in a header: pass --header 'X-Event-Key: repo:push' (or the event you are testing)",
        ));
    }
    let mut headers = vec![SIGNATURE.signed(ctx.secret_str()?.as_bytes(), &[&req.body])];
    if req.header_text(REQUEST_UUID).is_none() {
        headers.push((REQUEST_UUID.into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str, sig: &str) -> Request {
        Request::post(body).with_header("X-Hub-Signature", sig)
    }

    /// Atlassian publishes no test vector of its own; this is the published example of the
    /// same `sha256=` scheme (GitHub's "Validating webhook deliveries"), which Bitbucket's
    /// signature must reproduce byte for byte.
    #[test]
    fn published_sha256_example_verifies() {
        let secret = "It's a Secret to Everybody";
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(SIGNATURE.sign(secret.as_bytes(), &[b"Hello, World!"]), sig);
        let ctx = VerifyContext::new(secret, 0);
        assert_eq!(verify(&req("Hello, World!", sig), &ctx), Ok(()));
        let upper = sig.to_uppercase().replace("SHA256=", "sha256=");
        assert_eq!(verify(&req("Hello, World!", &upper), &ctx), Ok(()));
        let rotating = VerifyContext {
            secrets: vec![b"new".to_vec(), secret.into()],
            ..ctx
        };
        assert_eq!(verify(&req("Hello, World!", sig), &rotating), Ok(()));
    }

    #[test]
    fn other_algorithms_and_encodings_are_malformed() {
        let ctx = VerifyContext::new("s", 0);
        for bad in [
            "sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=xyz",
        ] {
            assert!(
                matches!(
                    verify(&req("{}", bad), &ctx),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            verify(&req("{}", "sha256="), &ctx),
            Err(VerifyError::MissingSignature)
        );
    }
}
