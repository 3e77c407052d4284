//! Mailgun webhook verification, as Mailgun's SDKs do it (mailgun-go
//! `VerifyWebhookSignature`, mailgun-php `Webhook::verifyWebhookSignature`): the JSON body's
//! `signature` object holds `timestamp`, `token` and `signature`, the hex HMAC-SHA256 of
//! `timestamp` followed by `token` under the account's HTTP webhook signing key. For a
//! subaccount's domain Mailgun adds `parent-signature`, the same under the primary account's
//! key; either may match a configured key.
//!
//! **Only the timestamp and the token are signed, not `event-data`.** A request is genuine in
//! that Mailgun made its signature, but someone holding one genuine signature object could
//! pair it with other event data within the replay window. Mailgun's SDKs check no time;
//! here a timestamp older than the source's tolerance is refused (Mailgun's docs recommend a
//! freshness check), and one in the future is accepted, as the SDKs accept it.
//!
//! Legacy webhooks and Routes forwards (form posts) are not verified by this plugin.

use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The member of the body that carries the signature.
pub const SIGNATURE: &str = "signature";

/// The signed parts of a body's `signature` object.
#[derive(Debug, PartialEq, Eq)]
struct Signed {
    timestamp: String,
    token: String,
    /// `signature` and `parent-signature`, decoded.
    macs: Vec<Vec<u8>>,
}

fn signed(body: &[u8]) -> Result<Signed, VerifyError> {
    let body: Value = serde_json::from_slice(body).map_err(|_| {
        VerifyError::malformed("Mailgun signs inside a JSON body; this is not JSON")
    })?;
    let object = &body[SIGNATURE];
    if !object.is_object() {
        return Err(VerifyError::MissingSignature);
    }
    // A string on the wire (the docs' table says int, so a number is read too).
    let timestamp = match &object["timestamp"] {
        Value::String(text) if !text.is_empty() => text.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(VerifyError::MissingTimestamp),
    };
    let token = object["token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| VerifyError::malformed("signature.token is missing"))?
        .to_owned();
    let present: Vec<&str> = ["signature", "parent-signature"]
        .iter()
        .filter_map(|key| object[*key].as_str())
        .filter(|mac| !mac.is_empty())
        .collect();
    if present.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let macs: Vec<Vec<u8>> = present.iter().filter_map(|m| hex_decode(m).ok()).collect();
    if macs.is_empty() {
        return Err(VerifyError::malformed("signature.signature is not hex"));
    }
    Ok(Signed {
        timestamp,
        token,
        macs,
    })
}

/// Verifies a Mailgun webhook under any configured signing key.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signed = signed(&req.body)?;
    let ts = parse_unix_secs(&signed.timestamp).ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_not_stale(ts)?;
    let message: [&[u8]; 2] = [signed.timestamp.as_bytes(), signed.token.as_bytes()];
    ctx.verify_any_secret(|secret| {
        signed
            .macs
            .iter()
            .any(|mac| hmac_verify(Hash::Sha256, secret, &message, mac))
    })
}

/// The hex signature of `timestamp` + `token` under `key`.
pub fn sign(key: &[u8], timestamp: &str, token: &str) -> String {
    hex_encode(&hmac(
        Hash::Sha256,
        key,
        &[timestamp.as_bytes(), token.as_bytes()],
    ))
}

