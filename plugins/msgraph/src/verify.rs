//! Microsoft Graph change notification authentication: `clientState`, not a signature.
//!
//! Basic change notifications are not signed. The app chose a secret `clientState` when it
//! created each subscription, and Graph copies it into every item of the POSTed `value[]`;
//! the receiver compares it with the value it set. The source's secret is that clientState.
//! One POST may carry items of several subscriptions: every item must carry a configured
//! secret (any of them, so subscriptions may be rolled to a new clientState one at a time), and
//! one item that does not refuses the whole request. The comparison is constant time. Nothing
//! else in the body is authenticated, and there is no timestamp: replays are caught by
//! duplicate detection on the event id.

use hookgate_sdk::prelude::*;
use hookgate_sdk::serde_json::{self, Value};

/// The query parameter of the subscription validation request.
pub const VALIDATION_TOKEN: &str = "validationToken";
/// The item field carrying the secret.
pub const CLIENT_STATE: &str = "clientState";

/// The token of a notification URL validation request, decoded: Graph POSTs to
/// `notificationUrl?validationToken=<url-encoded token>` when a subscription is created and
/// expects the decoded token back within 10 s. The request carries no clientState (it
/// precedes the subscription), so it cannot be authenticated; the answer only confirms that
/// the URL accepts notifications. Decoding follows the web frameworks Graph's samples use
/// (`+` is a space).
pub fn validation_token(req: &Request) -> Option<String> {
    if req.method != "POST" {
        return None;
    }
    let (_, query) = req.url.split_once('?')?;
    let query = query.split('#').next().unwrap_or(query);
    form_value(query.as_bytes(), VALIDATION_TOKEN).filter(|t| !t.is_empty())
}

/// The notification items of a change notification collection.
pub fn items(body: &Value) -> Option<&Vec<Value>> {
    body.get("value")?.as_array()
}

/// Verifies a change notification POST: every item's `clientState` is a configured secret.
pub fn verify(req: &Request, ctx: &VerifyContext) -> Result<(), VerifyError> {
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|_| VerifyError::malformed("body is not a change notification collection"))?;
    let items = items(&body)
        .filter(|items| !items.is_empty())
        .ok_or_else(|| VerifyError::malformed("body has no value[] notifications"))?;
    for item in items {
        let state = item[CLIENT_STATE]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or(VerifyError::MissingSignature)?;
        // A secret file's newline is not part of the clientState.
        ctx.verify_any_secret(|secret| constant_time_eq(state.as_bytes(), secret.trim_ascii()))?;
    }
    Ok(())
}

/// The body `hookgate send` sends: the operator's collection with every item's `clientState`
/// set to the secret, which is what Graph does. The body is re-serialized (keys sorted).
pub fn signed_body(req: &Request, ctx: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
    let secret = ctx.secret_str()?;
    if secret.is_empty() {
        return Err(SignError::invalid("the secret (clientState) is empty"));
    }
    let shape = || {
        SignError::invalid(
            r#"the body must be a change notification collection: {"value": [{...}]}"#,
        )
    };
    let mut body: Value = serde_json::from_slice(&req.body).map_err(|_| shape())?;
    let items = body
        .get_mut("value")
        .and_then(Value::as_array_mut)
        .filter(|items| !items.is_empty())
        .ok_or_else(shape)?;
    for item in items {
        let item = item.as_object_mut().ok_or_else(shape)?;
        item.insert(CLIENT_STATE.into(), Value::String(secret.to_owned()));
    }
    serde_json::to_vec(&body)
        .map(Some)
        .map_err(|e| SignError::invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "secretClientValue";

    fn collection(states: &[&str]) -> Request {
        let items: Vec<String> = states
            .iter()
            .map(|s| {
                format!(r#"{{"subscriptionId":"s","changeType":"created","clientState":"{s}"}}"#)
            })
            .collect();
        Request::post(format!(r#"{{"value":[{}]}}"#, items.join(",")))
    }

    #[test]
    fn every_item_must_carry_a_configured_client_state() {
        let ctx = VerifyContext::new(SECRET, 0);
        assert_eq!(verify(&collection(&[SECRET]), &ctx), Ok(()));
        assert_eq!(verify(&collection(&[SECRET, SECRET]), &ctx), Ok(()));
        assert_eq!(
            verify(&collection(&[SECRET, "secretClientValuf"]), &ctx),
            Err(VerifyError::SignatureMismatch)
        );
        assert_eq!(
            verify(&collection(&[SECRET, ""]), &ctx),
            Err(VerifyError::MissingSignature)
        );
        let without = Request::post(r#"{"value":[{"subscriptionId":"s"}]}"#);
        assert_eq!(verify(&without, &ctx), Err(VerifyError::MissingSignature));
    }

    #[test]
    fn items_of_two_subscriptions_may_use_the_two_secrets_of_a_rotation() {
        let ctx = VerifyContext {
            secrets: vec![b"newClientState".to_vec(), SECRET.into()],
            ..VerifyContext::new("", 0)
        };
        assert_eq!(
            verify(&collection(&["newClientState", SECRET]), &ctx),
            Ok(())
        );
        let none = VerifyContext {
            secrets: vec![],
            ..ctx
        };
        assert_eq!(
            verify(&collection(&[SECRET]), &none),
            Err(VerifyError::NoSecretConfigured)
        );
    }

    #[test]
    fn bodies_that_are_not_collections_are_malformed() {
        let ctx = VerifyContext::new(SECRET, 0);
        for body in ["", "text", "[]", r#"{"value":[]}"#, r#"{"value":{}}"#] {
            assert!(
                matches!(
                    verify(&Request::post(body), &ctx),
                    Err(VerifyError::MalformedSignature(_))
                ),
                "{body:?}"
            );
        }
    }

    fn validation(url: &str) -> Request {
        Request {
            url: url.into(),
            headers: vec![("content-type".into(), b"text/plain; charset=utf-8".to_vec())],
            ..Request::post("")
        }
    }

    #[test]
    fn the_validation_token_is_url_decoded() {
        let encoded = "https://h.example/graph?tenant=acme&validationToken=Validation%3A%20Testing%20client%20application%20reachability";
        assert_eq!(
            validation_token(&validation(encoded)).as_deref(),
            Some("Validation: Testing client application reachability")
        );
        // The form encoding .NET's UrlEncode produces: `+` for spaces, lower-case escapes.
        let plus = "https://h.example/graph?validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+1f2e";
        assert_eq!(
            validation_token(&validation(plus)).as_deref(),
            Some(
                "Validation: Testing client application reachability for subscription Request-Id: 1f2e"
            )
        );
        assert_eq!(
            validation_token(&validation("https://h.example/graph")),
            None
        );
        assert_eq!(
            validation_token(&validation("https://h.example/graph?validationToken=")),
            None
        );
        let get = Request {
            method: "GET".into(),
            ..validation(encoded)
        };
        assert_eq!(validation_token(&get), None);
    }

    #[test]
    fn signing_sets_every_client_state() {
        let ctx = SignContext {
            secret: SECRET.into(),
            now_unix_secs: 0,
            nonce: String::new(),
            settings: Settings::none(),
        };
        let body = signed_body(
            &Request::post(r#"{"value":[{"id":"a"},{"id":"b","clientState":"old"}]}"#),
            &ctx,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            verify(&Request::post(body), &VerifyContext::new(SECRET, 0)),
            Ok(())
        );
        assert!(signed_body(&Request::post(r#"{"value":[]}"#), &ctx).is_err());
        assert!(signed_body(&Request::post("[1]"), &ctx).is_err());
    }
}
