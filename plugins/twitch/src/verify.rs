//! EventSub message verification: `sha256=<hex HMAC-SHA256 of id ‖ timestamp ‖ body>`, with the
//! timestamp checked against the source's tolerance.

use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::hex("twitch-eventsub-message-signature", Hash::Sha256).prefixed("sha256=");
/// The message id header: signed, and the event id.
pub const MESSAGE_ID: &str = "twitch-eventsub-message-id";
/// The signed send time, RFC 3339 with up to nanoseconds.
pub const TIMESTAMP: &str = "twitch-eventsub-message-timestamp";
/// `notification`, `webhook_callback_verification` or `revocation` (not signed).
pub const MESSAGE_TYPE: &str = "twitch-eventsub-message-type";

/// Verifies an EventSub message under any configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signatures = SIGNATURE.signatures(req)?;
    let id = req
        .header_str(MESSAGE_ID)?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| VerifyError::malformed("Twitch-Eventsub-Message-Id is missing"))?;
    let timestamp = req
        .header_str(TIMESTAMP)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_unix_secs(parse_rfc3339(timestamp).ok_or(VerifyError::MissingTimestamp)?)?;
    let canonical = go_rfc3339_nano(timestamp);
    ctx.verify_any_secret(|secret| {
        let signs = |ts: &str| {
            let message: [&[u8]; 3] = [id.as_bytes(), ts.as_bytes(), &req.body];
            signatures
                .iter()
                .any(|sig| hmac_verify(Hash::Sha256, secret, &message, sig))
        };
        // As the header reads (what Twitch documents), else as Twitch's own CLI signs it.
        signs(timestamp) || canonical.as_deref().is_some_and(signs)
    })
}

/// The timestamp as Go's `time.RFC3339Nano` writes it after parsing, when that differs from
/// the header: Twitch's CLI (`twitch event trigger`, its reference signer) signs this form while
/// sending the original, so a hand-given `--timestamp` such as `…12.500Z` is signed as
/// `…12.5Z`. Trailing zeros of the fraction go (the point too when nothing is left), at most
/// nine digits stay, and a zero offset is written `Z`.
fn go_rfc3339_nano(timestamp: &str) -> Option<String> {
    let (seconds, rest) = (timestamp.get(..19)?, timestamp.get(19..)?);
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after) => {
            let end = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            (after.get(..end)?, after.get(end..)?)
        }
        None => ("", rest),
    };
    let fraction = fraction.get(..fraction.len().min(9))?.trim_end_matches('0');
    let zone = match zone {
        "z" | "+00:00" | "-00:00" => "Z",
        other => other,
    };
    let canonical = if fraction.is_empty() {
        format!("{seconds}{zone}")
    } else {
        format!("{seconds}.{fraction}{zone}")
    };
    (canonical != timestamp).then_some(canonical)
}

