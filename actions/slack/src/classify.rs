//! Slack's answers, as its documentation describes them.
//!
//! Incoming webhooks answer with a status and a short text code:
//!
//! | answer | result |
//! | --- | --- |
//! | 200 (`ok`) | delivered |
//! | 400 `invalid_payload`, `user_not_found`, …; 403 `action_prohibited`, `invalid_token`, …; 404 `channel_not_found`, `no_service`, … | permanent, with the code |
//! | 410 `channel_is_archived` | gone: the route is disabled |
//! | 429 | rate limited, after `Retry-After` |
//! | 5xx (`rollup_error`), timeouts, connection errors | retryable |
//!
//! The Web API (`chat.postMessage`) answers HTTP 200 with `{"ok": false, "error": …}`:
//!
//! | answer | result |
//! | --- | --- |
//! | `ok: true` | delivered |
//! | `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout` | retryable |
//! | `ratelimited` / `rate_limited`, or HTTP 429 | rate limited, after `Retry-After` |
//! | `is_archived`, `channel_is_archived` | gone: the route is disabled |
//! | anything else (`invalid_auth`, `not_authed`, `token_revoked`, `missing_scope`, `channel_not_found`, `not_in_channel`, `msg_too_long`, `invalid_blocks`, …) | permanent, with the code |
//! | HTTP 5xx, timeouts, connection errors | retryable |

use crate::config::Target;
use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;

/// The Web API's transient errors (inside an HTTP 200).
const TRANSIENT: [&str; 4] = [
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// Classifies one attempt's outcome for `target`.
pub fn classify(
    target: &Target,
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    match target {
        Target::Webhook(_) => webhook(&response, now_unix_ms),
        Target::Api { .. } => web_api(&response, now_unix_ms),
    }
}

fn webhook(response: &HttpResponse, now_unix_ms: u64) -> Result<Delivered, ActionError> {
    // Slack's status codes follow HTTP's meaning: the standard table, with its text code.
    classify_response(response, now_unix_ms).map_err(|e| match e.http_status() {
        Some(status @ 400..=499) if status != 429 && status != 410 => {
            ActionError::permanent(format!("Slack webhook: HTTP {status} {}", code(response)))
                .with_status(status)
        }
        _ => e,
    })
}

fn web_api(response: &HttpResponse, now_unix_ms: u64) -> Result<Delivered, ActionError> {
    let status = response.status;
    if status == 429 {
        return Err(ActionError::rate_limited("Slack: ratelimited (HTTP 429)")
            .with_status(429)
            .with_after_ms(retry_hint_ms(response, now_unix_ms, &[])));
    }
    if status != 200 {
        return classify_response(response, now_unix_ms);
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
        return Err(ActionError::retryable(format!(
            "Slack answered HTTP 200 without JSON: {}",
            snippet(&response.body)
        ))
        .with_status(200));
    };
    if body["ok"] == true {
        return Ok(Delivered::status(200));
    }
    let error = body["error"].as_str().unwrap_or("unknown_error");
    let reason = format!("Slack: {}", snippet(error.as_bytes()));
    let outcome = match error {
        "ratelimited" | "rate_limited" => ActionError::rate_limited(reason)
            .with_after_ms(retry_hint_ms(response, now_unix_ms, &[])),
        e if TRANSIENT.contains(&e) => ActionError::retryable(reason),
        "is_archived" | "channel_is_archived" => ActionError::gone(reason),
        _ => ActionError::permanent(reason),
    };
    Err(outcome.with_status(200))
}

/// The text code of a webhook's error answer (`invalid_payload`), or its status alone.
fn code(response: &HttpResponse) -> String {
    snippet(&response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: Target = Target::Webhook(String::new());

    fn api() -> Target {
        Target::Api {
            token: String::new(),
            channel: String::new(),
            base_url: String::new(),
        }
    }

    fn answer(status: u16, body: &str) -> Result<HttpResponse, HttpError> {
        Ok(HttpResponse::new(status).with_body(body))
    }

    #[test]
    fn webhook_answers() {
        let of = |status, body| classify(&HOOK, answer(status, body), 0);
        assert_eq!(of(200, "ok"), Ok(Delivered::status(200)));
        for (status, body) in [
            (400, "invalid_payload"),
            (400, "user_not_found"),
            (403, "action_prohibited"),
            (404, "channel_not_found"),
            (404, "no_service"),
        ] {
            assert_eq!(
                of(status, body),
                Err(
                    ActionError::permanent(format!("Slack webhook: HTTP {status} {body}"))
                        .with_status(status)
                )
            );
        }
        assert!(matches!(
            of(410, "channel_is_archived"),
            Err(ActionError::Gone { .. })
        ));
        assert!(matches!(
            of(500, "rollup_error"),
            Err(ActionError::Retryable { .. })
        ));
        let limited = classify(
            &HOOK,
            Ok(HttpResponse::new(429).with_header("Retry-After", "30")),
            0,
        );
        assert_eq!(limited.unwrap_err().after_ms(), Some(30_000));
        assert!(matches!(
            classify(&HOOK, Err(HttpError::Timeout("read".into())), 0),
            Err(ActionError::Retryable { .. })
        ));
    }

    #[test]
    fn web_api_answers_inside_http_200() {
        let of = |body: &str| classify(&api(), answer(200, body), 0);
        assert_eq!(
            of(r#"{"ok":true,"channel":"C1","ts":"1.2"}"#),
            Ok(Delivered::status(200))
        );
        assert_eq!(
            of(r#"{"ok":true,"warning":"missing_charset"}"#),
            Ok(Delivered::status(200))
        );
        for transient in TRANSIENT {
            let got = of(&format!(r#"{{"ok":false,"error":"{transient}"}}"#));
            assert_eq!(
                got,
                Err(ActionError::retryable(format!("Slack: {transient}")).with_status(200))
            );
        }
        for permanent in [
            "invalid_auth",
            "not_authed",
            "token_revoked",
            "missing_scope",
            "channel_not_found",
            "not_in_channel",
            "msg_too_long",
            "invalid_blocks",
        ] {
            assert_eq!(
                of(&format!(r#"{{"ok":false,"error":"{permanent}"}}"#)),
                Err(ActionError::permanent(format!("Slack: {permanent}")).with_status(200)),
            );
        }
        assert!(matches!(
            of(r#"{"ok":false,"error":"is_archived"}"#),
            Err(ActionError::Gone { .. })
        ));
        assert!(matches!(
            of(r#"{"ok":false,"error":"ratelimited"}"#),
            Err(ActionError::RateLimited { .. })
        ));
        assert!(matches!(of("<html>"), Err(ActionError::Retryable { .. })));
        assert!(matches!(
            of(r#"{"ok":false}"#),
            Err(ActionError::Permanent { .. })
        ));
    }

    #[test]
    fn web_api_rate_limits_and_server_errors() {
        let limited = classify(
            &api(),
            Ok(HttpResponse::new(429).with_header("Retry-After", "3")),
            0,
        );
        assert_eq!(
            limited,
            Err(ActionError::rate_limited("Slack: ratelimited (HTTP 429)")
                .with_status(429)
                .with_after_ms(Some(3_000)))
        );
        assert!(matches!(
            classify(&api(), answer(503, ""), 0),
            Err(ActionError::Retryable { .. })
        ));
    }
}
