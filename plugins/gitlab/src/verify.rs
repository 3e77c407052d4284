//! GitLab hook authentication: the secret token in `X-Gitlab-Token`, or, with a `whsec_`
//! signing token, the Standard Webhooks signature GitLab adds (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`).

use hookgate_sdk::prelude::*;
use hookgate_sdk::standard_webhooks::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, signing_key};

/// The secret token header (the token itself, not a signature).
pub const TOKEN: &str = "x-gitlab-token";
/// The per-event id GitLab reuses on retries (`webhook-id` repeats it when signing).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The header naming the hook (`Push Hook`, `Merge Request Hook`, `System Hook`, …).
pub const EVENT: &str = "x-gitlab-event";

/// A configured secret: a `whsec_` signing token (its key; empty when it is not base64, which
/// then verifies nothing), or a secret token (line breaks removed, as GitLab sends it).
enum Secret {
    Signing(Vec<u8>),
    Token(Vec<u8>),
}

fn secret(raw: &[u8]) -> Secret {
    match std::str::from_utf8(raw).map(str::trim) {
        Ok(text) if text.starts_with("whsec_") => {
            Secret::Signing(signing_key(text).unwrap_or_default())
        }
        _ => Secret::Token(
            raw.iter()
                .copied()
                .filter(|b| *b != b'\r' && *b != b'\n')
                .collect(),
        ),
    }
}

/// Verifies a GitLab hook: by signature when a signing token is configured, else by token.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let signing = ctx
        .secrets
        .iter()
        .any(|s| matches!(secret(s), Secret::Signing(_)));
    if signing {
        verify_signature(req, ctx)
    } else {
        verify_token(req, ctx)
    }
}

/// `X-Gitlab-Token` equal (constant time) to a configured secret token.
fn verify_token(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let token = req
        .header_str(TOKEN)?
        .filter(|t| !t.is_empty())
        .ok_or(VerifyError::MissingSignature)?;
    ctx.verify_any_secret(|raw| match secret(raw) {
        Secret::Token(expected) => constant_time_eq(&expected, token.as_bytes()),
        Secret::Signing(_) => false,
    })
}

/// The Standard Webhooks signature under a configured signing token.
fn verify_signature(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let header = req
        .header_str(HEADER_SIGNATURE)?
        .ok_or(VerifyError::MissingSignature)?;
    let signatures = v1_signatures(header)?;
    let id = req
        .header_str(HEADER_ID)?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| VerifyError::malformed("webhook-id is missing"))?;
    let timestamp = req
        .header_str(HEADER_TIMESTAMP)?
        .ok_or(VerifyError::MissingTimestamp)?;
    ctx.check_timestamp(timestamp)?;
    let message: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", &req.body];
    ctx.verify_any_secret(|raw| match secret(raw) {
        Secret::Signing(key) => signatures
            .iter()
            .any(|sig| hmac_verify(Hash::Sha256, &key, &message, sig)),
        Secret::Token(_) => false,
    })
}

/// The `v1,<base64>` entries of a space-separated `webhook-signature` (several while a token
/// is rotated); entries of other versions are skipped, as the Standard Webhooks spec requires.
fn v1_signatures(header: &str) -> Result<Vec<Vec<u8>>, VerifyError> {
    let mut present = false;
    let mut signatures = Vec::new();
    for entry in split_signature_list(header)? {
        let Some(sig) = entry.strip_prefix("v1,").filter(|s| !s.is_empty()) else {
            continue;
        };
        present = true;
        if let Ok(bytes) = base64_decode(sig) {
            signatures.push(bytes);
        }
    }
    match (present, signatures.is_empty()) {
        (false, _) if header.is_empty() || header == "v1," => Err(VerifyError::MissingSignature),
        (false, _) => Err(VerifyError::malformed(
            "webhook-signature has no v1,<base64> entry",
        )),
        (true, true) => Err(VerifyError::malformed("webhook-signature is not base64")),
        (true, false) => Ok(signatures),
    }
}

