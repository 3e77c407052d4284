//! `x-square-hmacsha256-signature` verification, as Square's SDKs do it (square-nodejs-sdk
//! `WebhooksHelper.verifySignature`): the base64 HMAC-SHA256, under the subscription's
//! signature key (its text, not decoded), of the notification URL followed by the raw body.
//!
//! The notification URL is the one registered in the subscription, byte for byte: hookgate
//! verifies against `request.url`, so the source's `public_url` must be set to it. The legacy
//! HMAC-SHA1 `x-square-signature` is not accepted: Square sends the SHA-256 header with it.
//! Nothing time-based is signed: replays are caught by duplicate detection on `event_id`.

use hookgate_sdk::prelude::*;

/// The signature header and scheme.
pub const SCHEME: HmacHeader<'static> =
    HmacHeader::base64("x-square-hmacsha256-signature", Hash::Sha256);

/// Verifies a Square notification.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SCHEME.verify(req, ctx, &[req.url.as_bytes(), &req.body])
}

/// The header `hookgate send` adds: the signature over the URL the gateway verifies and the
/// body.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let key = ctx.secret_str()?;
    Ok(vec![
        SCHEME.signed(key.as_bytes(), &[req.url.as_bytes(), &req.body]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, url: &str, body: &str, signature: &str) -> Result<(), VerifyError> {
        let request = Request {
            url: url.into(),
            ..Request::post(body).with_header("x-square-hmacsha256-signature", signature)
        };
        verify(&request, &VerifyContext::new(key, 0))
    }

    // square-nodejs-sdk `tests/integration/webhooks.test.ts`.
    const KEY: &str = "Ibxx_5AKakO-3qeNVR61Dw";
    const URL: &str = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9";
    const BODY: &str = r#"{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}"#;
    const SIG: &str = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=";

    #[test]
    fn published_examples_verify() {
        assert_eq!(check(KEY, URL, BODY, SIG), Ok(()));
        assert_eq!(
            SCHEME.sign(KEY.as_bytes(), &[URL.as_bytes(), BODY.as_bytes()]),
            SIG
        );
        let url = "https://webhook.site/webhooks";
        assert_eq!(
            check(
                "signature-key",
                url,
                r#"{"data":{"type":"webhooks","id":">id<"}}"#,
                "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="
            ),
            Ok(())
        );
        assert_eq!(
            check(
                "signature-key",
                url,
                r#"{"data":{"type":"webhooks","id":"fake_id"}}"#,
                "W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA="
            ),
            Ok(())
        );
    }

    #[test]
    fn the_url_and_the_exact_bytes_are_signed() {
        // One character of the URL changed.
        let other = URL.replace("679a", "679b");
        assert_eq!(
            check(KEY, &other, BODY, SIG),
            Err(VerifyError::SignatureMismatch)
        );
        // The same JSON pretty-printed.
        let pretty = BODY.replace(",\"", ", \"");
        assert_eq!(
            check(KEY, URL, &pretty, SIG),
            Err(VerifyError::SignatureMismatch)
        );
        // The key is used as text: its base64url-looking form is not decoded.
        let decoded = base64_decode(KEY).unwrap();
        let request = Request {
            url: URL.into(),
            ..Request::post(BODY).with_header("x-square-hmacsha256-signature", SIG)
        };
        let ctx = VerifyContext {
            secrets: vec![decoded],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(verify(&request, &ctx), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn malformed_signatures() {
        assert!(matches!(
            check(KEY, URL, BODY, "***"),
            Err(VerifyError::MalformedSignature(_))
        ));
        let unsigned = Request::post(BODY).with_header("x-square-signature", SIG);
        assert_eq!(
            verify(&unsigned, &VerifyContext::new(KEY, 0)),
            Err(VerifyError::MissingSignature)
        );
    }
}
