//! OpenAI signature verification, as `client.webhooks.verifySignature` of the official Node
//! SDK (openai-node `src/lib/webhook-signature.ts`) does it. The scheme is Standard Webhooks,
//! with these differences from the `standardwebhooks` library, which matter for requests
//! signed the way the SDK's tests sign them:
//!
//! - Key: for a secret starting `whsec_`, the base64 after the prefix, decoded; any other
//!   secret is used as its UTF-8 bytes (never base64-decoded).
//! - Signed bytes: `{webhook-id}.{webhook-timestamp}.{body}` with the timestamp **as the
//!   header's text**. The tolerance is checked on the integer `parseInt` reads from it (a
//!   numeric prefix: `1700000000.75`, `+1700000000`), but the text itself is signed. An empty
//!   `webhook-id` header signs `{webhook-timestamp}.{body}`.
//! - `webhook-signature`: entries separated by single spaces; an entry's `v1,` prefix is
//!   stripped and anything else is tried as bare base64; entries that do not decode are
//!   skipped; any entry may match. Decoded bytes are compared (constant time).
//! - Timestamp: refused when more than the tolerance away from now, past ("too old") or future
//!   ("too new"), both boundaries inclusive.

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{Dialect, Entries, KeyFormat, Timestamp, WEBHOOK};

/// The message id header.
pub const ID: &str = WEBHOOK.id;

/// OpenAI's rules, as above.
pub const DIALECT: Dialect = Dialect {
    names: WEBHOOK,
    key: KeyFormat::Base64OrRaw,
    timestamp: Timestamp::AsSent {
        seconds: parse_int_prefix,
    },
    entries: Entries::V1OrBare,
    empty_id_allowed: true,
    id_prefix: "wh_",
};

/// Verifies an OpenAI webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    DIALECT.verify(req, ctx)
}

/// The `webhook-signature` value for one message (`v1,<base64>`).
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> Result<String, SignError> {
    DIALECT.sign(secret, id, timestamp, body)
}