/// The headers `hookgate send` adds. With a signing token: `webhook-id` (the operator's
/// `Idempotency-Key`, else a fresh one), `webhook-timestamp` (now) and `webhook-signature`;
/// with a secret token: `X-Gitlab-Token`. Either way an `Idempotency-Key` unless given. GitLab
/// names the event in the body (`object_kind`) or in `X-Gitlab-Event`: a body without
/// `object_kind` needs the header.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    if req.header_text(EVENT).is_none() && !crate::normalize::names_its_kind(&req.body) {
        return Err(SignError::invalid(
            "the body has no object_kind: pass --header 'X-Gitlab-Event: Push Hook' (or the hook you are testing)",
        ));
    }
    let id = req
        .header_text(IDEMPOTENCY_KEY)
        .or_else(|| req.header_text(HEADER_ID))
        .unwrap_or(&ctx.nonce)
        .to_owned();
    let mut headers = Vec::new();
    if req.header_text(IDEMPOTENCY_KEY).is_none() {
        headers.push((IDEMPOTENCY_KEY.to_owned(), id.clone()));
    }
    match secret(&ctx.secret) {
        Secret::Signing(key) if key.is_empty() => {
            return Err(SignError::invalid(
                "the signing token is not whsec_ followed by base64",
            ));
        }
        Secret::Signing(key) => {
            let timestamp = ctx.now_unix_secs.to_string();
            let mac = hmac(
                Hash::Sha256,
                &key,
                &[id.as_bytes(), b".", timestamp.as_bytes(), b".", &req.body],
            );
            if req.header_text(HEADER_ID).is_none() {
                headers.push((HEADER_ID.to_owned(), id));
            }
            headers.push((HEADER_TIMESTAMP.to_owned(), timestamp));
            headers.push((
                HEADER_SIGNATURE.to_owned(),
                format!("v1,{}", base64_encode(&mac)),
            ));
        }
        Secret::Token(token) => {
            let token = String::from_utf8(token)
                .map_err(|_| SignError::invalid("the secret token is not UTF-8"))?;
            headers.push((TOKEN.to_owned(), token.trim().to_owned()));
        }
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{NOW, SIGNING_TOKEN};

    const TOKEN_SECRET: &str = "glwht-secret-token-0123456789";
    const BODY: &str = r#"{"object_kind":"push"}"#;

    fn token_request(token: &str) -> Request {
        Request::post(BODY).with_header("X-Gitlab-Token", token)
    }

    #[test]
    fn a_secret_token_is_compared_as_sent() {
        let ctx = VerifyContext::new(TOKEN_SECRET, NOW);
        assert_eq!(verify(&token_request(TOKEN_SECRET), &ctx), Ok(()));
        assert_eq!(
            verify(&token_request("glwht-secret-token-012345678"), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&token_request(""), &ctx),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            verify(&Request::post(BODY), &ctx),
            Err(VerifyError::MissingSignature)
        );
        let none = VerifyContext {
            secrets: vec![],
            ..ctx
        };
        assert_eq!(
            verify(&token_request(TOKEN_SECRET), &none),
            Err(VerifyError::NoSecretConfigured)
        );
    }

    #[test]
    fn a_token_with_line_breaks_matches_what_gitlab_sends() {
        // GitLab strips line breaks before sending; a token read from a file may end in one.
        let ctx = VerifyContext::new(format!("{TOKEN_SECRET}\r\n"), NOW);
        assert_eq!(verify(&token_request(TOKEN_SECRET), &ctx), Ok(()));
    }

    #[test]
    fn tokens_rotate() {
        let ctx = VerifyContext {
            secrets: vec![b"new-token-abcdefghijklmnop".to_vec(), TOKEN_SECRET.into()],
            ..VerifyContext::new("", NOW)
        };
        assert_eq!(verify(&token_request(TOKEN_SECRET), &ctx), Ok(()));
    }

    #[test]
    fn a_token_alone_is_refused_once_a_signing_token_is_configured() {
        let ctx = VerifyContext {
            secrets: vec![SIGNING_TOKEN.to_vec(), TOKEN_SECRET.into()],
            ..VerifyContext::new("", NOW)
        };
        assert_eq!(
            verify(&token_request(TOKEN_SECRET), &ctx),
            Err(VerifyError::MissingSignature)
        );
        // Nor does a signing token ever match as a plain token.
        let leaked = VerifyContext::new(SIGNING_TOKEN, NOW);
        assert_eq!(
            verify(
                &token_request(std::str::from_utf8(SIGNING_TOKEN).unwrap()),
                &leaked
            ),
            Err(VerifyError::MissingSignature)
        );
    }

    fn signed_request(id: &str, ts: &str, sig: &str) -> Request {
        Request::post(BODY)
            .with_header("webhook-id", id)
            .with_header("webhook-timestamp", ts)
            .with_header("webhook-signature", sig)
    }

    // The signing-token merge request's example token; the signature was computed
    // independently (openssl HMAC-SHA256 under the base64-decoded key, then base64).
    const ID: &str = "5f9a2c1e-0000-4000-8000-000000000001";
    const SIG: &str = "v1,eOK1E3fnJjyvgoSJaX+76zdJVaLIozBYQyJitoAuPos=";

    #[test]
    fn an_independently_computed_signature_verifies() {
        let ctx = VerifyContext::new(SIGNING_TOKEN, NOW);
        assert_eq!(verify(&signed_request(ID, "1700000000", SIG), &ctx), Ok(()));
        // Any of several entries; unknown versions skipped.
        let several = format!("v1a,AAAA v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {SIG}");
        assert_eq!(
            verify(&signed_request(ID, "1700000000", &several), &ctx),
            Ok(())
        );
        // The id and timestamp are signed.
        assert_eq!(
            verify(&signed_request("other", "1700000000", SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&signed_request(ID, "1700000001", SIG), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn the_standard_webhooks_specification_example_verifies() {
        // The example of the Standard Webhooks specification, which GitLab's signing follows.
        let ctx = VerifyContext::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1_614_265_330);
        let req = Request::post(r#"{"test": 2432232314}"#)
            .with_header("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
            .with_header("webhook-timestamp", "1614265330")
            .with_header(
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            );
        assert_eq!(verify(&req, &ctx), Ok(()));
    }

    #[test]
    fn the_timestamp_must_be_within_the_tolerance_both_ways() {
        let req = signed_request(ID, "1700000000", SIG);
        for (now, ok) in [
            (NOW + 300, true),
            (NOW - 300, true),
            (NOW + 301, false),
            (NOW - 301, false),
        ] {
            let result = verify(&req, &VerifyContext::new(SIGNING_TOKEN, now));
            assert_eq!(result.is_ok(), ok, "{now}: {result:?}");
        }
        assert_eq!(
            verify(
                &signed_request(ID, "soon", SIG),
                &VerifyContext::new(SIGNING_TOKEN, NOW)
            ),
            Err(VerifyError::MissingTimestamp)
        );
    }

    #[test]
    fn malformed_signature_headers() {
        let ctx = VerifyContext::new(SIGNING_TOKEN, NOW);
        let check = |sig: &str| verify(&signed_request(ID, "1700000000", sig), &ctx);
        assert_eq!(check(""), Err(VerifyError::MissingSignature));
        assert_eq!(check("v1,"), Err(VerifyError::MissingSignature));
        assert!(matches!(
            check("v2,abcd"),
            Err(VerifyError::MalformedSignature(_))
        ));
        assert!(matches!(
            check("v1,***"),
            Err(VerifyError::MalformedSignature(_))
        ));
        let no_id = Request::post(BODY)
            .with_header("webhook-timestamp", "1700000000")
            .with_header("webhook-signature", SIG);
        assert!(matches!(
            verify(&no_id, &ctx),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    #[test]
    fn sign_round_trips_in_both_modes() {
        use hookgate_sdk::testing::sign_round_trip;
        let (signed, events) =
            sign_round_trip::<crate::GitLab>(Request::post(BODY), TOKEN_SECRET.as_bytes(), NOW)
                .unwrap();
        assert_eq!(signed.header_text("x-gitlab-token"), Some(TOKEN_SECRET));
        assert_eq!(events[0].platform_event_id, hookgate_sdk::testing::NONCE);
        let (signed, _) =
            sign_round_trip::<crate::GitLab>(Request::post(BODY), SIGNING_TOKEN, NOW).unwrap();
        assert_eq!(
            signed.header_text("webhook-id"),
            Some(hookgate_sdk::testing::NONCE)
        );
        assert_eq!(
            signed.header_text("idempotency-key"),
            Some(hookgate_sdk::testing::NONCE)
        );
        // A body that does not name its kind needs X-Gitlab-Event.
        let message =
            sign_round_trip::<crate::GitLab>(Request::post("{}"), TOKEN_SECRET.as_bytes(), NOW)
                .unwrap_err();
        assert!(message.contains("X-Gitlab-Event"), "{message}");
        let bad =
            sign_round_trip::<crate::GitLab>(Request::post(BODY), b"whsec_***", NOW).unwrap_err();
        assert!(bad.contains("base64"), "{bad}");
    }
}
