//! The access token, by Google's OAuth 2.0 flow for service accounts: a JWT assertion (RS256,
//! signed by the host with the key's `private_key`) exchanged at the key's `token_uri` for a
//! bearer token that lives an hour. The token is kept in the host's per-route cache until a
//! minute before it expires, so the key is used once an hour, not once per delivery.
//!
//! The token endpoint's answers:
//!
//! | answer | result |
//! | --- | --- |
//! | 200 `{"access_token", "expires_in", "token_type": "Bearer"}` | the token |
//! | 400/401 `{"error": "invalid_grant" \| "invalid_client" \| "unauthorized_client" \| "invalid_scope" …, "error_description"}` | permanent, with the error and its description (a wrong key, a deleted account, a clock far off) |
//! | 429 | rate limited, after `Retry-After` |
//! | 5xx, timeouts, connection errors | retryable |
//! | 200 without a token | retryable (a broken answer is not a refusal) |

use crate::config::ServiceAccount;
use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;
use serde_json::json;

/// The OAuth scope of reading and writing spreadsheets.
pub const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";
/// The assertion's lifetime: Google accepts at most an hour.
pub const ASSERTION_SECS: u64 = 3600;
/// How long before its expiry a cached token is no longer used, so a token never expires in
/// flight.
pub const EXPIRY_MARGIN_MS: u64 = 60_000;
/// The grant type of a JWT bearer assertion (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The cache key of the account's token: a digest of everything the token was made from, so a
/// rotated key or another account (after a config reload) never reuses an older token.
pub fn cache_key(account: &ServiceAccount) -> String {
    let identity = [
        account.client_email.as_str(),
        account.private_key_id.as_deref().unwrap_or(""),
        account.token_uri.as_str(),
        account.private_key.as_str(),
    ]
    .join("\n");
    format!(
        "access-token:{}",
        hex_encode(&sha256(&[identity.as_bytes()]))
    )
}

/// The assertion's signing input, `base64url(header).base64url(claims)`.
pub fn signing_input(account: &ServiceAccount, now_secs: u64) -> String {
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(kid) = &account.private_key_id {
        header["kid"] = json!(kid);
    }
    let claims = json!({
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": now_secs,
        "exp": now_secs + ASSERTION_SECS,
    });
    format!(
        "{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(claims.to_string().as_bytes())
    )
}

/// The signed assertion; `sign` is the host's RS256 (a parameter so tests can sign natively).
pub fn assertion(
    account: &ServiceAccount,
    now_secs: u64,
    sign: impl FnOnce(&str, &[u8]) -> Result<Vec<u8>, String>,
) -> Result<String, ActionError> {
    let input = signing_input(account, now_secs);
    // The same key fails the same way on every retry: permanent, fixed by the operator.
    let signature = sign(&account.private_key, input.as_bytes())
        .map_err(|e| ActionError::permanent(format!("credentials.private_key: {e}")))?;
    Ok(format!("{input}.{}", base64url_encode(&signature)))
}

/// The token request: the assertion, form-encoded, to the key's `token_uri`.
pub fn request(account: &ServiceAccount, assertion: &str) -> HttpRequest {
    HttpRequest::new(Method::Post, account.token_uri.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form_encode([
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion),
        ]))
}

/// A token and how long it may be cached, in milliseconds.
#[derive(Debug, PartialEq, Eq)]
pub struct Token {
    /// The bearer token. Never logged.
    pub access_token: String,
    /// Its lifetime minus [`EXPIRY_MARGIN_MS`] (zero: use once, do not cache).
    pub cache_ms: u64,
}

/// Classifies the token endpoint's answer (see the table above).
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Token, ActionError> {
    let response = outcome.map_err(|e| prefixed(classify_error(e)))?;
    let status = response.status;
    let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    if status == 200 {
        let token = body.as_ref().and_then(|b| b["access_token"].as_str());
        let expires_in = body.as_ref().and_then(|b| b["expires_in"].as_u64());
        return match token {
            Some(token) if !token.is_empty() => Ok(Token {
                access_token: token.to_owned(),
                cache_ms: expires_in
                    .unwrap_or(0)
                    .saturating_mul(1000)
                    .saturating_sub(EXPIRY_MARGIN_MS),
            }),
            _ => Err(ActionError::retryable(
                "Google token endpoint: HTTP 200 without an access_token",
            )
            .with_status(200)),
        };
    }
    if status == 429 {
        return Err(ActionError::rate_limited("Google token endpoint: HTTP 429")
            .with_status(429)
            .with_after_ms(retry_hint_ms(&response, now_unix_ms, &[])));
    }
    let error = body.as_ref().and_then(|b| b["error"].as_str());
    if let (400..=499, Some(error)) = (status, error) {
        let description = body
            .as_ref()
            .and_then(|b| b["error_description"].as_str())
            .map(|d| format!(" ({})", snippet(d.as_bytes())))
            .unwrap_or_default();
        return Err(ActionError::permanent(format!(
            "Google token endpoint: HTTP {status} {}{description}",
            snippet(error.as_bytes())
        ))
        .with_status(status));
    }
    match classify_response(&response, now_unix_ms) {
        Ok(_) => Err(ActionError::retryable(format!(
            "Google token endpoint: unexpected HTTP {status}"
        ))
        .with_status(status)),
        Err(e) => Err(prefixed(e)),
    }
}

