//! `X-Trello-Webhook` verification: base64 HMAC-SHA1 of `{body}{callbackURL}`.

use hookgate_sdk::prelude::*;

/// Trello's scheme: one base64 HMAC-SHA1, no prefix.
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::base64("x-trello-webhook", Hash::Sha1);

/// Verifies a Trello delivery. The signed URL is `request.url`: the source's `public_url` when
/// set, which must be the callback URL exactly as registered.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body, req.url.as_bytes()])
}

/// The header `hookgate send` adds: `X-Trello-Webhook` over the body and the URL the gateway
/// will show the plugin (the source's `public_url`, or the URL the request is sent to).
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![SIGNATURE.signed(
        ctx.secret_str()?.as_bytes(),
        &[&req.body, req.url.as_bytes()],
    )])
}

/// Whether this is the `HEAD` Trello sends when a webhook is created. It carries no body and
/// no signature: answering it only lets the webhook be created.
pub fn is_creation_check(req: &Request) -> bool {
    req.method == "HEAD"
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trello publishes no signed example; these were computed independently with Python's
    // hmac: base64(HMAC-SHA1(secret, body + callback URL)), the body taken as its UTF-8 bytes
    // (what Trello has signed since 2016).
    const SECRET: &str = "secret";

    fn req(body: &str, url: &str, sig: &str) -> Request {
        Request {
            url: url.into(),
            ..Request::post(body).with_header("X-Trello-Webhook", sig)
        }
    }

    #[test]
    fn computed_examples_verify() {
        let ctx = VerifyContext::new(SECRET, 0);
        let ascii = req(
            r#"{"hello":"world"}"#,
            "https://example.com/webhooks",
            "FwPAcuGe9EP/+SbXFWjnEVTa0zw=",
        );
        assert_eq!(verify(&ascii, &ctx), Ok(()));
        let unicode = req(
            r#"{"action":{"id":"a1","type":"commentCard","data":{"text":"café – 😀"}}}"#,
            "https://example.com/hooks/trello?x=1",
            "8+ubrVR83D7yY9oL7rjHJH9V1CQ=",
        );
        assert_eq!(verify(&unicode, &ctx), Ok(()));
        // The pre-2016 "binary string" form (low byte of each UTF-16 unit) is not accepted.
        let legacy = req(
            r#"{"action":{"id":"a1","type":"commentCard","data":{"text":"café – 😀"}}}"#,
            "https://example.com/hooks/trello?x=1",
            "khUCx/iDZEOQF/sXZK4rEuB/8nc=",
        );
        assert_eq!(verify(&legacy, &ctx), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn the_url_is_part_of_the_signed_message() {
        let ctx = VerifyContext::new(SECRET, 0);
        let other_url = req(
            r#"{"hello":"world"}"#,
            "https://example.com/webhooks?x=1",
            "FwPAcuGe9EP/+SbXFWjnEVTa0zw=",
        );
        assert_eq!(
            verify(&other_url, &ctx),
            Err(VerifyError::SignatureMismatch)
        );
    }

    // Missing, empty, tampered and wrong-secret signatures: the SDK's testing kit, from lib.rs.
    #[test]
    fn malformed_signatures() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert!(matches!(
            verify(&req("{}", "https://e.com", "***"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }
}