/// The body `hookgate send` posts: the operator's, with a fresh `signature` object (timestamp
/// now, the nonce as token) in place of any it had, or first when it had none. Nothing else
/// changes.
pub fn sign_body(req: &Request, ctx: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
    let timestamp = ctx.now_unix_secs.to_string();
    let token = ctx.nonce.as_str();
    // Written by hand to keep Mailgun's member order; the token is quoted as JSON.
    let object = format!(
        r#"{{"token":{},"timestamp":"{timestamp}","signature":"{}"}}"#,
        Value::String(token.to_owned()),
        sign(ctx.secret_str()?.as_bytes(), &timestamp, token),
    );
    hookgate_sdk::json::set_member(&req.body, SIGNATURE, object.as_bytes())
        .map(Some)
        .ok_or_else(|| {
            SignError::invalid("a Mailgun webhook body is a JSON object with event-data")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    // mailgun-php `tests/Api/WebhookTest.php`: signing key, timestamp, token and signature.
    const KEY: &str = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    const TS: i64 = 1_403_645_220;
    const TOKEN: &str = "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6";
    const SIG: &str = "9cfc5c41582e51246e73c88d34db3af0a3a2692a76fbab81492842f000256d33";

    fn body(signature: &str) -> String {
        format!(
            r#"{{"signature":{{"timestamp":"{TS}","token":"{TOKEN}",{signature}}},"event-data":{{"event":"delivered","id":"CCXMjJ7nQi2N3BPigGOdgQ"}}}}"#
        )
    }

    fn check(body: &str, now: i64) -> Result<(), VerifyError> {
        verify(&Request::post(body), &VerifyContext::new(KEY, now))
    }

    #[test]
    fn published_example_verifies() {
        assert_eq!(sign(KEY.as_bytes(), "1403645220", TOKEN), SIG);
        assert_eq!(check(&body(&format!(r#""signature":"{SIG}""#)), TS), Ok(()));
        // The SDK's "bad" case: another token, the same signature.
        let other = body(&format!(r#""signature":"{SIG}""#))
            .replace(TOKEN, "owyldpe6nxhmrn78epljl6bj0orrki1u3d2v5e6cnlmmuox8jr");
        assert_eq!(check(&other, TS), Err(VerifyError::SignatureMismatch));
        // A numeric timestamp is the same text.
        let numeric = body(&format!(r#""signature":"{SIG}""#))
            .replace(&format!(r#""{TS}""#), &TS.to_string());
        assert_eq!(check(&numeric, TS), Ok(()));
    }

    #[test]
    fn a_parent_signature_may_match_instead() {
        let parent = body(&format!(
            r#""signature":"{}","parent-signature":"{SIG}""#,
            "0".repeat(64)
        ));
        assert_eq!(check(&parent, TS), Ok(()));
    }

    #[test]
    fn event_data_is_not_signed() {
        // Mailgun's scheme covers only timestamp and token: other event data with the same
        // signature object still verifies. Duplicate detection (on event-data.id) and the
        // replay window are all that stand against this; the crate doc says so.
        let genuine = body(&format!(r#""signature":"{SIG}""#));
        let altered = genuine.replace("delivered", "failed");
        assert_eq!(check(&altered, TS), Ok(()));
    }

    #[test]
    fn stale_is_refused_future_is_accepted() {
        let genuine = body(&format!(r#""signature":"{SIG}""#));
        assert_eq!(check(&genuine, TS + 300), Ok(()));
        assert_eq!(
            check(&genuine, TS + 301),
            Err(VerifyError::TimestampOutsideTolerance(TS))
        );
        assert_eq!(check(&genuine, TS - 3600), Ok(()));
    }

    #[test]
    fn missing_and_malformed_signatures() {
        assert_eq!(
            check(r#"{"event-data":{"id":"x"}}"#, TS),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            check(&body(r#""signature":"""#), TS),
            Err(VerifyError::MissingSignature)
        );
        assert!(matches!(
            check(&body(r#""signature":"zz""#), TS),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            check("timestamp=1&token=t&signature=00", TS),
            Err(VerifyError::MalformedSignature(_))
        ));
        let no_ts =
            body(&format!(r#""signature":"{SIG}""#)).replace(r#""timestamp":"1403645220","#, "");
        assert_eq!(check(&no_ts, TS), Err(VerifyError::MissingTimestamp));
    }

    #[test]
    fn sign_body_replaces_or_adds_the_signature_object_only() {
        let ctx = SignContext {
            secret: KEY.into(),
            now_unix_secs: TS,
            nonce: TOKEN.into(),
            settings: Settings::none(),
        };
        let fresh = format!(r#"{{"token":"{TOKEN}","timestamp":"{TS}","signature":"{SIG}"}}"#);
        let signed = |body: &str| {
            String::from_utf8(sign_body(&Request::post(body), &ctx).unwrap().unwrap()).unwrap()
        };
        assert_eq!(
            signed(r#"{"event-data": {"id":"e1"}}"#),
            format!(r#"{{"signature":{fresh},"event-data": {{"id":"e1"}}}}"#)
        );
        assert_eq!(
            signed(r#"{"signature":{"token":"old"}, "event-data":{}}"#),
            format!(r#"{{"signature":{fresh}, "event-data":{{}}}}"#)
        );
        assert_eq!(signed("{}"), format!(r#"{{"signature":{fresh}}}"#));
        assert!(sign_body(&Request::post("a=1"), &ctx).is_err());
    }
}