/// `e` with its reason prefixed by where it happened. A 410 from the token endpoint is
/// permanent, not gone: it says nothing about the spreadsheet, so the route stays enabled.
fn prefixed(e: ActionError) -> ActionError {
    let reason = format!("Google token endpoint: {}", e.reason());
    match e {
        ActionError::Gone { http_status, .. } => ActionError::Permanent {
            reason,
            http_status,
        },
        e => e.with_reason(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SheetsConfig, tests::key};

    fn account() -> ServiceAccount {
        SheetsConfig::parse(
            &json!({"credentials": key(), "spreadsheet_id": "s", "range": "A", "values": ["x"]}),
            true,
        )
        .unwrap()
        .account
        .unwrap()
    }

    fn decode(segment: &str) -> serde_json::Value {
        serde_json::from_slice(&base64_decode(segment).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_is_an_rs256_jwt_for_the_token_uri() {
        let mut signed = None;
        let jwt = assertion(&account(), 1_700_000_000, |pem, input| {
            assert!(pem.contains("BEGIN PRIVATE KEY"));
            signed = Some(input.to_vec());
            Ok(vec![0xfb, 0xff])
        })
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            signed.unwrap(),
            format!("{}.{}", parts[0], parts[1]).into_bytes()
        );
        assert_eq!(
            decode(parts[0]),
            json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        assert_eq!(
            decode(parts[1]),
            json!({"iss": "writer@p.iam.gserviceaccount.com", "scope": SCOPE,
                   "aud": "https://oauth2.googleapis.com/token", "iat": 1_700_000_000u64, "exp": 1_700_003_600u64})
        );
        assert_eq!(parts[2], "-_8");
        let refused = assertion(&account(), 0, |_, _| {
            Err("the private key is not PEM".into())
        });
        assert_eq!(
            refused,
            Err(ActionError::permanent(
                "credentials.private_key: the private key is not PEM"
            ))
        );
    }

    #[test]
    fn the_token_request_is_a_jwt_bearer_grant() {
        let request = request(&account(), "a.b.c");
        assert_eq!(request.url(), "https://oauth2.googleapis.com/token");
        assert_eq!(
            form_value(request.body_bytes(), "grant_type").as_deref(),
            Some(GRANT_TYPE)
        );
        assert_eq!(
            form_value(request.body_bytes(), "assertion").as_deref(),
            Some("a.b.c")
        );
    }

    #[test]
    fn the_cache_key_changes_with_the_key() {
        let a = account();
        let mut b = a.clone();
        b.private_key.push('x');
        assert_ne!(cache_key(&a), cache_key(&b));
        assert!(
            !cache_key(&a).contains("writer"),
            "a digest, not the identity"
        );
    }

    fn answer(status: u16, body: &str) -> Result<Token, ActionError> {
        classify(Ok(HttpResponse::new(status).with_body(body)), 0)
    }

    #[test]
    fn token_endpoint_answers() {
        assert_eq!(
            answer(
                200,
                r#"{"access_token":"ya29.t","expires_in":3599,"token_type":"Bearer"}"#
            ),
            Ok(Token {
                access_token: "ya29.t".into(),
                cache_ms: 3_539_000
            })
        );
        assert_eq!(
            answer(200, r#"{"access_token":"ya29.t","expires_in":30}"#)
                .unwrap()
                .cache_ms,
            0,
            "a token about to expire is used once, not cached"
        );
        assert!(matches!(
            answer(200, "{}"),
            Err(ActionError::Retryable { .. })
        ));
        assert_eq!(
            answer(
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#
            ),
            Err(ActionError::permanent(
                "Google token endpoint: HTTP 400 invalid_grant (Invalid JWT Signature.)"
            )
            .with_status(400))
        );
        assert!(matches!(
            answer(
                401,
                r#"{"error":"invalid_client","error_description":"The OAuth client was not found."}"#
            ),
            Err(ActionError::Permanent { .. })
        ));
        let limited = classify(
            Ok(HttpResponse::new(429).with_header("Retry-After", "3")),
            0,
        );
        assert_eq!(limited.unwrap_err().after_ms(), Some(3_000));
        match answer(503, "") {
            Err(ActionError::Retryable { reason, .. }) => {
                assert!(
                    reason.starts_with("Google token endpoint: HTTP 503"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(Err(HttpError::Timeout("t".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
        // The token endpoint gone is not the spreadsheet gone: the route stays enabled.
        assert_eq!(
            answer(410, ""),
            Err(ActionError::permanent("Google token endpoint: HTTP 410").with_status(410))
        );
    }
}
