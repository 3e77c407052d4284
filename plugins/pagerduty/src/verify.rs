//! `X-PagerDuty-Signature` verification: comma-separated `v1=<hex>` entries over the body.

use hookgate_sdk::prelude::*;

/// The signature header: a list, since PagerDuty sends one entry per active secret.
/// Whitespace around the commas is tolerated (the official verifiers do not trim, but PagerDuty
/// sends none, so trimming only forgives a proxy).
pub const SIGNATURE: HmacHeader<'static> = HmacHeader::hex("x-pagerduty-signature", Hash::Sha256)
    .prefixed("v1=")
    .listing();

/// Verifies a PagerDuty webhook under any configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The headers `hookgate send` adds: the signature and, unless given, a fresh `X-Webhook-Id`
/// (PagerDuty always sends one; normalization does not need it).
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = vec![SIGNATURE.signed(&ctx.secret, &[&req.body])];
    if req.header_text("x-webhook-id").is_none() {
        headers.push(("x-webhook-id".into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::SECRET;

    // go-pagerduty webhookv3_test.go: `defaultBody` is the fixture's body.
    const BODY: &[u8] = include_bytes!("../fixtures/incident.priority_updated.json");
    const SIG: &str = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
    // The same test's "mismatch" signature.
    const OTHER: &str = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5";

    fn req(sig: &str) -> Request {
        Request::post(BODY).with_header("X-PagerDuty-Signature", sig)
    }

    fn ctx() -> VerifyContext {
        VerifyContext::new(SECRET, 0)
    }

    #[test]
    fn the_sdk_test_vectors() {
        assert_eq!(SIGNATURE.sign(SECRET, &[BODY]), SIG);
        assert_eq!(verify(&req(SIG), &ctx()), Ok(()));
        assert_eq!(
            verify(&req(OTHER), &ctx()),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn during_a_rotation_any_entry_may_match() {
        for header in [
            format!("{OTHER},{SIG}"),
            format!("{SIG},{OTHER}"),
            format!("{OTHER}, {SIG}"),
            format!("v2=abcd,{SIG}"),
        ] {
            assert_eq!(verify(&req(&header), &ctx()), Ok(()), "{header}");
        }
    }

    #[test]
    fn headers_without_a_usable_v1_entry() {
        assert_eq!(verify(&req(""), &ctx()), Err(VerifyError::MissingSignature));
        assert_eq!(
            verify(&req("v1="), &ctx()),
            Err(VerifyError::MissingSignature)
        );
        for bad in [
            "v2=abcd",
            "0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd",
            "v1=zz",
        ] {
            assert!(
                matches!(
                    verify(&req(bad), &ctx()),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{bad}"
            );
        }
    }
}
