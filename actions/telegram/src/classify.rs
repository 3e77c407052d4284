//! The Bot API's answers, as its documentation describes them: every answer is JSON with
//! `ok`; a failure carries `error_code`, `description` and sometimes `parameters`.
//!
//! | answer | result |
//! | --- | --- |
//! | `{"ok": true, "result": …}` | delivered |
//! | 429 with `parameters.retry_after` | rate limited for that many seconds |
//! | 400 with `parameters.migrate_to_chat_id` (a group became a supergroup) | permanent, naming the new chat id to configure |
//! | 400 (`Bad Request: chat not found`, `… can't parse entities`), 401 (`Unauthorized`: a revoked token), 403 (`Forbidden: bot was blocked by the user`), 404, other 4xx | permanent, with Telegram's description |
//! | 5xx, timeouts, connection errors | retryable |
//!
//! The token is in the request path; nothing here ever sees or repeats the URL.

use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let status = response.status;
    let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
    if status == 200 && body.as_ref().is_some_and(|b| b["ok"] == true) {
        return Ok(Delivered::status(200));
    }
    let description = body
        .as_ref()
        .and_then(|b| b["description"].as_str())
        .map(|d| snippet(d.as_bytes()));
    let reason = match &description {
        Some(d) => format!("Telegram: HTTP {status}, {d}"),
        None => format!("Telegram: HTTP {status}"),
    };
    match status {
        429 => Err(ActionError::rate_limited(reason)
            .with_status(429)
            .with_after_ms(retry_hint_ms(
                &response,
                now_unix_ms,
                &["parameters", "retry_after"],
            ))),
        400..=499 if status != 408 && status != 410 => {
            let migrated = body
                .as_ref()
                .and_then(|b| b["parameters"]["migrate_to_chat_id"].as_i64());
            let reason = match migrated {
                Some(id) => format!("{reason} (the chat is now {id}: configure that chat_id)"),
                None => reason,
            };
            Err(ActionError::permanent(reason).with_status(status))
        }
        // A 200 that is not `ok: true`: not an answer the Bot API gives; try again.
        200 => Err(ActionError::retryable(reason).with_status(200)),
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
    fn bot_api_answers() {
        assert_eq!(
            answer(200, r#"{"ok":true,"result":{"message_id":1}}"#),
            Ok(Delivered::status(200))
        );
        assert_eq!(
            answer(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}"#
            ),
            Err(
                ActionError::rate_limited("Telegram: HTTP 429, Too Many Requests: retry after 35")
                    .with_status(429)
                    .with_after_ms(Some(35_000))
            )
        );
        assert_eq!(
            answer(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
            ),
            Err(
                ActionError::permanent("Telegram: HTTP 400, Bad Request: chat not found")
                    .with_status(400)
            )
        );
        let migrated = answer(
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}"#,
        );
        assert!(migrated.unwrap_err().reason().contains("-1001234"));
        for (status, description) in [
            (401, "Unauthorized"),
            (403, "Forbidden: bot was blocked by the user"),
            (404, "Not Found"),
        ] {
            assert!(matches!(
                answer(
                    status,
                    &format!(
                        r#"{{"ok":false,"error_code":{status},"description":"{description}"}}"#
                    )
                ),
                Err(ActionError::Permanent { .. })
            ));
        }
        assert!(matches!(
            answer(502, "<html>Bad Gateway</html>"),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            answer(200, "{}"),
            Err(ActionError::Retryable { .. })
        ));
        assert!(matches!(
            classify(Err(HttpError::Timeout("read".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
    }
}
