//! hookgate platform plugin for **Microsoft Graph change notifications** (webhook delivery of
//! Graph subscriptions, basic notifications and lifecycle notifications).
//!
//! - **Authentication**: basic notifications are not signed. Each item of `value[]` carries the
//!   subscription's `clientState`, which must equal the source's secret (any configured one,
//!   compared in constant time); one item that does not match refuses the whole request.
//!   Nothing else in the body is authenticated, and there is no timestamp. Rich notifications
//!   (`validationTokens` JWTs, `encryptedContent`) are accepted on their clientState alone:
//!   their JWTs and encryption need certificates this plugin does not hold.
//! - **Handshake**: creating a subscription POSTs `?validationToken=<token>`; it is answered 200
//!   `text/plain` with the URL-decoded token (`X-Content-Type-Options: nosniff` as well, since
//!   the value is reflected). It carries no clientState and cannot be authenticated.
//! - **Events**: one per `value[]` item (items may belong to several subscriptions). The id is
//!   the item's `id` when Graph sends it (optional), else `sha256:<hex>` of its subscription,
//!   change type or lifecycle event, resource, etag and subscription expiry (see
//!   [`normalize::item_id`]); no signature covers either. Types:
//!   `msgraph.<resource type>.<changeType>` (`msgraph.message.created`), or
//!   `msgraph.lifecycle.<event>` (`msgraph.lifecycle.reauthorization_required`). Each stored
//!   payload is its item without `clientState`, the secret.
//! - **Settings**: none. **Signing** (`hookgate send`) sets every item's clientState to the
//!   secret ([`Platform::sign_body`]) and adds no header.

pub mod normalize;
pub mod verify;

use hookgate_sdk::prelude::*;

/// The Microsoft Graph platform.
pub struct MsGraph;

impl Platform for MsGraph {
    fn metadata() -> Metadata {
        Metadata::new(
            "msgraph",
            "Microsoft Graph change notifications (clientState, validationToken handshake)",
        )
        .secret_description("the subscriptions' clientState")
        .with_handshake()
    }

    fn handshake(request: &Request, _context: &VerifyContext) -> Option<Response> {
        verify::validation_token(request).map(|token| {
            Response::ok("text/plain", token).header("x-content-type-options", "nosniff")
        })
    }

    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError> {
        verify::verify(request, context)
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        normalize::normalize(request)
    }

    fn sign(
        _request: &Request,
        _context: &SignContext,
    ) -> Result<Vec<(String, String)>, SignError> {
        // The clientState is inside the body (`sign_body`); no header carries anything.
        Ok(Vec::new())
    }

    fn sign_body(request: &Request, context: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
        verify::signed_body(request, context)
    }
}

hookgate_sdk::export_platform!(MsGraph);

#[cfg(test)]
mod tests {
    use super::*;
    use hookgate_sdk::serde_json::{self, Value};
    use hookgate_sdk::testing;

    const SECRET: &[u8] = b"secretClientValue";
    const NOW: i64 = 1_700_000_000;

    /// The kit's checks, less its body forgeries: `testing::check_fixtures` insists that any
    /// changed body byte is refused, and Graph authenticates only each item's clientState.
    /// Each fixture is signed (clientState set), normalized against its golden file, and its
    /// forgeries of the clientState and the secret are refused; that the rest of the body is
    /// not covered is asserted, not hidden.
    #[test]
    fn fixtures() {
        for fixture in &testing::fixtures(env!("CARGO_MANIFEST_DIR")) {
            let genuine = testing::genuine::<MsGraph>(&fixture.request, SECRET, NOW)
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            assert!(genuine.signed_by_kit, "{}", fixture.name);
            let events = MsGraph::normalize(&genuine.request, &Settings::none())
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            testing::assert_golden(&events, &fixture.golden);
            refusals(&genuine.request);
        }
    }

    /// The request with the last item's clientState replaced (`None`: removed).
    fn with_last_state(request: &Request, state: Option<&str>) -> Request {
        let mut body: Value = serde_json::from_slice(&request.body).unwrap();
        let item = body["value"].as_array_mut().unwrap().last_mut().unwrap();
        let item = item.as_object_mut().unwrap();
        match state {
            Some(state) => item.insert("clientState".into(), state.into()),
            None => item.remove("clientState"),
        };
        Request {
            body: serde_json::to_vec(&body).unwrap(),
            ..request.clone()
        }
    }

    fn refusals(genuine: &Request) {
        let right = VerifyContext::with_secrets(&[SECRET], NOW);
        assert_eq!(MsGraph::verify(genuine, &right), Ok(()));
        assert_eq!(
            MsGraph::verify(
                genuine,
                &VerifyContext::with_secrets(&[b"anotherClientState", SECRET], NOW)
            ),
            Ok(())
        );
        for (what, forged) in [
            ("without a clientState", with_last_state(genuine, None)),
            ("with it empty", with_last_state(genuine, Some(""))),
            (
                "with a character changed",
                with_last_state(genuine, Some("secretClientValuf")),
            ),
            (
                "with a longer value",
                with_last_state(genuine, Some("secretClientValue2")),
            ),
        ] {
            assert!(MsGraph::verify(&forged, &right).is_err(), "accepted {what}");
        }
        assert_eq!(
            MsGraph::verify(
                genuine,
                &VerifyContext::with_secrets(&[b"secretClientValuf"], NOW)
            ),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            MsGraph::verify(genuine, &VerifyContext::with_secrets(&[], NOW)),
            Err(VerifyError::NoSecretConfigured)
        );
        // What Graph does not protect: the rest of an item may change unnoticed.
        let mut body: Value = serde_json::from_slice(&genuine.body).unwrap();
        body["value"][0]["changeType"] = "deleted".into();
        let tampered = Request {
            body: serde_json::to_vec(&body).unwrap(),
            ..genuine.clone()
        };
        assert_eq!(MsGraph::verify(&tampered, &right), Ok(()));
    }

    #[test]
    fn the_validation_request_is_answered_with_the_decoded_token() {
        let request = Request {
            url: "https://hooks.example.com/webhooks/graph?validationToken=Validation%3A%20Testing%20client%20application%20reachability".into(),
            headers: vec![("content-type".into(), b"text/plain; charset=utf-8".to_vec())],
            ..Request::post("")
        };
        let answer =
            MsGraph::handshake(&request, &VerifyContext::with_secrets(&[SECRET], NOW)).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            b"Validation: Testing client application reachability"
        );
        assert_eq!(
            answer.headers,
            [
                ("content-type".to_owned(), "text/plain".to_owned()),
                ("x-content-type-options".to_owned(), "nosniff".to_owned()),
            ]
        );
        // An ordinary notification is not a handshake.
        assert_eq!(
            MsGraph::handshake(
                &Request::post(r#"{"value":[]}"#),
                &VerifyContext::with_secrets(&[SECRET], NOW)
            ),
            None
        );
    }

    #[test]
    fn sending_needs_a_notification_collection() {
        let message =
            testing::sign_round_trip::<MsGraph>(Request::post("{}"), SECRET, NOW).unwrap_err();
        assert!(
            message.contains("change notification collection"),
            "{message}"
        );
    }
}
