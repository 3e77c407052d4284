//! Airtable's answers to a create-records call, as its Web API documentation ("Errors",
//! "Rate limits") describes them. Error bodies are `{"error": {"type": …, "message": …}}`, or
//! for a route or resource not found just `{"error": "NOT_FOUND"}`.
//!
//! | answer | result |
//! | --- | --- |
//! | 200 `{"records": [{"id": "rec…", …}]}` (any 2xx) | delivered |
//! | 429 (5 requests per second per base; "wait 30 seconds before subsequent requests will succeed") | rate limited, after `Retry-After` when given, else 30 s |
//! | 400 (the body could not be parsed as JSON) | permanent, with Airtable's type and message |
//! | 401 `AUTHENTICATION_REQUIRED` (token missing or invalid) | permanent, with type and message |
//! | 403 `NOT_AUTHORIZED`, `INVALID_PERMISSIONS`, `INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND` | permanent, with type and message |
//! | 404 `NOT_FOUND` (`{"error": "NOT_FOUND"}`: no such route, base or table) | permanent, with the type |
//! | 413 (payload too large) | permanent |
//! | 422 `INVALID_REQUEST_UNKNOWN`, `INVALID_VALUE_FOR_COLUMN`, `UNKNOWN_FIELD_NAME`, … (the record failed the base's validation) | permanent, with type and message |
//! | other 4xx (except 408) | permanent |
//! | 410 | gone: the route is disabled |
//! | 500, 502 ("safe to retry"), 503 ("retry with backoffs"), other 5xx, 408 | retryable, after `Retry-After` when given |
//! | timeouts, connection errors | retryable |

use hookgate_sdk::api::{classify_error, classify_in_words, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// How long Airtable says to wait after a 429 when it names no delay: "you will receive a 429
/// status code and will need to wait 30 seconds before subsequent requests will succeed".
pub const RATE_LIMIT_WAIT_MS: u64 = 30_000;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let status = response.status;
    match status {
        429 => Err(ActionError::rate_limited(reason(&response))
            .with_status(429)
            .with_after_ms(Some(
                retry_hint_ms(&response, now_unix_ms, &[]).unwrap_or(RATE_LIMIT_WAIT_MS),
            ))),
        // Other 4xx permanent, 408 and 5xx retried, 410 gone: the standard table, in
        // Airtable's words.
        _ => classify_in_words(&response, now_unix_ms, || reason(&response)),
    }
}

/// `Airtable: HTTP 422, INVALID_VALUE_FOR_COLUMN: Field "Amount" cannot accept …`: the error's
/// type and message from either body form, else an excerpt of the body, else the status alone.
fn reason(response: &HttpResponse) -> String {
    let status = response.status;
    let (kind, message) = error_of(&response.body);
    match (kind, message) {
        (Some(kind), Some(message)) => format!("Airtable: HTTP {status}, {kind}: {message}"),
        (Some(text), None) | (None, Some(text)) => format!("Airtable: HTTP {status}, {text}"),
        (None, None) => match snippet(&response.body) {
            body if body.is_empty() => format!("Airtable: HTTP {status}"),
            body => format!("Airtable: HTTP {status}: {body}"),
        },
    }
}

