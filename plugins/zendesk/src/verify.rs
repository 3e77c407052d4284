//! `X-Zendesk-Webhook-Signature` verification: `base64(HMAC-SHA256(secret, timestamp + body))`,
//! the timestamp being the `X-Zendesk-Webhook-Signature-Timestamp` header exactly as sent (an
//! ISO 8601 UTC time such as `2024-03-05T12:00:00Z`), with no separator. A request without a
//! body is signed over the timestamp alone, which the same code covers.

use hookgate_sdk::prelude::*;

/// The header Zendesk signs with.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::base64("x-zendesk-webhook-signature", Hash::Sha256);

/// The signed timestamp's header.
pub const TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";

/// The id of one invocation of a webhook (the event id of trigger webhooks).
pub const INVOCATION_ID: &str = "x-zendesk-webhook-invocation-id";

/// The secret Zendesk signs test sends with before a webhook exists. It is published, so a
/// signature under it proves nothing: it never verifies here.
pub const PUBLIC_TEST_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

/// Verifies a Zendesk webhook.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = SIGNATURE.signatures(req)?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    // Zendesk states no window and no libraries of its own: both directions are checked.
    ctx.check_unix_secs(parse_rfc3339(timestamp).ok_or(VerifyError::MissingTimestamp)?)?;
    let message: [&[u8]; 2] = [timestamp.as_bytes(), &req.body];
    ctx.verify_any_secret(|secret| {
        if is_public_test_secret(secret) {
            log::warn("a zendesk source is configured with Zendesk's public test secret; it is never accepted");
            return false;
        }
        signatures
            .iter()
            .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
    })
}

fn is_public_test_secret(secret: &[u8]) -> bool {
    secret.trim_ascii() == PUBLIC_TEST_SECRET.as_bytes()
}

/// The headers `hookgate send` adds: the timestamp (now, as Zendesk writes it), its signature,
/// and an invocation id unless the operator gave one.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let secret = ctx.secret_str()?;
    if is_public_test_secret(secret.as_bytes()) {
        return Err(SignError::invalid(
            "that is Zendesk's public test secret, which verification never accepts",
        ));
    }
    let timestamp = rfc3339_from_unix(ctx.now_unix_secs);
    let mut headers = vec![
        (TIMESTAMP.to_owned(), timestamp.clone()),
        SIGNATURE.signed(secret.as_bytes(), &[timestamp.as_bytes(), &req.body]),
    ];
    if req.header_text(INVOCATION_ID).is_none() {
        headers.push((INVOCATION_ID.into(), ctx.nonce.clone()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "zendesk-signing-secret";
    const TS: &str = "2024-03-05T12:00:00Z";
    const TS_UNIX: i64 = 1_709_640_000;
    const BODY: &str =
        r#"{"id":"cbe4028c-7239-495d-b020-f22348516046","type":"zen:event-type:ticket.created"}"#;

    fn req(ts: &str, sig: &str, body: &str) -> Request {
        Request::post(body)
            .with_header("X-Zendesk-Webhook-Signature-Timestamp", ts)
            .with_header("X-Zendesk-Webhook-Signature", sig)
    }

    /// Zendesk publishes no vector with its secret and body; computed independently with
    /// Python: `base64(hmac.new(SECRET, TS + BODY, sha256).digest())`.
    #[test]
    fn known_signature() {
        let expected = "OP3uUahLhKZ1S/1MFpeW5IWZI0oKY+QofmgLGjgDC5k=";
        assert_eq!(
            SIGNATURE.sign(SECRET.as_bytes(), &[TS.as_bytes(), BODY.as_bytes()]),
            expected
        );
        let ctx = VerifyContext::new(SECRET, TS_UNIX + 5);
        assert_eq!(verify(&req(TS, expected, BODY), &ctx), Ok(()));
        // A request without a body is signed over the timestamp alone.
        let empty = SIGNATURE.sign(SECRET.as_bytes(), &[TS.as_bytes()]);
        assert_eq!(verify(&req(TS, &empty, ""), &ctx), Ok(()));
    }

    #[test]
    fn timestamps_are_checked_both_ways_and_signed() {
        let sign = |ts: &str| SIGNATURE.sign(SECRET.as_bytes(), &[ts.as_bytes(), BODY.as_bytes()]);
        let at = |now: i64| VerifyContext::new(SECRET, now);
        assert_eq!(
            verify(&req(TS, &sign(TS), BODY), &at(TS_UNIX + 300)),
            Ok(())
        );
        assert_eq!(
            verify(&req(TS, &sign(TS), BODY), &at(TS_UNIX - 300)),
            Ok(())
        );
        assert_eq!(
            verify(&req(TS, &sign(TS), BODY), &at(TS_UNIX + 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS_UNIX))
        );
        assert_eq!(
            verify(&req(TS, &sign(TS), BODY), &at(TS_UNIX - 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS_UNIX))
        );
        // The same instant written otherwise is another signed message.
        let other = "2024-03-05T12:00:00.000Z";
        assert_eq!(
            verify(&req(other, &sign(TS), BODY), &at(TS_UNIX)),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&req("yesterday", &sign(TS), BODY), &at(TS_UNIX)),
            Err(VerifyError::MissingTimestamp)
        );
        let unstamped = Request::post(BODY).with_header("X-Zendesk-Webhook-Signature", sign(TS));
        assert_eq!(
            verify(&unstamped, &at(TS_UNIX)),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn the_secret_is_used_as_text_and_the_public_test_secret_never_verifies() {
        let ctx = VerifyContext::new(SECRET, TS_UNIX);
        let decoded_key = base64_encode(&hmac(
            Hash::Sha256,
            &base64_decode(PUBLIC_TEST_SECRET).unwrap(),
            &[TS.as_bytes(), BODY.as_bytes()],
        ));
        let test_ctx = VerifyContext::new(PUBLIC_TEST_SECRET, TS_UNIX);
        let as_text = SIGNATURE.sign(
            PUBLIC_TEST_SECRET.as_bytes(),
            &[TS.as_bytes(), BODY.as_bytes()],
        );
        for sig in [as_text, decoded_key] {
            assert_eq!(
                verify(&req(TS, &sig, BODY), &test_ctx),
                Err(VerifyError::SignatureMismatch)
            );
        }
        let rotating = VerifyContext {
            secrets: vec![b"new".to_vec(), SECRET.into()],
            ..ctx
        };
        let good = SIGNATURE.sign(SECRET.as_bytes(), &[TS.as_bytes(), BODY.as_bytes()]);
        assert_eq!(verify(&req(TS, &good, BODY), &rotating), Ok(()));
    }

    #[test]
    fn iso_timestamps_parse_strictly() {
        assert_eq!(parse_rfc3339(TS), Some(TS_UNIX));
        assert_eq!(parse_rfc3339("2024-03-05T12:00:00.012Z"), Some(TS_UNIX));
        assert_eq!(parse_rfc3339("2024-03-05T13:30:00+01:30"), Some(TS_UNIX));
        assert_eq!(parse_rfc3339("2024-03-05T11:00:00-01:00"), Some(TS_UNIX));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "1709640000",
            "2024-03-05 12:00:00Z",
            "2024-03-05T12:00:00",
            "2024-02-30T12:00:00Z",
            "2024-13-05T12:00:00Z",
            "2024-03-05T24:00:00Z",
            "2024-03-05T12:00:00.Z",
            "2024-03-05T12:00:00+0100",
            "+024-03-05T12:00:00Z",
            "2024-03-05T12:00:00Zjunk",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }
}
