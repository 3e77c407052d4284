//! The Sheets API's answers to `spreadsheets.values.append`, as Google documents them: errors
//! are `{"error": {"code", "message", "status"}}` with the canonical status names.
//!
//! | answer | result |
//! | --- | --- |
//! | 200 (`{"spreadsheetId", "updates": …}`) | delivered |
//! | 400 `INVALID_ARGUMENT` (a range that does not parse, a bad value), 403 `PERMISSION_DENIED` (the sheet is not shared with the service account, the API not enabled), 404 `NOT_FOUND` (no such spreadsheet), other 4xx | permanent, with the status and message |
//! | 401 `UNAUTHENTICATED` | the access token was refused: a cached one is dropped and the attempt fetches a new one once (in `lib.rs`); with a fresh token, permanent |
//! | 429 `RESOURCE_EXHAUSTED` (per-minute quotas) | rate limited, after `Retry-After` when given, else the route's schedule |
//! | 500 `INTERNAL`, 502, 503 `UNAVAILABLE`, 504 `DEADLINE_EXCEEDED`, timeouts, connection errors | retryable |
//! | 410 | gone, as for every action |

use hookgate_sdk::api::{classify_error, classify_in_words, snippet};
use hookgate_sdk::prelude::*;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let status = response.status;
    let reason = || {
        let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        let error = body.as_ref().map(|b| &b["error"]);
        let name = error.and_then(|e| e["status"].as_str());
        let message = error
            .and_then(|e| e["message"].as_str())
            .map(|m| snippet(m.as_bytes()));
        match (name, message) {
            (Some(name), Some(message)) => {
                format!("Google Sheets: HTTP {status} {name}: {message}")
            }
            (None, Some(message)) => format!("Google Sheets: HTTP {status}: {message}"),
            _ => format!("Google Sheets: HTTP {status}"),
        }
    };
    // Google's statuses mean what the standard table says (429 waits Retry-After, 5xx retried,
    // other 4xx permanent); the reason is Google's status name and message.
    classify_in_words(&response, now_unix_ms, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Delivered, ActionError> {
        classify(Ok(HttpResponse::new(status).with_body(body)), 0)
    }

    fn error(status: u16, name: &str, message: &str) -> String {
        serde_json::json!({"error": {"code": status, "message": message, "status": name}})
            .to_string()
    }

    #[test]
    fn sheets_answers() {
        assert_eq!(
            answer(200, r#"{"spreadsheetId":"s","updates":{"updatedRows":1}}"#),
            Ok(Delivered::status(200))
        );
        assert_eq!(
            answer(
                400,
                &error(400, "INVALID_ARGUMENT", "Unable to parse range: Nope!A1")
            ),
            Err(ActionError::permanent(
                "Google Sheets: HTTP 400 INVALID_ARGUMENT: Unable to parse range: Nope!A1"
            )
            .with_status(400))
        );
        for (status, name) in [
            (401, "UNAUTHENTICATED"),
            (403, "PERMISSION_DENIED"),
            (404, "NOT_FOUND"),
        ] {
            match answer(status, &error(status, name, "m")) {
                Err(ActionError::Permanent {
                    reason,
                    http_status,
                }) => {
                    assert_eq!(http_status, Some(status));
                    assert!(reason.contains(name), "{reason}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        let limited = classify(
            Ok(HttpResponse::new(429)
                .with_header("Retry-After", "7")
                .with_body(error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))),
            0,
        );
        assert_eq!(
            limited,
            Err(ActionError::rate_limited(
                "Google Sheets: HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded"
            )
            .with_status(429)
            .with_after_ms(Some(7_000)))
        );
        assert_eq!(
            answer(429, "").unwrap_err().after_ms(),
            None,
            "the route's schedule"
        );
        for status in [500, 502, 503, 504] {
            assert!(
                matches!(answer(status, ""), Err(ActionError::Retryable { .. })),
                "{status}"
            );
        }
        assert!(matches!(
            answer(408, ""),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(answer(410, ""), Err(ActionError::Gone { .. })));
        assert!(matches!(
            answer(302, ""),
            Err(ActionError::Permanent { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Connect("refused".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
    }
}