/// The headers `hookgate send` adds: `webhook-id` (a fresh `wh_…` unless the operator gave
/// one), `webhook-timestamp` (now) and `webhook-signature`.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    DIALECT.signed_headers(req, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::standard_webhooks::Key;

    fn key(secret: &[u8]) -> Option<Vec<u8>> {
        match DIALECT.key.key(secret) {
            Some(Key::Hmac(key)) => Some(key),
            _ => None,
        }
    }

    // openai-node tests/lib/webhooks.test.ts.
    const SECRET: &str = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=";
    const WEBHOOK_ID: &str = "wh_685c059ae39c8190af8c71ed1022a24d";
    const TS: i64 = 1_750_861_210;
    const BODY: &str = r#"{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}"#;
    const SIG: &str = "gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=";

    // openai-node tests/lib/webhook-signature.test.ts fixture defaults (now 1700000000).
    const RAW_SECRET: &str = "synthetic-webhook-secret";
    const NOW: i64 = 1_700_000_000;
    const PAYLOAD: &str =
        r#"{"id":"evt_test","type":"response.completed","data":{"id":"resp_test"}}"#;

    fn req(body: &str, id: &str, ts: &str, sig: &str) -> Request {
        Request::post(body)
            .with_header("webhook-id", id)
            .with_header("webhook-timestamp", ts)
            .with_header("webhook-signature", sig)
    }

    #[test]
    fn sdk_vector_verifies() {
        let ctx = VerifyContext::new(SECRET, TS);
        let signed = req(BODY, WEBHOOK_ID, "1750861210", &format!("v1,{SIG}"));
        assert_eq!(verify(&signed, &ctx), Ok(()));
        assert_eq!(
            sign(SECRET, WEBHOOK_ID, "1750861210", BODY.as_bytes()).unwrap(),
            format!("v1,{SIG}")
        );
        // Malformed entries before the right one do not stop it (the SDK's "continues past").
        let listed = req(
            BODY,
            WEBHOOK_ID,
            "1750861210",
            &format!("v1,not-valid-$$$ v1,{SIG}"),
        );
        assert_eq!(verify(&listed, &ctx), Ok(()));
        let only_bad = req(BODY, WEBHOOK_ID, "1750861210", "v1,not-valid-$$$");
        assert!(verify(&only_bad, &ctx).is_err());
    }

    #[test]
    fn a_secret_without_whsec_is_its_utf8_bytes_and_a_bare_signature_counts() {
        // createFixture() defaults: raw secret, `v1,` prefix; then the "raw secret and bare
        // signature" case. Recomputed with Python's hmac.
        let ctx = VerifyContext::new(RAW_SECRET, NOW);
        let sig = "20HE6ozbEjnJLbDl8jEEx6rIirs3mdoz5Xsu6zOfens=";
        assert_eq!(
            verify(
                &req(PAYLOAD, "wh_test", "1700000000", &format!("v1,{sig}")),
                &ctx
            ),
            Ok(())
        );
        assert_eq!(
            verify(&req(PAYLOAD, "wh_test", "1700000000", sig), &ctx),
            Ok(())
        );
        // Not base64-decoded, unlike the standardwebhooks library.
        assert_eq!(key(b"x"), Some(b"x".to_vec()));
        assert_eq!(key(b"whsec_eA=="), Some(b"x".to_vec()));
        assert_eq!(key(b"whsec_%%%"), None);
        assert_eq!(key(b""), None);
    }

    #[test]
    fn a_unicode_secret_and_payload() {
        // The SDK's "UTF-8 webhook secrets and payloads" case.
        let ctx = VerifyContext::new("sëcret-✓-🔑", TS);
        let signed = req(
            r#"{"city":"Zürich","key":"🔑"}"#,
            WEBHOOK_ID,
            "1750861210",
            "v1,I9mqLHO+vW5Z+K/QrGAiNxPMY1i0jDEnqmn6TZJn/Fk=",
        );
        assert_eq!(verify(&signed, &ctx), Ok(()));
    }

    #[test]
    fn the_timestamp_text_is_signed_and_its_numeric_prefix_checked() {
        let ctx = VerifyContext::new(RAW_SECRET, NOW);
        for (ts, sig) in [
            (
                "1700000000.75",
                "cZ1SXSliJ0IIE9gnq+s12D6qHdBbNJCI3lNRJMeKy7Y=",
            ),
            (
                "1700000000suffix",
                "EGiy+tZM5RAFnW9rzKo6E94BgSuSuDn686x4C68ulEQ=",
            ),
            (
                "+1700000000",
                "A/0VJmOU6o+nbCqzU6HezoJAOc+Z0r8BtFfxjAEIjCQ=",
            ),
        ] {
            assert_eq!(
                verify(&req(PAYLOAD, "wh_test", ts, &format!("v1,{sig}")), &ctx),
                Ok(()),
                "{ts}"
            );
        }
        // Signed over the text: the integer alone does not verify a signature of `….75`.
        let reformatted = req(
            PAYLOAD,
            "wh_test",
            "1700000000",
            "v1,cZ1SXSliJ0IIE9gnq+s12D6qHdBbNJCI3lNRJMeKy7Y=",
        );
        assert_eq!(
            verify(&reformatted, &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&req(PAYLOAD, "wh_test", "invalid", "v1,AAAA"), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn an_empty_webhook_id_signs_without_it() {
        let ctx = VerifyContext::new(RAW_SECRET, NOW);
        let signed = req(
            PAYLOAD,
            "",
            "1700000000",
            "v1,XmTBoTBoiguQzrZGonL794V5NPQHhV8EVaKeVG4lfMg=",
        );
        assert_eq!(verify(&signed, &ctx), Ok(()));
        let no_id = Request::post(PAYLOAD)
            .with_header("webhook-timestamp", "1700000000")
            .with_header(
                "webhook-signature",
                "v1,XmTBoTBoiguQzrZGonL794V5NPQHhV8EVaKeVG4lfMg=",
            );
        assert!(matches!(
            verify(&no_id, &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn tolerance_boundaries_as_in_the_sdk_tests() {
        let ctx = VerifyContext::new(RAW_SECRET, NOW);
        let at = |offset: i64| {
            let ts = (NOW + offset).to_string();
            let sig = sign(RAW_SECRET, "wh_test", &ts, PAYLOAD.as_bytes()).unwrap();
            verify(&req(PAYLOAD, "wh_test", &ts, &sig), &ctx)
        };
        assert_eq!(at(-300), Ok(()));
        assert_eq!(at(300), Ok(()));
        assert_eq!(
            at(-301),
            Err(VerifyError::TimestampOutsideTolerance(NOW - 301))
        );
        assert_eq!(
            at(301),
            Err(VerifyError::TimestampOutsideTolerance(NOW + 301))
        );
        let zero = VerifyContext {
            tolerance_secs: 0,
            ..ctx
        };
        let ts = NOW.to_string();
        let sig = sign(RAW_SECRET, "wh_test", &ts, PAYLOAD.as_bytes()).unwrap();
        assert_eq!(verify(&req(PAYLOAD, "wh_test", &ts, &sig), &zero), Ok(()));
    }
}