/// The headers `hookgate send` adds: a message id and the timestamp (now) unless the operator
/// gave them, the signature over both and the body, and the message type (from the body's
/// shape) unless given, since Twitch always names it.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = Vec::new();
    let id = match req.header_text(MESSAGE_ID) {
        Some(id) => id.to_owned(),
        None => {
            headers.push((MESSAGE_ID.to_owned(), ctx.nonce.clone()));
            ctx.nonce.clone()
        }
    };
    let timestamp = match req.header_text(TIMESTAMP) {
        Some(ts) => ts.to_owned(),
        None => {
            let now = rfc3339_from_unix(ctx.now_unix_secs);
            headers.push((TIMESTAMP.to_owned(), now.clone()));
            now
        }
    };
    if req.header_text(MESSAGE_TYPE).is_none() {
        let body: serde_json::Value = serde_json::from_slice(&req.body)
            .map_err(|e| SignError::invalid(format!("the body is not JSON: {e}")))?;
        headers.push((
            MESSAGE_TYPE.to_owned(),
            crate::normalize::inferred_message_type(&body).to_owned(),
        ));
    }
    headers.push(SIGNATURE.signed(
        &ctx.secret,
        &[id.as_bytes(), timestamp.as_bytes(), &req.body],
    ));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twitch publishes no signed example; this one was computed independently with
    // `printf '%s' 'e76c6bd4-55c9-4987-8304-da1588d8988b2019-11-16T10:11:12.634234626Z{"challenge":"abc"}'
    //  | openssl dgst -sha256 -hmac keepItSecretKeepItSafe` (the docs' example secret, id and
    // timestamp).
    const SECRET: &str = "keepItSecretKeepItSafe";
    const ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";
    const TS: &str = "2019-11-16T10:11:12.634234626Z";
    const TS_SECS: i64 = 1_573_899_072;
    const BODY: &str = r#"{"challenge":"abc"}"#;
    const SIG: &str = "sha256=b6eb794dbd3a0e1fedfa3a46d015e832646a064e0a6cf010bb262793aacab8e0";

    fn req(id: &str, ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("Twitch-Eventsub-Message-Id", id)
            .with_header("Twitch-Eventsub-Message-Timestamp", ts)
            .with_header("Twitch-Eventsub-Message-Signature", sig)
    }

    fn at(now: i64) -> VerifyContext {
        VerifyContext::new(SECRET, now)
    }

    #[test]
    fn an_independently_computed_signature_verifies() {
        assert_eq!(
            SIGNATURE.sign(
                SECRET.as_bytes(),
                &[ID.as_bytes(), TS.as_bytes(), BODY.as_bytes()]
            ),
            SIG
        );
        assert_eq!(verify(&req(ID, TS, SIG), &at(TS_SECS + 10)), Ok(()));
    }

    #[test]
    fn the_id_and_the_timestamp_are_signed() {
        let ctx = at(TS_SECS);
        assert_eq!(
            verify(&req("e76c6bd4-55c9-4987-8304-da1588d8988c", TS, SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&req(ID, "2019-11-16T10:11:13.634234626Z", SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        let no_id = Request::post(BODY)
            .with_header(TIMESTAMP, TS)
            .with_header(SIGNATURE.header, SIG);
        assert!(matches!(
            verify(&no_id, &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
        let no_ts = Request::post(BODY)
            .with_header(MESSAGE_ID, ID)
            .with_header(SIGNATURE.header, SIG);
        assert_eq!(verify(&no_ts, &ctx), Err(VerifyError::MissingTimestamp));
        assert_eq!(
            verify(&req(ID, "1573899072", SIG), &ctx),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn the_tolerance_is_the_sources_both_ways() {
        let r = req(ID, TS, SIG);
        assert_eq!(verify(&r, &at(TS_SECS + 300)), Ok(()));
        assert_eq!(verify(&r, &at(TS_SECS - 300)), Ok(()));
        assert_eq!(
            verify(&r, &at(TS_SECS + 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS_SECS))
        );
        assert_eq!(
            verify(&r, &at(TS_SECS - 301)),
            Err(VerifyError::TimestampOutsideTolerance(TS_SECS))
        );
        // Twitch's ten minutes, when the source sets them.
        let ten_minutes = VerifyContext {
            tolerance_secs: 600,
            ..at(TS_SECS + 600)
        };
        assert_eq!(verify(&r, &ten_minutes), Ok(()));
    }

    #[test]
    fn a_timestamp_signed_the_way_twitchs_cli_signs_it_verifies() {
        let sent = "2019-11-16T10:11:12.500Z";
        let signed_as = "2019-11-16T10:11:12.5Z";
        let sig = SIGNATURE.sign(
            SECRET.as_bytes(),
            &[ID.as_bytes(), signed_as.as_bytes(), BODY.as_bytes()],
        );
        assert_eq!(verify(&req(ID, sent, &sig), &at(TS_SECS)), Ok(()));
        assert_eq!(go_rfc3339_nano(sent).as_deref(), Some(signed_as));
        assert_eq!(
            go_rfc3339_nano("2019-11-16T10:11:12.000000000+00:00").as_deref(),
            Some("2019-11-16T10:11:12Z")
        );
        assert_eq!(
            go_rfc3339_nano("2019-11-16T10:11:12.1234567891Z").as_deref(),
            Some("2019-11-16T10:11:12.123456789Z")
        );
        assert_eq!(go_rfc3339_nano(TS), None);
        assert_eq!(go_rfc3339_nano("2019-11-16T12:11:12+02:00"), None);
    }

    #[test]
    fn malformed_signatures() {
        let ctx = at(TS_SECS);
        for bad in [
            "sha1=abcd",
            "b6eb794dbd3a0e1fedfa3a46d015e832646a064e0a6cf010bb262793aacab8e0",
            "sha256=xyz",
        ] {
            assert!(
                matches!(
                    verify(&req(ID, TS, bad), &ctx),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc3339_with_nanoseconds() {
        assert_eq!(parse_rfc3339(TS), Some(TS_SECS));
        assert_eq!(parse_rfc3339("2019-11-16T11:11:12+01:00"), Some(TS_SECS));
        assert_eq!(parse_rfc3339("2019-11-16T10:11:12"), None);
        assert_eq!(parse_rfc3339("2019-11-16 10:11:12Z"), None);
    }
}
