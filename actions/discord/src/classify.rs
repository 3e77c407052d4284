//! Discord's answers to an execute-webhook call, as its documentation describes them.
//!
//! | answer | result |
//! | --- | --- |
//! | 200 (with `wait=true`), 204 | delivered |
//! | 429 `{"retry_after": seconds, "global": …}` | rate limited for `retry_after` (else `Retry-After`) |
//! | 404 with JSON code `10015` (Unknown Webhook) | gone: the webhook was deleted, the route is disabled |
//! | 410 | gone |
//! | 400 (`{"code": 50006, "message": "Cannot send an empty message"}` …), 401, 403, other 4xx | permanent, with Discord's code and message |
//! | 5xx, timeouts, connection errors | retryable |

use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;

/// Discord's JSON error code for a webhook that does not exist (any more).
pub const UNKNOWN_WEBHOOK: i64 = 10015;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let status = response.status;
    let error: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    let code = error.as_ref().and_then(|e| e["code"].as_i64());
    let message = error
        .as_ref()
        .and_then(|e| e["message"].as_str())
        .map(|m| snippet(m.as_bytes()));
    let reason = || match (code, &message) {
        (Some(code), Some(message)) => format!("Discord: HTTP {status}, {code} {message}"),
        (None, Some(message)) => format!("Discord: HTTP {status}, {message}"),
        _ => format!("Discord: HTTP {status}"),
    };
    match status {
        429 => Err(ActionError::rate_limited(reason())
            .with_status(429)
            .with_after_ms(
                retry_hint_ms(&response, now_unix_ms, &["retry_after"])
                    .or_else(|| retry_hint_ms(&response, now_unix_ms, &[])),
            )),
        404 if code == Some(UNKNOWN_WEBHOOK) => Err(ActionError::gone(reason()).with_status(404)),
        400..=499 if status != 408 && status != 410 => {
            Err(ActionError::permanent(reason()).with_status(status))
        }
        _ => classify_response(&response, now_unix_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<Delivered, ActionError> {
        classify(Ok(HttpResponse::new(status).with_body(body)), 0)
    }

    #[test]
    fn discords_answers() {
        assert_eq!(answer(200, r#"{"id":"1"}"#), Ok(Delivered::status(200)));
        assert_eq!(answer(204, ""), Ok(Delivered::status(204)));
        assert_eq!(
            answer(
                429,
                r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#
            ),
            Err(
                ActionError::rate_limited("Discord: HTTP 429, You are being rate limited.")
                    .with_status(429)
                    .with_after_ms(Some(1_500))
            )
        );
        let header_only = classify(
            Ok(HttpResponse::new(429).with_header("Retry-After", "2")),
            0,
        );
        assert_eq!(header_only.unwrap_err().after_ms(), Some(2_000));
        assert_eq!(
            answer(404, r#"{"message":"Unknown Webhook","code":10015}"#),
            Err(ActionError::gone("Discord: HTTP 404, 10015 Unknown Webhook").with_status(404))
        );
        assert_eq!(
            answer(
                400,
                r#"{"message":"Cannot send an empty message","code":50006}"#
            ),
            Err(
                ActionError::permanent("Discord: HTTP 400, 50006 Cannot send an empty message")
                    .with_status(400)
            )
        );
        assert!(matches!(
            answer(401, r#"{"message":"401: Unauthorized","code":0}"#),
            Err(ActionError::Permanent { .. })
        ));
        assert!(matches!(
            answer(404, "not json"),
            Err(ActionError::Permanent { .. })
        ));
        assert!(matches!(answer(410, ""), Err(ActionError::Gone { .. })));
        assert!(matches!(
            answer(502, ""),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            answer(408, ""),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Connect("refused".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
    }
}
