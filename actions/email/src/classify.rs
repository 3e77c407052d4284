//! Each provider's answers to a send, as its documentation describes them. Every reason
//! starts with the provider's name and the HTTP status, then the provider's own error code and
//! message (bounded by `snippet`); it never holds the API key.
//!
//! **SendGrid** (`POST /v3/mail/send`; errors are `{"errors": [{"message", "field", "help"}]}`):
//!
//! | answer | result |
//! | --- | --- |
//! | 202 Accepted, empty body | delivered |
//! | 400 (invalid field: `from.email`, `personalizations.0.to`, …), 401 (bad key, "Maximum credits exceeded"), 403 (sender identity not verified, "temporarily blocked"), 404, 405, 406, 413 | permanent, with each error's `field` and `message` |
//! | 429 with `X-RateLimit-Reset` (a Unix time) | rate limited until the reset |
//! | 5xx, timeouts, connection errors | retryable |
//!
//! **Resend** (`POST /emails`; errors are `{"statusCode", "name", "message"}`):
//!
//! | answer | result |
//! | --- | --- |
//! | 200 `{"id"}` (also the replay of an earlier send with the same `Idempotency-Key`) | delivered |
//! | 400 `validation_error`, `invalid_idempotency_key`; 401 `missing_api_key`, `restricted_api_key`; 403 `invalid_api_key`, `validation_error` (unverified domain, testing address); 404 `not_found`; 405 `method_not_allowed`; 422 `invalid_from_address`, `missing_required_field`, `invalid_attachment`, …; 451 `security_error` | permanent, with the name and message |
//! | 409 `invalid_idempotent_request` (same key, different payload) | permanent |
//! | 409 `concurrent_idempotent_requests` (same key while the first request is in progress) | retryable |
//! | 429 `rate_limit_exceeded`, `daily_quota_exceeded`, `monthly_quota_exceeded` | rate limited, after `retry-after` (else `ratelimit-reset`) seconds |
//! | 500 `application_error`, `internal_server_error`, other 5xx, timeouts, connection errors | retryable |
//!
//! **Postmark** (`POST /email`; answers are `{"ErrorCode", "Message", …}`, `ErrorCode` 0 on
//! success):
//!
//! | answer | result |
//! | --- | --- |
//! | 200 with `ErrorCode` 0 | delivered |
//! | 422 (or any answer) with `ErrorCode` 100 (Maintenance) | retryable |
//! | `ErrorCode` 429 (Rate Limit Exceeded), or HTTP 429 | rate limited, after `Retry-After` when given |
//! | 422 with any other `ErrorCode` (300 invalid email request, 400/401 sender signature not found / not confirmed, 402/403 invalid JSON, 405 not allowed to send, 406 inactive recipient, 409 JSON required, 411 forbidden attachment type, 412 account pending, 413 account may not send, …); a 200 with a non-zero `ErrorCode` | permanent, with the `ErrorCode` and `Message` |
//! | 401 (`ErrorCode` 10, bad or missing server token), 404, 413 (payload too large), 415, other 4xx | permanent |
//! | 500, 503, other 5xx, timeouts, connection errors | retryable |
//!
//! **Mailgun** (`POST /v3/{domain}/messages`; errors are `{"message"}` or plain text):
//!
//! | answer | result |
//! | --- | --- |
//! | 200 `{"id", "message": "Queued. Thank you."}` | delivered |
//! | 400 (missing parameter, invalid address, …), 401 (bad key), 402 (request failed), 403 (access denied), 404 (domain not found, e.g. an EU domain on the US endpoint), 413 | permanent, with the message |
//! | 429 | rate limited, after `Retry-After` (else `X-RateLimit-Reset`) |
//! | 500, 502, 503, 504, timeouts, connection errors | retryable |
//!
//! For every provider, as in the standard table: a 2xx with `X-RateLimit-Remaining: 0` pauses
//! the route until the reset; 408 is retryable; 410 is gone (the route is disabled); a 3xx is
//! permanent (redirects are not followed).

