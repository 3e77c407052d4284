//! `X-Hub-Signature` verification, WebSub style: `method=signature`, where Jira's method is
//! always `sha256` and the signature the hex HMAC-SHA256 of the raw body. Another method is
//! refused as malformed rather than guessed at.

use hookgate_sdk::prelude::*;

/// The header Jira signs with.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::hex("x-hub-signature", Hash::Sha256).prefixed("sha256=");

/// The header naming the delivery, the event id.
pub const IDENTIFIER: &str = "x-atlassian-webhook-identifier";

/// Verifies a Jira webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The headers `hookgate send` adds: the signature, and a fresh
/// `X-Atlassian-Webhook-Identifier` unless the operator gave one.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = vec![SIGNATURE.signed(ctx.secret_str()?.as_bytes(), &[&req.body])];
    if req.header_text(IDENTIFIER).is_none() {
        headers.push((IDENTIFIER.into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"timestamp":1525698237764,"webhookEvent":"jira:issue_updated"}"#;

    fn req(body: &str, sig: &str) -> Request {
        Request::post(body).with_header("X-Hub-Signature", sig)
    }

    /// Atlassian publishes no test vector; these are the WebSub/GitHub `sha256=` example and a
    /// Jira-shaped body, both computed independently with Python's hmac module.
    #[test]
    fn known_signatures() {
        let secret = "It's a Secret to Everybody";
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify(&req("Hello, World!", sig), &VerifyContext::new(secret, 0)),
            Ok(())
        );
        let jira = "sha256=0d3617dc0687b658604c48babdea5c460c886a23100b64228867daa3aa7c9ebd";
        assert_eq!(
            SIGNATURE.sign(b"jira-webhook-secret", &[BODY.as_bytes()]),
            jira
        );
        assert_eq!(
            verify(
                &req(BODY, jira),
                &VerifyContext::new("jira-webhook-secret", 0)
            ),
            Ok(())
        );
    }

    #[test]
    fn other_methods_are_malformed_and_an_empty_one_missing() {
        let ctx = VerifyContext::new("s", 0);
        assert!(matches!(
            verify(&req(BODY, "sha1=abcd"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            verify(&req(BODY, "sha256=not-hex"), &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert_eq!(
            verify(&req(BODY, "sha256="), &ctx),
            Err(VerifyError::MissingSignature)
        );
    }
}
