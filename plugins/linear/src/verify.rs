//! `Linear-Signature` verification, as Linear's SDK does it (`LinearWebhookClient.verify`): the
//! hex HMAC-SHA256 of the raw body under the webhook's signing secret, then the body's
//! `webhookTimestamp` (Unix milliseconds, inside the signed body) within a minute of now,
//! either way.
//!
//! The window is the SDK's 60 s, or the source's `tolerance_secs` when that is shorter: Linear
//! stamps each delivery attempt when it sends it, so nothing genuine is older, and a wider
//! source tolerance does not widen Linear's own bound. A body without `webhookTimestamp` is
//! refused, although the SDK then checks the signature alone: Linear always sends it, and
//! without it a captured request could be replayed forever.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The signature header and scheme.
pub const SCHEME: HmacHeader<'static> = HmacHeader::hex("linear-signature", Hash::Sha256);
/// The signed timestamp's field in the body.
pub const TIMESTAMP_FIELD: &str = "webhookTimestamp";
/// Linear's delivery id header (not signed).
pub const DELIVERY: &str = "linear-delivery";
/// The SDK's bound on the distance between `webhookTimestamp` and now.
pub const MAX_SKEW_SECS: u64 = 60;

/// Verifies a Linear webhook: the signature first, as the SDK does, then the timestamp.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SCHEME.verify(req, ctx, &[&req.body])?;
    let ms = webhook_timestamp_ms(&req.body).ok_or(VerifyError::MissingTimestamp)?;
    let window_ms = i128::from(ctx.tolerance_secs.min(MAX_SKEW_SECS)) * 1000;
    let now_ms = i128::from(ctx.now_unix_secs) * 1000;
    if (now_ms - i128::from(ms)).abs() > window_ms {
        return Err(VerifyError::TimestampOutsideTolerance(ms.div_euclid(1000)));
    }
    Ok(())
}

/// The body's `webhookTimestamp` in milliseconds (a JSON number; GraphQL types it `Float`).
pub fn webhook_timestamp_ms(body: &[u8]) -> Option<i64> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let value = &body[TIMESTAMP_FIELD];
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e15)
            // Milliseconds to the millisecond: a fraction below one is dropped.
            .map(|f| f.trunc() as i64)
    })
}

/// The body to send instead of the operator's: the same bytes with `webhookTimestamp` set to
/// `now` (inserted first when absent), so that it passes the window. Only that value changes.
pub fn sign_body(req: &Request, ctx: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
    let stamp = (i128::from(ctx.now_unix_secs) * 1000).to_string();
    hookgate_sdk::json::set_member(&req.body, TIMESTAMP_FIELD, stamp.as_bytes())
        .map(Some)
        .ok_or_else(|| SignError::invalid("a Linear webhook body is a JSON object"))
}

/// The headers `hookgate send` adds: the signature over the (re-stamped) body, and a fresh
/// `Linear-Delivery` (the event id) unless the operator gave one.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = vec![SCHEME.signed(ctx.secret_str()?.as_bytes(), &[&req.body])];
    if req.header_text(DELIVERY).is_none() {
        headers.push((DELIVERY.into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The body of Linear's SDK test (`LinearWebhooks.test.ts`) as `JSON.stringify` writes it,
    // secret "SECRET"; the signature computed independently with Python's hmac.
    const SECRET: &str = "SECRET";
    const BODY: &str = r#"{"action":"create","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","createdAt":"2020-01-23T12:53:18.084Z","updatedAt":"2020-01-23T12:53:18.084Z","archivedAt":null,"body":"Indeed, I think this is definitely an improvement over the previous version.","edited":false,"issueId":"539068e2-ae88-4d09-bd75-22eb4a59612f","userId":"aacdca22-6266-4c0a-ab3c-8fa70a26765c"},"type":"Comment","url":"https://linear.app/issue/LIN-1778/foo-bar#comment-77217de3-fb52-4dad-bb9a-b356beb93de8","createdAt":"2020-01-23T12:53:18.084Z","webhookTimestamp":1677611643000}"#;
    const SIG: &str = "8790fcbbea809950be9198408593c2a13f7591bba6c61adb589f709b5e1b186a";
    const TS: i64 = 1_677_611_643;

    fn req(body: &str, sig: &str) -> Request {
        Request::post(body).with_header("Linear-Signature", sig)
    }

    #[test]
    fn sdk_test_body_verifies_within_a_minute() {
        assert_eq!(SCHEME.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new(SECRET, TS)),
            Ok(())
        );
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new(SECRET, TS + 60)),
            Ok(())
        );
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new(SECRET, TS - 60)),
            Ok(())
        );
        // The SDK test's point: a correct signature with a stale timestamp fails.
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new(SECRET, TS + 61)),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new(SECRET, TS - 61)),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(
            verify(&req(BODY, SIG), &VerifyContext::new("WRONG_SECRET", TS)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn a_shorter_tolerance_narrows_the_window() {
        let ctx = VerifyContext {
            tolerance_secs: 10,
            ..VerifyContext::new(SECRET, TS + 11)
        };
        assert_eq!(
            verify(&req(BODY, SIG), &ctx),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
    }

    #[test]
    fn a_body_without_timestamp_is_refused() {
        let body = r#"{"action":"create","type":"Issue","data":{"id":"i1"}}"#;
        let sig = SCHEME.sign(SECRET.as_bytes(), &[body.as_bytes()]);
        assert_eq!(
            verify(&req(body, &sig), &VerifyContext::new(SECRET, TS)),
            Err(VerifyError::MissingTimestamp)
        );
        let float = r#"{"webhookTimestamp":1677611643000.0}"#;
        assert_eq!(
            webhook_timestamp_ms(float.as_bytes()),
            Some(1_677_611_643_000)
        );
        assert_eq!(
            webhook_timestamp_ms(br#"{"webhookTimestamp":"soon"}"#),
            None
        );
        assert_eq!(webhook_timestamp_ms(b"[1]"), None);
    }

    #[test]
    fn sign_body_restamps_only_the_timestamp() {
        let ctx = SignContext {
            secret: SECRET.into(),
            now_unix_secs: 1_700_000_000,
            nonce: "n".into(),
            settings: Settings::none(),
        };
        let restamp = |body: &str| {
            String::from_utf8(sign_body(&Request::post(body), &ctx).unwrap().unwrap()).unwrap()
        };
        assert_eq!(
            restamp(BODY),
            BODY.replace("1677611643000", "1700000000000")
        );
        assert_eq!(
            restamp(" { \"type\" : \"Issue\" , \"data\":{\"webhookTimestamp\":1} }\n"),
            " {\"webhookTimestamp\":1700000000000, \"type\" : \"Issue\" , \"data\":{\"webhookTimestamp\":1} }\n"
        );
        assert_eq!(restamp("{}"), r#"{"webhookTimestamp":1700000000000}"#);
        assert_eq!(
            restamp(r#"{"a":"x\"webhookTimestamp\":1","webhookTimestamp":5}"#),
            r#"{"a":"x\"webhookTimestamp\":1","webhookTimestamp":1700000000000}"#
        );
        for bad in ["[]", "{", r#"{"a":1} x"#, "not json"] {
            assert!(sign_body(&Request::post(bad), &ctx).is_err(), "{bad}");
        }
    }
}
