//! `X-Hub-Signature-256` verification, and the GET verification handshake.

use crate::VERIFY_TOKEN;
use hookgate_sdk::prelude::*;

/// The signature header.
pub const SIGNATURE: HmacHeader<'static> =
    HmacHeader::hex("x-hub-signature-256", Hash::Sha256).prefixed("sha256=");

/// Verifies a Meta event notification under any configured app secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    SIGNATURE.verify(req, ctx, &[&req.body])
}

/// The header `hookgate send` adds: the signature over the body.
pub fn signed_headers(
    req: &Request,
    ctx: &SignContext,
) -> Result<Vec<(String, String)>, SignError> {
    Ok(vec![SIGNATURE.signed(&ctx.secret, &[&req.body])])
}

/// The answer to Meta's verification request: the challenge when `hub.mode` is `subscribe` and
/// `hub.verify_token` is the source's token, `403` for any other `hub.*` request, `None` for
/// requests that are no verification at all.
pub fn handshake(req: &Request, settings: &Settings) -> Option<Response> {
    if req.method != "GET" {
        return None;
    }
    let query = query(&req.url)?;
    let param = |key: &str| form_value(query.as_bytes(), key);
    let (mode, token, challenge) = (
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    );
    if mode.is_none() && token.is_none() && challenge.is_none() {
        return None;
    }
    let expected = settings
        .str(VERIFY_TOKEN)
        .ok()
        .flatten()
        .filter(|t| !t.is_empty());
    match (mode.as_deref(), token, challenge, expected) {
        (Some("subscribe"), Some(token), Some(challenge), Some(expected))
            if !challenge.is_empty() && constant_time_eq(token.as_bytes(), expected.as_bytes()) =>
        {
            Some(Response::ok("text/plain", challenge))
        }
        _ => Some(Response::empty(403)),
    }
}

/// The query string of a URL (between `?` and any `#`).
fn query(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once('?')?;
    Some(rest.split_once('#').map_or(rest, |(query, _)| query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::settings;

    // Meta publishes no signed example; computed independently with
    // `printf '{"object":"whatsapp_business_account","entry":[]}'
    //  | openssl dgst -sha256 -hmac app_secret_123`.
    const SECRET: &str = "app_secret_123";
    const BODY: &str = r#"{"object":"whatsapp_business_account","entry":[]}"#;
    const SIG: &str = "sha256=02fe0c96d28c59ddb7cf81eff0ca05809b360ba73b63c28210b5906a0a107d1f";
    const SHA1: &str = "sha1=cef7ad16a721a7bcdedda750d6333b78a8049582";

    #[test]
    fn an_independently_computed_signature_verifies() {
        assert_eq!(SIGNATURE.sign(SECRET.as_bytes(), &[BODY.as_bytes()]), SIG);
        let req = Request::post(BODY).with_header("X-Hub-Signature-256", SIG);
        assert_eq!(verify(&req, &VerifyContext::new(SECRET, 0)), Ok(()));
    }

    #[test]
    fn the_legacy_sha1_signature_alone_is_not_enough() {
        assert_eq!(
            hex_encode(&hmac(Hash::Sha1, SECRET.as_bytes(), &[BODY.as_bytes()])),
            SHA1.trim_start_matches("sha1=")
        );
        let req = Request::post(BODY).with_header("X-Hub-Signature", SHA1);
        assert_eq!(
            verify(&req, &VerifyContext::new(SECRET, 0)),
            Err(VerifyError::MissingSignature)
        );
        let wrong_place = Request::post(BODY).with_header("X-Hub-Signature-256", SHA1);
        assert!(matches!(
            verify(&wrong_place, &VerifyContext::new(SECRET, 0)),
            Err(VerifyError::MalformedSignature(_))
        ));
    }

    fn get(query: &str) -> Request {
        Request {
            method: "GET".into(),
            url: format!("https://hooks.example.com/webhooks/meta{query}"),
            ..Request::default()
        }
    }

    #[test]
    fn the_verification_request_is_answered_with_the_challenge() {
        let answer = handshake(
            &get(
                "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatball-subscribe-42",
            ),
            &settings(),
        );
        assert_eq!(answer, Some(Response::ok("text/plain", "1158201444")));
        // Percent-encoded values are decoded; order does not matter.
        let encoded = handshake(
            &get(
                "?hub.verify_token=meatball%2Dsubscribe%2D42&hub.challenge=a%20b&hub.mode=subscribe#x",
            ),
            &settings(),
        );
        assert_eq!(encoded, Some(Response::ok("text/plain", "a b")));
    }

    #[test]
    fn a_wrong_token_or_mode_is_refused_with_403() {
        for query in [
            "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatball",
            "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=",
            "?hub.mode=subscribe&hub.challenge=1158201444",
            "?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meatball-subscribe-42",
            "?hub.mode=subscribe&hub.challenge=&hub.verify_token=meatball-subscribe-42",
            "?hub.verify_token=meatball-subscribe-42",
        ] {
            assert_eq!(
                handshake(&get(query), &settings()),
                Some(Response::empty(403)),
                "{query}"
            );
        }
        // Without a configured token nothing is answered 200.
        assert_eq!(
            handshake(
                &get("?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x"),
                &Settings::none()
            ),
            Some(Response::empty(403))
        );
    }

    #[test]
    fn other_requests_are_no_handshake() {
        assert_eq!(handshake(&get(""), &settings()), None);
        assert_eq!(handshake(&get("?page=1"), &settings()), None);
        let post = Request {
            url: "https://hooks.example.com/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatball-subscribe-42".into(),
            ..Request::post("{}")
        };
        assert_eq!(handshake(&post, &settings()), None);
    }
}
