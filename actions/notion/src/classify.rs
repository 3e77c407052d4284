//! Notion's answers to a create-page call, as its API reference ("Status codes", "Request
//! limits") describes them. Error bodies are
//! `{"object": "error", "status": 400, "code": "validation_error", "message": "…", "request_id": "…"}`.
//!
//! | answer | result |
//! | --- | --- |
//! | 200 (the created page object) | delivered |
//! | 429 `rate_limited` (an average of three requests per second per integration) | rate limited, after `Retry-After` (an integer number of seconds) |
//! | 529 `service_overload` ("handle it the same way" as a 429) | rate limited, after `Retry-After` |
//! | 400 `invalid_json`, `invalid_request_url`, `invalid_request`, `invalid_grant`, `validation_error`, `missing_version` | permanent, with Notion's code and message |
//! | 401 `unauthorized` (the bearer token is not valid) | permanent, with code and message |
//! | 403 `restricted_resource` (the token lacks the permission) | permanent, with code and message |
//! | 404 `object_not_found` (no such database, or not shared with the integration) | permanent, with code and message |
//! | 409 `conflict_error` (the transaction could not complete, "potentially due to a data collision … try again") | retryable |
//! | other 4xx (except 408) | permanent |
//! | 410 | gone: the route is disabled |
//! | 500 `internal_server_error`, 502, 503 `service_unavailable` / `database_connection_unavailable`, 504 `gateway_timeout`, other 5xx, 408 | retryable, after `Retry-After` when given |
//! | timeouts, connection errors | retryable |

use hookgate_sdk::api::{classify_error, classify_in_words, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Notion's status for "temporarily overloaded", to be handled like a 429.
pub const SERVICE_OVERLOAD: u16 = 529;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let status = response.status;
    let after = || retry_hint_ms(&response, now_unix_ms, &[]);
    match status {
        429 | SERVICE_OVERLOAD => Err(ActionError::rate_limited(reason(&response))
            .with_status(status)
            .with_after_ms(after())),
        409 => Err(ActionError::retryable(reason(&response))
            .with_status(409)
            .with_after_ms(after())),
        // Other 4xx permanent, 408 and 5xx retried, 410 gone: the standard table, in
        // Notion's words.
        _ => classify_in_words(&response, now_unix_ms, || reason(&response)),
    }
}

/// `Notion: HTTP 400, validation_error: body failed validation: …`: the error's code and
/// message, else an excerpt of the body, else the status alone.
fn reason(response: &HttpResponse) -> String {
    let status = response.status;
    let error: Option<Value> = serde_json::from_slice(&response.body).ok();
    let field = |key: &str| {
        error
            .as_ref()
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(|s| snippet(s.as_bytes()))
            .filter(|s| !s.is_empty())
    };
    match (field("code"), field("message")) {
        (Some(code), Some(message)) => format!("Notion: HTTP {status}, {code}: {message}"),
        (Some(text), None) | (None, Some(text)) => format!("Notion: HTTP {status}, {text}"),
        (None, None) => match snippet(&response.body) {
            body if body.is_empty() => format!("Notion: HTTP {status}"),
            body => format!("Notion: HTTP {status}: {body}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, code: &str, message: &str) -> HttpResponse {
        HttpResponse::new(status).with_body(
            serde_json::json!({"object": "error", "status": status, "code": code, "message": message,
                               "request_id": "2b5f1b0c-3c1e-4e1a-9d7e-0a3b1c2d3e4f"})
                .to_string(),
        )
    }

    fn of(response: HttpResponse) -> Result<Delivered, ActionError> {
        classify(Ok(response), 0)
    }

    #[test]
    fn a_created_page_is_delivered() {
        assert_eq!(
            of(HttpResponse::new(200)
                .with_body(r#"{"object":"page","id":"59833787-2cf9-4fdf-8782-e53db20768a5"}"#)),
            Ok(Delivered::status(200))
        );
    }

    #[test]
    fn rate_limits_wait_for_retry_after() {
        let limited = of(error(
            429,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.",
        )
        .with_header("Retry-After", "2"));
        assert_eq!(
            limited,
            Err(ActionError::rate_limited(
                "Notion: HTTP 429, rate_limited: You have been rate limited. Please try again in a few minutes."
            )
            .with_status(429)
            .with_after_ms(Some(2_000)))
        );
        let no_hint = of(error(429, "rate_limited", "slow down"));
        assert!(matches!(
            no_hint,
            Err(ActionError::RateLimited { after_ms: None, .. })
        ));
        let overload =
            of(error(529, "service_overload", "Notion is overloaded")
                .with_header("Retry-After", "5"));
        assert_eq!(
            overload,
            Err(ActionError::rate_limited(
                "Notion: HTTP 529, service_overload: Notion is overloaded"
            )
            .with_status(529)
            .with_after_ms(Some(5_000)))
        );
    }

    #[test]
    fn documented_client_errors_are_permanent_with_code_and_message() {
        for (status, code, message) in [
            (400, "invalid_json", "Error parsing JSON body."),
            (400, "invalid_request_url", "Invalid request URL"),
            (400, "invalid_request", "Unsupported request: create_page."),
            (
                400,
                "invalid_grant",
                "Invalid code: this code has been revoked.",
            ),
            (
                400,
                "validation_error",
                "body failed validation: body.properties should be defined, instead was undefined.",
            ),
            (
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be defined, instead was undefined.",
            ),
            (401, "unauthorized", "API token is invalid."),
            (
                403,
                "restricted_resource",
                "API token does not have access to this resource.",
            ),
            (
                404,
                "object_not_found",
                "Could not find database with ID: be907abe-510e-4116-a3d1-7ea71018c06f. Make sure the relevant pages and databases are shared with your integration.",
            ),
        ] {
            assert_eq!(
                of(error(status, code, message)),
                Err(
                    ActionError::permanent(format!("Notion: HTTP {status}, {code}: {message}"))
                        .with_status(status)
                ),
            );
        }
        assert_eq!(
            of(HttpResponse::new(413).with_body("<html>\n too large</html>")),
            Err(
                ActionError::permanent("Notion: HTTP 413: <html> too large</html>")
                    .with_status(413)
            )
        );
    }

    #[test]
    fn conflicts_and_server_errors_are_retryable() {
        assert_eq!(
            of(error(409, "conflict_error", "Conflict occurred while saving. Please try again.")),
            Err(ActionError::retryable(
                "Notion: HTTP 409, conflict_error: Conflict occurred while saving. Please try again."
            )
            .with_status(409))
        );
        for (status, code) in [
            (500, "internal_server_error"),
            (502, "bad_gateway"),
            (503, "service_unavailable"),
            (503, "database_connection_unavailable"),
            (504, "gateway_timeout"),
        ] {
            assert_eq!(
                of(error(status, code, "Try again later.")),
                Err(ActionError::retryable(format!(
                    "Notion: HTTP {status}, {code}: Try again later."
                ))
                .with_status(status)),
            );
        }
        assert_eq!(
            of(HttpResponse::new(502)),
            Err(ActionError::retryable("Notion: HTTP 502").with_status(502))
        );
        let later = of(error(503, "service_unavailable", "x").with_header("Retry-After", "3"));
        assert_eq!(later.unwrap_err().after_ms(), Some(3_000));
        assert!(matches!(
            of(HttpResponse::new(408)),
            Err(ActionError::Retryable { .. })
        ));
        assert_eq!(
            of(HttpResponse::new(410)),
            Err(ActionError::gone("Notion: HTTP 410").with_status(410))
        );
        assert!(matches!(
            classify(Err(HttpError::Timeout("read".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Connect("refused".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
    }
}
