//! `X-Razorpay-Signature` verification: hex HMAC-SHA256 of the body, one signature, no prefix.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::hex("x-razorpay-signature", Hash::Sha256);

/// The event id header (not signed).
pub const EVENT_ID: &str = "x-razorpay-event-id";

/// Verifies a Razorpay webhook under any configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The headers `hookgate send` adds: the signature and, unless the operator gave one, a fresh
/// `x-razorpay-event-id` (Razorpay always sends one; it is the event's id here).
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = vec![SIGNATURE.signed(&ctx.secret, &[&req.body])];
    if req.header_text(EVENT_ID).is_none() {
        headers.push((EVENT_ID.into(), format!("evt_{}", ctx.nonce)));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    // razorpay-node's test of `validateWebhookSignature` (test/utils/razorpay-utils.spec.js).
    const SECRET: &str = "123456";
    const BODY: &str = r#"{"a":1,"b":2,"c":{"d":3}}"#;
    const SIG: &str = "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-Razorpay-Signature", sig)
    }

    #[test]
    fn the_sdk_test_vector_verifies() {
        assert_eq!(SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        assert_eq!(verify(&req(SIG), &VerifyContext::new(SECRET, 0)), Ok(()));
        // Upper-case hex is the same bytes.
        let upper = SIG.to_ascii_uppercase();
        assert_eq!(verify(&req(&upper), &VerifyContext::new(SECRET, 0)), Ok(()));
    }

    #[test]
    fn retries_signed_with_the_previous_secret_verify_while_both_are_configured() {
        let ctx = VerifyContext {
            secrets: vec![b"new-secret".to_vec(), SECRET.into()],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(verify(&req(SIG), &ctx), Ok(()));
    }

    #[test]
    fn malformed_signatures() {
        let ctx = VerifyContext::new(SECRET, 0);
        for bad in ["sha256=abcd", "xyz", "abc"] {
            assert!(
                matches!(
                    verify(&req(bad), &ctx),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn signing_adds_an_event_id_only_when_missing() {
        let ctx = SignContext {
            secret: SECRET.into(),
            now_unix_secs: 0,
            nonce: "n1".into(),
            settings: Settings::none(),
        };
        let headers = signed_headers(&Request::post(BODY), &ctx).unwrap();
        assert_eq!(
            headers,
            [
                ("x-razorpay-signature".to_owned(), SIG.to_owned()),
                (EVENT_ID.to_owned(), "evt_n1".to_owned()),
            ]
        );
        let given = Request::post(BODY).with_header(EVENT_ID, "evt_given");
        assert_eq!(signed_headers(&given, &ctx).unwrap().len(), 1);
    }
}