use crate::config::Provider;
use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// Postmark's `ErrorCode` for "the API is offline for maintenance".
pub const POSTMARK_MAINTENANCE: i64 = 100;
/// Postmark's `ErrorCode` for "Rate Limit Exceeded".
pub const POSTMARK_RATE_LIMIT: i64 = 429;
/// Resend's name for a request sent again while the first, with the same idempotency key, is
/// still being processed: the documented action is to try again later.
pub const RESEND_CONCURRENT: &str = "concurrent_idempotent_requests";

/// Classifies one attempt's outcome for `provider`.
pub fn classify(
    provider: Provider,
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = outcome.map_err(classify_error)?;
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let body = body.as_ref();
    let text = |key: &str| body.and_then(|b| b.get(key)).and_then(Value::as_str);
    match provider {
        Provider::SendGrid => {
            let detail = body
                .and_then(|b| b.get("errors"))
                .and_then(Value::as_array)
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| match (e["field"].as_str(), e["message"].as_str()) {
                            (Some(field), Some(message)) if field != "null" => {
                                format!("{field}: {message}")
                            }
                            (_, Some(message)) => message.to_owned(),
                            _ => e.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                });
            by_status(&response, now_unix_ms, reason(provider, &response, detail))
        }
        Provider::Resend => {
            let name = text("name");
            let detail = match (name, text("message")) {
                (Some(name), Some(message)) => Some(format!("{name}: {message}")),
                (name, message) => name.or(message).map(str::to_owned),
            };
            let reason = reason(provider, &response, detail);
            if response.status == 409 && name == Some(RESEND_CONCURRENT) {
                return Err(ActionError::retryable(reason).with_status(409));
            }
            by_status(&response, now_unix_ms, reason)
        }
        Provider::Postmark => {
            let code = body
                .and_then(|b| b.get("ErrorCode"))
                .and_then(Value::as_i64);
            let detail = match (code, text("Message")) {
                (Some(code), Some(message)) => Some(format!("ErrorCode {code}: {message}")),
                (Some(code), None) => Some(format!("ErrorCode {code}")),
                (None, message) => message.map(str::to_owned),
            };
            let reason = reason(provider, &response, detail);
            let status = response.status;
            let success = (200..=299).contains(&status);
            let error = match code {
                Some(POSTMARK_MAINTENANCE) => ActionError::retryable(reason),
                Some(POSTMARK_RATE_LIMIT) => ActionError::rate_limited(reason)
                    .with_after_ms(retry_hint_ms(&response, now_unix_ms, &[])),
                // A refusal inside a 2xx is still a refusal.
                Some(code) if success && code != 0 => ActionError::permanent(reason),
                _ => return by_status(&response, now_unix_ms, reason),
            };
            Err(error.with_status(status))
        }
        Provider::Mailgun => {
            let detail = text("message").map(str::to_owned);
            by_status(&response, now_unix_ms, reason(provider, &response, detail))
        }
    }
}

/// `Postmark: HTTP 422, ErrorCode 300: Invalid email request`: the provider's `detail` when
/// its body had one, else an excerpt of the body, else the status alone.
fn reason(provider: Provider, response: &HttpResponse, detail: Option<String>) -> String {
    let label = provider.label();
    let status = response.status;
    let detail = match detail {
        Some(detail) => snippet(detail.as_bytes()),
        None => snippet(&response.body),
    };
    if detail.is_empty() {
        format!("{label}: HTTP {status}")
    } else {
        format!("{label}: HTTP {status}, {detail}")
    }
}

