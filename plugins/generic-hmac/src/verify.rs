//! Verification and signing by the source's [`Scheme`]: the MAC of the signed pattern (literal
//! text, the body, the timestamp header's value as received, the URL, the method) under any
//! configured secret; a signed timestamp must be within the source's tolerance either way.

use crate::settings::{Part, Scheme};
use hookgate_sdk::prelude::*;

/// Verifies a request under the scheme.
pub fn verify(
    scheme: &Scheme,
    request: &Request,
    context: &VerifyContext,
) -> Result<(), VerifyError> {
    let signatures = scheme.signature.signatures(request)?;
    let timestamp = match scheme.timestamp_header {
        Some(name) => {
            let text = request
                .header_str(name)?
                .filter(|t| !t.is_empty())
                .ok_or(VerifyError::MissingTimestamp)?;
            context.check_unix_secs(unix_secs(text).ok_or(VerifyError::MissingTimestamp)?)?;
            Some(text)
        }
        None => None,
    };
    let message = message(scheme, request, timestamp.unwrap_or(""));
    context.verify_any_secret(|secret| {
        signatures
            .iter()
            .any(|sig| hmac_verify(scheme.signature.hash, secret, &message, sig))
    })
}

/// Unix seconds, also when the sender writes milliseconds (13 digits).
fn unix_secs(text: &str) -> Option<i64> {
    let n = parse_unix_secs(text)?;
    Some(if n > 100_000_000_000 { n / 1000 } else { n })
}

/// The signed message's parts, in pattern order.
fn message<'r>(scheme: &'r Scheme, request: &'r Request, timestamp: &'r str) -> Vec<&'r [u8]> {
    scheme
        .signed
        .iter()
        .map(|part| match part {
            Part::Literal(text) => text.as_bytes(),
            Part::Body => &request.body,
            Part::Timestamp => timestamp.as_bytes(),
            Part::Url => request.url.as_bytes(),
            Part::Method => request.method.as_bytes(),
        })
        .collect()
}

/// The headers `hookgate send` adds: the timestamp (now) when one is signed, a fresh delivery
/// id when the id comes from a header the operator did not give, and the signature.
pub fn signed_headers(
    scheme: &Scheme,
    request: &Request,
    context: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    let mut headers = Vec::new();
    let timestamp = context.now_unix_secs.to_string();
    if let Some(name) = scheme.timestamp_header {
        headers.push((name.to_ascii_lowercase(), timestamp.clone()));
    }
    if let crate::settings::IdFrom::Header(name) = scheme.id
        && request.header_text(name).is_none()
    {
        headers.push((name.to_ascii_lowercase(), context.nonce.clone()));
    }
    let message = message(scheme, request, &timestamp);
    headers.push(scheme.signature.signed(&context.secret, &message));
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{NOW, SECRET, acme};
    use serde_json::json;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;

    fn context(settings: &Settings) -> VerifyContext {
        VerifyContext::new(SECRET, NOW).with_settings(settings.clone())
    }

    #[test]
    fn the_contract_example_verifies_a_hand_made_signature() {
        let settings = acme();
        let scheme = Scheme::parse(&settings).unwrap();
        // HMAC-SHA256(secret, "1700000000.<body>"), computed independently of `sign`.
        let mac = hmac(Hash::Sha256, SECRET, &[format!("{NOW}.").as_bytes(), BODY]);
        let request = Request::post(BODY)
            .with_header("X-Acme-Timestamp", NOW.to_string())
            .with_header("X-Acme-Signature", format!("sha256={}", hex_encode(&mac)));
        assert_eq!(verify(&scheme, &request, &context(&settings)), Ok(()));
        // The timestamp is signed: another one breaks the signature.
        let moved = Request::post(BODY)
            .with_header("X-Acme-Timestamp", (NOW + 1).to_string())
            .with_header("X-Acme-Signature", format!("sha256={}", hex_encode(&mac)));
        assert_eq!(
            verify(&scheme, &moved, &context(&settings)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn stale_future_and_missing_timestamps_are_refused() {
        let settings = acme();
        let scheme = Scheme::parse(&settings).unwrap();
        let at = |ts: Option<i64>| {
            let ts_text = ts.map(|t| t.to_string()).unwrap_or_default();
            let mac = hmac(
                Hash::Sha256,
                SECRET,
                &[format!("{ts_text}.").as_bytes(), BODY],
            );
            let mut request = Request::post(BODY)
                .with_header("X-Acme-Signature", format!("sha256={}", hex_encode(&mac)));
            if ts.is_some() {
                request = request.with_header("X-Acme-Timestamp", ts_text);
            }
            verify(&scheme, &request, &context(&settings))
        };
        assert_eq!(at(Some(NOW - 299)), Ok(()));
        assert_eq!(
            at(Some(NOW - 301)),
            Err(VerifyError::TimestampOutsideTolerance(NOW - 301))
        );
        assert_eq!(
            at(Some(NOW + 301)),
            Err(VerifyError::TimestampOutsideTolerance(NOW + 301))
        );
        assert_eq!(at(None), Err(VerifyError::MissingTimestamp));
        // Milliseconds are read as such.
        assert_eq!(at(Some(NOW * 1000 + 5)), Ok(()));
    }

    #[test]
    fn base64_sha1_over_url_and_body_like_trello() {
        let settings = Settings::from_json(json!({
            "header": "X-Sig", "algorithm": "sha1", "encoding": "base64", "signed": "{body}{url}",
        }));
        let scheme = Scheme::parse(&settings).unwrap();
        let request = Request::post(BODY);
        let mac = hmac(Hash::Sha1, SECRET, &[BODY, request.url.as_bytes()]);
        let signed = request.clone().with_header("X-Sig", base64_encode(&mac));
        assert_eq!(verify(&scheme, &signed, &context(&settings)), Ok(()));
        let elsewhere = Request {
            url: "https://other.example/hook".into(),
            ..signed
        };
        assert_eq!(
            verify(&scheme, &elsewhere, &context(&settings)),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn several_signatures_in_the_header_any_may_match() {
        let settings = Settings::from_json(json!({ "header": "X-Sig", "prefix": "v1=" }));
        let scheme = Scheme::parse(&settings).unwrap();
        let good = hex_encode(&hmac(Hash::Sha256, SECRET, &[BODY]));
        let old = hex_encode(&hmac(Hash::Sha256, b"retired", &[BODY]));
        let request = Request::post(BODY).with_header("X-Sig", format!("v1={old},v1={good}"));
        assert_eq!(verify(&scheme, &request, &context(&settings)), Ok(()));
    }
}