/// The error `type` and `message` of an error body: `{"error": {"type", "message"}}`,
/// `{"error": "NOT_FOUND"}` (with a top-level `message` if any), each excerpted.
fn error_of(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let text = |v: &Value| {
        v.as_str()
            .map(|s| snippet(s.as_bytes()))
            .filter(|s| !s.is_empty())
    };
    match &body["error"] {
        Value::Object(error) => (
            error.get("type").and_then(text),
            error.get("message").and_then(text),
        ),
        error @ Value::String(_) => (text(error), text(&body["message"])),
        _ => (None, text(&body["message"])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sun, 06 Nov 1994 08:49:37 GMT` in Unix milliseconds.
    const NOW_MS: u64 = 784_111_777_000;

    fn answer(status: u16, body: &str) -> Result<Delivered, ActionError> {
        classify(Ok(HttpResponse::new(status).with_body(body)), NOW_MS)
    }

    #[test]
    fn a_created_record_is_delivered() {
        assert_eq!(
            answer(
                200,
                r#"{"records":[{"id":"rec560UJdUtocSouk","createdTime":"2022-09-12T21:03:48.000Z","fields":{"Name":"Ada"}}]}"#
            ),
            Ok(Delivered::status(200))
        );
    }

    #[test]
    fn a_429_waits_30_seconds_unless_told_otherwise() {
        let limited = answer(
            429,
            r#"{"errors":[{"error":"RATE_LIMIT_REACHED","message":"Rate limit exceeded. Please try again later"}]}"#,
        );
        assert!(matches!(limited, Err(ActionError::RateLimited { .. })));
        assert_eq!(limited.unwrap_err().after_ms(), Some(RATE_LIMIT_WAIT_MS));
        assert_eq!(
            classify(Ok(HttpResponse::new(429)), NOW_MS),
            Err(ActionError::rate_limited("Airtable: HTTP 429")
                .with_status(429)
                .with_after_ms(Some(30_000)))
        );
        let told = classify(
            Ok(HttpResponse::new(429).with_header("Retry-After", "1")),
            NOW_MS,
        );
        assert_eq!(told.unwrap_err().after_ms(), Some(1_000));
        let dated = classify(
            Ok(HttpResponse::new(429).with_header("Retry-After", "Sun, 06 Nov 1994 08:49:42 GMT")),
            NOW_MS,
        );
        assert_eq!(dated.unwrap_err().after_ms(), Some(5_000));
    }

    #[test]
    fn documented_errors_are_permanent_with_type_and_message() {
        for (status, body, reason) in [
            (
                400,
                r#"{"error":{"type":"INVALID_REQUEST_BODY","message":"Could not parse request body"}}"#,
                "Airtable: HTTP 400, INVALID_REQUEST_BODY: Could not parse request body",
            ),
            (
                401,
                r#"{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}"#,
                "Airtable: HTTP 401, AUTHENTICATION_REQUIRED: Authentication required",
            ),
            (
                403,
                r#"{"error":{"type":"NOT_AUTHORIZED","message":"You are not authorized to perform this operation"}}"#,
                "Airtable: HTTP 403, NOT_AUTHORIZED: You are not authorized to perform this operation",
            ),
            (
                403,
                r#"{"error":{"type":"INVALID_PERMISSIONS","message":"You are not permitted to create records in table Leads (tblX)"}}"#,
                "Airtable: HTTP 403, INVALID_PERMISSIONS: You are not permitted to create records in table Leads (tblX)",
            ),
            (
                403,
                r#"{"error":{"type":"INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND","message":"Invalid permissions, or the requested model was not found."}}"#,
                "Airtable: HTTP 403, INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND: Invalid permissions, or the requested model was not found.",
            ),
            (
                404,
                r#"{"error":"NOT_FOUND"}"#,
                "Airtable: HTTP 404, NOT_FOUND",
            ),
            (
                404,
                r#"{"error":{"type":"NOT_FOUND","message":"Could not find table Leads in application appX"}}"#,
                "Airtable: HTTP 404, NOT_FOUND: Could not find table Leads in application appX",
            ),
            (
                413,
                r#"{"error":{"type":"REQUEST_TOO_LARGE","message":"Request body is too large"}}"#,
                "Airtable: HTTP 413, REQUEST_TOO_LARGE: Request body is too large",
            ),
            (413, "", "Airtable: HTTP 413"),
            (
                422,
                r#"{"error":{"type":"INVALID_REQUEST_UNKNOWN","message":"Invalid request: parameter validation failed. Check your request data."}}"#,
                "Airtable: HTTP 422, INVALID_REQUEST_UNKNOWN: Invalid request: parameter validation failed. Check your request data.",
            ),
            (
                422,
                r#"{"error":{"type":"INVALID_VALUE_FOR_COLUMN","message":"Field \"Amount\" cannot accept the provided value"}}"#,
                "Airtable: HTTP 422, INVALID_VALUE_FOR_COLUMN: Field \"Amount\" cannot accept the provided value",
            ),
            (
                422,
                r#"{"error":{"type":"UNKNOWN_FIELD_NAME","message":"Unknown field name: \"Amout\""}}"#,
                "Airtable: HTTP 422, UNKNOWN_FIELD_NAME: Unknown field name: \"Amout\"",
            ),
            (
                402,
                "<html>payment\r\nrequired</html>",
                "Airtable: HTTP 402: <html>payment required</html>",
            ),
        ] {
            assert_eq!(
                answer(status, body),
                Err(ActionError::permanent(reason).with_status(status)),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn server_errors_are_retryable_and_410_is_gone() {
        for status in [500, 502, 503, 504] {
            assert_eq!(
                answer(status, ""),
                Err(ActionError::retryable(format!("Airtable: HTTP {status}")).with_status(status))
            );
        }
        let busy = classify(
            Ok(HttpResponse::new(503)
                .with_header("Retry-After", "7")
                .with_body(r#"{"error":{"type":"SERVICE_UNAVAILABLE","message":"try again"}}"#)),
            NOW_MS,
        );
        assert_eq!(
            busy,
            Err(
                ActionError::retryable("Airtable: HTTP 503, SERVICE_UNAVAILABLE: try again")
                    .with_status(503)
                    .with_after_ms(Some(7_000))
            )
        );
        assert!(matches!(
            answer(408, ""),
            Err(ActionError::Retryable { .. })
        ));
        assert_eq!(
            answer(410, ""),
            Err(ActionError::gone("Airtable: HTTP 410").with_status(410))
        );
        assert!(matches!(
            classify(Err(HttpError::Timeout("read".into())), NOW_MS),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Connect("refused".into())), NOW_MS),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Refused("private address".into())), NOW_MS),
            Err(ActionError::Permanent { .. })
        ));
    }
}