/// The outcome by status, with the provider's `reason`: the four providers' statuses keep
/// HTTP's meaning, so the standard table applies, but a 429 also reads the reset headers.
fn by_status(
    response: &HttpResponse,
    now_unix_ms: u64,
    reason: String,
) -> Result<Delivered, ActionError> {
    match response.status {
        429 => Err(ActionError::rate_limited(reason)
            .with_status(429)
            .with_after_ms(retry_hint_ms(response, now_unix_ms, &[]))),
        400..=599 => classify_response(response, now_unix_ms).map_err(|e| e.with_reason(reason)),
        // 2xx (with its quota pause), 3xx and the odd status: the standard table.
        _ => classify_response(response, now_unix_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2023-11-14T22:13:20Z in Unix milliseconds.
    const NOW_MS: u64 = 1_700_000_000_000;

    fn answer(provider: Provider, status: u16, body: &str) -> Result<Delivered, ActionError> {
        classify(
            provider,
            Ok(HttpResponse::new(status).with_body(body)),
            NOW_MS,
        )
    }

    fn permanent(reason: &str, status: u16) -> Result<Delivered, ActionError> {
        Err(ActionError::permanent(reason).with_status(status))
    }

    #[test]
    fn transport_failures_are_retried_for_every_provider() {
        for provider in Provider::ALL {
            assert!(matches!(
                classify(provider, Err(HttpError::Timeout("read".into())), NOW_MS),
                Err(ActionError::Retryable { .. })
            ));
            assert!(matches!(
                classify(provider, Err(HttpError::Connect("refused".into())), NOW_MS),
                Err(ActionError::Retryable { .. })
            ));
            assert!(matches!(
                classify(provider, Err(HttpError::Refused("private".into())), NOW_MS),
                Err(ActionError::Permanent { .. })
            ));
            assert!(matches!(
                answer(provider, 410, ""),
                Err(ActionError::Gone { .. })
            ));
            assert!(matches!(
                answer(provider, 408, ""),
                Err(ActionError::Retryable { .. })
            ));
            assert!(matches!(
                answer(provider, 301, ""),
                Err(ActionError::Permanent { .. })
            ));
            // The quota is spent: the route pauses until the reset.
            let spent = HttpResponse::new(200)
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("X-RateLimit-Reset", "2");
            assert_eq!(
                classify(provider, Ok(spent), NOW_MS).unwrap().pause_ms,
                Some(2_000)
            );
        }
    }

    #[test]
    fn sendgrid_answers() {
        let of = |status: u16, body: &str| answer(Provider::SendGrid, status, body);
        assert_eq!(of(202, ""), Ok(Delivered::status(202)));
        assert_eq!(
            of(
                400,
                r#"{"errors":[{"message":"The from email does not contain a valid address.","field":"from.email","help":"http://sendgrid.com/docs/x"}]}"#
            ),
            permanent(
                "SendGrid: HTTP 400, from.email: The from email does not contain a valid address.",
                400
            )
        );
        assert_eq!(
            of(
                400,
                r#"{"errors":[{"message":"a","field":"subject"},{"message":"b","field":null}]}"#
            ),
            permanent("SendGrid: HTTP 400, subject: a; b", 400)
        );
        assert_eq!(
            of(
                401,
                r#"{"errors":[{"field":null,"message":"The provided authorization grant is invalid, expired, or revoked"}]}"#
            ),
            permanent(
                "SendGrid: HTTP 401, The provided authorization grant is invalid, expired, or revoked",
                401
            )
        );
        for status in [403, 404, 405, 406, 413] {
            assert_eq!(
                of(
                    status,
                    r#"{"errors":[{"message":"access forbidden","field":"null"}]}"#
                ),
                permanent(
                    &format!("SendGrid: HTTP {status}, access forbidden"),
                    status
                )
            );
        }
        // X-RateLimit-Reset is a Unix time: 30 s from now.
        let limited = classify(
            Provider::SendGrid,
            Ok(HttpResponse::new(429)
                .with_header("X-RateLimit-Limit", "600")
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("X-RateLimit-Reset", "1700000030")
                .with_body(r#"{"errors":[{"field":null,"message":"too many requests"}]}"#)),
            NOW_MS,
        );
        assert_eq!(
            limited,
            Err(
                ActionError::rate_limited("SendGrid: HTTP 429, too many requests")
                    .with_status(429)
                    .with_after_ms(Some(30_000))
            )
        );
        assert_eq!(
            of(500, r#"{"errors":[{"message":"internal server error"}]}"#),
            Err(
                ActionError::retryable("SendGrid: HTTP 500, internal server error")
                    .with_status(500)
            )
        );
        let unavailable = classify(
            Provider::SendGrid,
            Ok(HttpResponse::new(503).with_header("Retry-After", "5")),
            NOW_MS,
        );
        assert_eq!(unavailable.unwrap_err().after_ms(), Some(5_000));
    }

    #[test]
    fn resend_answers() {
        let of = |status: u16, body: &str| answer(Provider::Resend, status, body);
        assert_eq!(
            of(200, r#"{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}"#),
            Ok(Delivered::status(200))
        );
        for (status, name, message) in [
            (400, "validation_error", "Invalid `to` field."),
            (
                400,
                "invalid_idempotency_key",
                "The key must be between 1-256 chars.",
            ),
            (
                401,
                "missing_api_key",
                "Missing API key in the authorization header.",
            ),
            (
                401,
                "restricted_api_key",
                "This API key is restricted to only send emails.",
            ),
            (403, "invalid_api_key", "API key is invalid."),
            (
                403,
                "validation_error",
                "The example.com domain is not verified.",
            ),
            (404, "not_found", "The requested endpoint does not exist."),
            (
                405,
                "method_not_allowed",
                "Method is not allowed for the requested path.",
            ),
            (
                409,
                "invalid_idempotent_request",
                "Same idempotency key used with a different request payload.",
            ),
            (422, "invalid_from_address", "Invalid `from` field."),
            (422, "missing_required_field", "Missing `to` field."),
            (
                422,
                "invalid_attachment",
                "Attachment must have either a `content` or `path`.",
            ),
            (
                451,
                "security_error",
                "We may have found a security issue with the request.",
            ),
        ] {
            assert_eq!(
                of(
                    status,
                    &format!(r#"{{"statusCode":{status},"name":"{name}","message":"{message}"}}"#)
                ),
                permanent(&format!("Resend: HTTP {status}, {name}: {message}"), status),
                "{name}"
            );
        }
        assert_eq!(
            of(
                409,
                r#"{"statusCode":409,"name":"concurrent_idempotent_requests","message":"Same idempotency key used while original request is still in progress."}"#
            ),
            Err(ActionError::retryable(
                "Resend: HTTP 409, concurrent_idempotent_requests: Same idempotency key used while original request is still in progress."
            )
            .with_status(409))
        );
        for name in [
            "rate_limit_exceeded",
            "daily_quota_exceeded",
            "monthly_quota_exceeded",
        ] {
            let limited = classify(
                Provider::Resend,
                Ok(HttpResponse::new(429)
                    .with_header("ratelimit-limit", "2")
                    .with_header("ratelimit-remaining", "0")
                    .with_header("ratelimit-reset", "1")
                    .with_header("retry-after", "2")
                    .with_body(format!(
                        r#"{{"statusCode":429,"name":"{name}","message":"Too many requests."}}"#
                    ))),
                NOW_MS,
            );
            assert_eq!(
                limited,
                Err(ActionError::rate_limited(format!(
                    "Resend: HTTP 429, {name}: Too many requests."
                ))
                .with_status(429)
                .with_after_ms(Some(2_000)))
            );
        }
        // Without retry-after, ratelimit-reset (seconds until the reset) names the wait.
        let reset_only = classify(
            Provider::Resend,
            Ok(HttpResponse::new(429).with_header("ratelimit-reset", "3")),
            NOW_MS,
        );
        assert_eq!(reset_only.unwrap_err().after_ms(), Some(3_000));
        for (status, name) in [
            (500, "application_error"),
            (500, "internal_server_error"),
            (502, "x"),
        ] {
            assert!(matches!(
                of(
                    status,
                    &format!(
                        r#"{{"statusCode":{status},"name":"{name}","message":"An unexpected error occurred."}}"#
                    )
                ),
                Err(ActionError::Retryable { .. })
            ));
        }
    }

    #[test]
    fn postmark_answers() {
        let of = |status: u16, body: &str| answer(Provider::Postmark, status, body);
        assert_eq!(
            of(
                200,
                r#"{"To":"a@example.com","SubmittedAt":"2023-11-14T22:13:20Z","MessageID":"0a129aee-e1cd-480d-b08d-4f48548ff48d","ErrorCode":0,"Message":"OK"}"#
            ),
            Ok(Delivered::status(200))
        );
        for (code, message) in [
            (300, "Invalid 'From' address: 'nobody'."),
            (400, "Sender signature not found."),
            (401, "Sender signature not confirmed."),
            (402, "Invalid JSON."),
            (403, "Incompatible JSON."),
            (405, "Not allowed to send."),
            (
                406,
                "You tried to send to a recipient that has been marked as inactive.",
            ),
            (409, "JSON required."),
            (411, "Forbidden attachment type."),
            (412, "Account is pending."),
            (413, "Account may not send."),
        ] {
            assert_eq!(
                of(
                    422,
                    &format!(r#"{{"ErrorCode":{code},"Message":"{message}"}}"#)
                ),
                permanent(
                    &format!("Postmark: HTTP 422, ErrorCode {code}: {message}"),
                    422
                ),
            );
        }
        assert_eq!(
            of(
                401,
                r#"{"ErrorCode":10,"Message":"The Server Token you provided in the X-Postmark-Server-Token request header was invalid."}"#
            ),
            permanent(
                "Postmark: HTTP 401, ErrorCode 10: The Server Token you provided in the X-Postmark-Server-Token request header was invalid.",
                401
            )
        );
        assert_eq!(
            of(422, r#"{"ErrorCode":100,"Message":"Maintenance"}"#),
            Err(
                ActionError::retryable("Postmark: HTTP 422, ErrorCode 100: Maintenance")
                    .with_status(422)
            )
        );
        assert_eq!(
            of(
                200,
                r#"{"ErrorCode":406,"Message":"Inactive recipient","MessageID":"00000000-0000-0000-0000-000000000000"}"#
            ),
            permanent("Postmark: HTTP 200, ErrorCode 406: Inactive recipient", 200)
        );
        let limited = classify(
            Provider::Postmark,
            Ok(HttpResponse::new(429)
                .with_header("Retry-After", "4")
                .with_body(r#"{"ErrorCode":429,"Message":"Rate limit exceeded"}"#)),
            NOW_MS,
        );
        assert_eq!(
            limited,
            Err(ActionError::rate_limited(
                "Postmark: HTTP 429, ErrorCode 429: Rate limit exceeded"
            )
            .with_status(429)
            .with_after_ms(Some(4_000)))
        );
        assert!(matches!(
            of(422, r#"{"ErrorCode":429,"Message":"Rate limit exceeded"}"#),
            Err(ActionError::RateLimited { after_ms: None, .. })
        ));
        assert!(matches!(of(429, ""), Err(ActionError::RateLimited { .. })));
        for status in [404, 413, 415] {
            assert!(matches!(of(status, ""), Err(ActionError::Permanent { .. })));
        }
        for status in [500, 503] {
            assert!(matches!(
                of(
                    status,
                    r#"{"ErrorCode":0,"Message":"Internal server error"}"#
                ),
                Err(ActionError::Retryable { .. })
            ));
        }
        assert_eq!(
            of(503, "<html>down</html>"),
            Err(ActionError::retryable("Postmark: HTTP 503, <html>down</html>").with_status(503))
        );
    }

    #[test]
    fn mailgun_answers() {
        let of = |status: u16, body: &str| answer(Provider::Mailgun, status, body);
        assert_eq!(
            of(
                200,
                r#"{"id":"<20231114221320.1.ABC@mg.example.com>","message":"Queued. Thank you."}"#
            ),
            Ok(Delivered::status(200))
        );
        assert_eq!(
            of(
                400,
                r#"{"message":"to parameter is not a valid address. please check documentation"}"#
            ),
            permanent(
                "Mailgun: HTTP 400, to parameter is not a valid address. please check documentation",
                400
            )
        );
        assert_eq!(
            of(401, "Forbidden"),
            permanent("Mailgun: HTTP 401, Forbidden", 401)
        );
        for (status, message) in [
            (402, "Request failed"),
            (
                403,
                "Domain mg.example.com is not allowed to send: Free accounts are for test purposes only.",
            ),
            (404, "Domain not found: mg.example.com"),
            (413, "Request entity too large"),
        ] {
            assert_eq!(
                of(status, &format!(r#"{{"message":"{message}"}}"#)),
                permanent(&format!("Mailgun: HTTP {status}, {message}"), status)
            );
        }
        let limited = classify(
            Provider::Mailgun,
            Ok(HttpResponse::new(429)
                .with_header("Retry-After", "7")
                .with_body(r#"{"message":"Too many requests"}"#)),
            NOW_MS,
        );
        assert_eq!(
            limited,
            Err(
                ActionError::rate_limited("Mailgun: HTTP 429, Too many requests")
                    .with_status(429)
                    .with_after_ms(Some(7_000))
            )
        );
        for status in [500, 502, 503, 504] {
            assert!(matches!(of(status, ""), Err(ActionError::Retryable { .. })));
        }
    }
}
