//! hookgate platform plugin for **Okta event hooks** (asynchronous System Log events).
//!
//! - **Authentication**: Okta signs nothing. Every request carries the hook's configured
//!   authentication header (`Authorization` unless the hook names another; the source's
//!   `auth_header` setting), whose whole value is the source's secret, compared in constant
//!   time and never parsed (`Basic …` included). The body is not authenticated beyond that
//!   header and TLS; there is no timestamp, so replays are caught by duplicate detection.
//! - **Handshake**: the one-time verification is a GET with `X-Okta-Verification-Challenge`,
//!   answered `{"verification": "<challenge>"}` as JSON, and only when the GET carries the
//!   configured authentication value. Any other GET is refused.
//! - **Events**: `data.events[]` is a batch; each element is one event with its own id,
//!   `uuid` (the key Okta documents for duplicate detection; no signature covers it), type
//!   `okta.<eventType>`, time `published`, entity its first target (else its actor).
//! - **Settings**: `auth_header` (optional): the authentication header's name, when the hook
//!   was registered with one other than `Authorization`.
//! - **Answer**: the gateway's own 2xx; Okta wants 200 or 204 within 3 s and retries once at
//!   most (a 4xx never).

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::json;

/// The Okta platform.
pub struct Okta;

impl Platform for Okta {
    fn metadata() -> Metadata {
        Metadata::new(
            "okta",
            "Okta event hooks (shared authentication header, batched System Log events)",
        )
        .secret_description("the hook's authentication secret (the header's whole value)")
        .with_handshake()
    }

    fn check_config(settings: &Settings) -> Result<(), ConfigError> {
        verify::check_config(settings)
    }

    fn handshake(request: &Request, context: &VerifyContext) -> Option<Response> {
        let challenge = verify::verification_challenge(request, context)?;
        let body = json!({ "verification": challenge }).to_string();
        Some(Response::ok("application/json", body))
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn sign(request: &Request, context: &SignContext) -> Result<Vec<(String, String)>, SignError> {
        verify::signed_headers(request, context)
    }
}

hookgate_sdk::export_platform!(Okta);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::testing;

    const SECRET: &[u8] = b"Basic YWRtaW46c3VwZXJzZWNyZXQ=";
    const NOW: i64 = 1_700_000_000;

    /// The kit's checks, less its body forgeries: `testing::check_fixtures` insists that a
    /// changed body byte is refused, and Okta authenticates the sender, not the body. Each
    /// fixture is signed, normalized against its golden file, and its forgeries of the header
    /// and the secret are refused; that the body is not covered is asserted, not hidden.
    #[test]
    fn fixtures() {
        let fixtures = testing::fixtures(env!("CARGO_MANIFEST_DIR"));
        for fixture in &fixtures {
            let genuine = testing::genuine::<Okta>(&fixture.request, SECRET, NOW)
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            assert!(genuine.signed_by_kit, "{}", fixture.name);
            assert_eq!(genuine.signature_headers, ["authorization"]);
            let events = Okta::normalize(&genuine.request, &Settings::none())
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            testing::assert_golden(&events, &fixture.golden);
            refusals(&genuine.request);
        }
    }

    fn with_header(request: &Request, value: Option<&str>) -> Request {
        let mut out = request.clone();
        out.headers.retain(|(name, _)| name != "authorization");
        if let Some(value) = value {
            out.headers.push(("authorization".into(), value.into()));
        }
        out
    }

    fn refusals(genuine: &Request) {
        let right = VerifyContext::with_secrets(&[SECRET], NOW);
        assert_eq!(Okta::verify(genuine, &right), Ok(()));
        assert_eq!(
            Okta::verify(
                genuine,
                &VerifyContext::with_secrets(&[b"Basic other", SECRET], NOW)
            ),
            Ok(())
        );
        for (what, forged) in [
            ("without the header", with_header(genuine, None)),
            ("with it empty", with_header(genuine, Some(""))),
            (
                "with its credentials emptied",
                with_header(genuine, Some("Basic")),
            ),
            (
                "with a character changed",
                with_header(genuine, Some("Basic YWRtaW46c3VwZXJzZWNyZXR=")),
            ),
        ] {
            assert!(Okta::verify(&forged, &right).is_err(), "accepted {what}");
        }
        assert_eq!(
            Okta::verify(
                genuine,
                &VerifyContext::with_secrets(&[b"Basic YWRtaW46c3VwZXJzZWNyZXR="], NOW)
            ),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            Okta::verify(genuine, &VerifyContext::with_secrets(&[], NOW)),
            Err(VerifyError::NoSecretConfigured)
        );
        // What Okta does not protect: a changed body with the right header is accepted.
        let mut tampered = genuine.clone();
        tampered.body.push(b' ');
        assert_eq!(Okta::verify(&tampered, &right), Ok(()));
    }

    fn verification(headers: &[(&str, &str)]) -> Request {
        let mut request = Request {
            method: "GET".into(),
            ..Request::post("")
        };
        for (name, value) in headers {
            request = request.with_header(name, *value);
        }
        request
    }

    #[test]
    fn the_verification_get_is_answered_with_json_when_authenticated() {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let request = verification(&[
            (
                "X-Okta-Verification-Challenge",
                "2fmEZMFh1N3DzzoM6Xw2lpyfHTSKp2aR9Ahp5sjL",
            ),
            ("Authorization", secret),
        ]);
        let answer =
            Okta::handshake(&request, &VerifyContext::with_secrets(&[SECRET], NOW)).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.headers,
            [("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(
            answer.body,
            br#"{"verification":"2fmEZMFh1N3DzzoM6Xw2lpyfHTSKp2aR9Ahp5sjL"}"#
        );
    }

    #[test]
    fn an_unauthenticated_or_incomplete_verification_is_refused() {
        let ctx = VerifyContext::with_secrets(&[SECRET], NOW);
        let challenge = ("X-Okta-Verification-Challenge", "c-1");
        assert_eq!(Okta::handshake(&verification(&[challenge]), &ctx), None);
        assert_eq!(
            Okta::handshake(
                &verification(&[challenge, ("Authorization", "Basic x")]),
                &ctx
            ),
            None
        );
        let secret = std::str::from_utf8(SECRET).unwrap();
        assert_eq!(
            Okta::handshake(&verification(&[("Authorization", secret)]), &ctx),
            None
        );
        // A POST is never the verification, whatever it carries.
        let post = Request::post("{}")
            .with_header(challenge.0, challenge.1)
            .with_header("Authorization", secret);
        assert_eq!(Okta::handshake(&post, &ctx), None);
    }

    #[test]
    fn signing_uses_the_configured_header() {
        let settings = Settings::from_json(json!({ "auth_header": "X-Hook-Secret" }));
        let signed =
            testing::sign_with::<Okta>(&Request::post("{}"), SECRET, NOW, &settings).unwrap();
        assert_eq!(signed.header("x-hook-secret"), Some(SECRET));
        assert_eq!(signed.header("authorization"), None);
    }
}
