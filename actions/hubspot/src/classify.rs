//! HubSpot's answers to a CRM v3 batch upsert, as its documentation ("Error handling", "API
//! usage guidelines and limits", the batch upsert reference) describes them. Errors are JSON
//! `{"status": "error", "message", "correlationId", "category", "errors": [...]}` (every field
//! optional); the reason carries the category, the message and the correlation id.
//!
//! | answer | result |
//! | --- | --- |
//! | 200 (`"status": "COMPLETE"`, the record in `results`), 201 | delivered |
//! | a 2xx with `X-HubSpot-RateLimit-Remaining: 0` | delivered, and the route pauses for `X-HubSpot-RateLimit-Interval-Milliseconds` (the rolling window the quota counts, 10 s when absent) so that the next request does not meet a 429 |
//! | 207 Multi-Status with `errors` (with one input, that input failed) | by the error's `category`: `RATE_LIMITS` is rate limited as a 429 is; any other (`VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, `CONFLICT`, …) is permanent with it |
//! | 207 without errors | delivered |
//! | 429 (`category: RATE_LIMITS` or `errorType: RATE_LIMIT`, `policyName: TEN_SECONDLY_ROLLING` / `SECONDLY`) | rate limited: after `Retry-After` when given, else the rolling window `X-HubSpot-RateLimit-Interval-Milliseconds` |
//! | 429 with `policyName: DAILY` | rate limited: after `Retry-After` when given; else no wait is named (the daily limit resets at midnight in the account's time zone, which the answer does not say), so the route's schedule |
//! | 423 Locked (a burst of upserts locked the records) | retryable after 2 s (HubSpot's locks last 2 seconds) |
//! | 477 Migration in Progress (the account moves between data hosting locations) | retryable after `Retry-After` |
//! | 400 `VALIDATION_ERROR`, 401 `INVALID_AUTHENTICATION` (a revoked or wrong token), 403 `MISSING_SCOPES` (the app lacks `crm.objects.*.write`), 404 `OBJECT_NOT_FOUND`, 409 `CONFLICT`, other 4xx | permanent, with the category and message |
//! | 410 | gone: the route is disabled |
//! | 408, 5xx (502/504 when HubSpot's processing limits are met, 503, 521–524) | retryable, after `Retry-After` when given |
//! | timeouts, connection errors | retryable |

use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;
use serde_json::Value;

/// The header with the requests left in the rolling window.
pub const REMAINING: &str = "x-hubspot-ratelimit-remaining";
/// The header with the rolling window's length, in milliseconds.
pub const INTERVAL_MS: &str = "x-hubspot-ratelimit-interval-milliseconds";
/// The rolling window when the answer does not name it: HubSpot's burst limits count requests
/// per 10 seconds.
pub const DEFAULT_INTERVAL_MS: u64 = 10_000;
/// How long HubSpot's record locks last (a 423 Locked).
pub const LOCK_MS: u64 = 2_000;
/// HubSpot's rate-limit error category.
pub const RATE_LIMITS: &str = "RATE_LIMITS";

/// Classifies one attempt's outcome.
pub fn classify(
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    // A standard reason (a transport error, a redirect), with HubSpot's name in front.
    let prefixed = |e: ActionError| {
        let reason = format!("HubSpot: {}", e.reason());
        e.with_reason(reason)
    };
    let response = outcome.map_err(|e| prefixed(classify_error(e)))?;
    let status = response.status;
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let reason = || describe(status, body.as_ref(), &response.body);
    match status {
        207 => multi_status(&response, body.as_ref(), now_unix_ms),
        200..=299 => Ok(Delivered::status(status).with_pause_ms(quota_spent_ms(&response))),
        429 => Err(rate_limited(
            &response,
            body.as_ref(),
            reason(),
            now_unix_ms,
        )),
        423 => Err(ActionError::retryable(reason())
            .with_status(423)
            .with_after_ms(Some(
                retry_hint_ms(&response, now_unix_ms, &[]).unwrap_or(LOCK_MS),
            ))),
        477 => Err(ActionError::retryable(reason())
            .with_status(477)
            .with_after_ms(retry_hint_ms(&response, now_unix_ms, &[]))),
        400..=499 if status != 408 && status != 410 => {
            Err(ActionError::permanent(reason()).with_status(status))
        }
        // A redirect keeps the standard reason, which names the target.
        300..=399 => classify_response(&response, now_unix_ms).map_err(prefixed),
        _ => classify_response(&response, now_unix_ms).map_err(|e| e.with_reason(reason())),
    }
}

/// A 207: with one input, an entry in `errors` means it failed.
fn multi_status(
    response: &HttpResponse,
    body: Option<&Value>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let Some(error) = body
        .and_then(|b| b["errors"].as_array())
        .and_then(|errors| errors.first())
    else {
        return Ok(Delivered::status(207).with_pause_ms(quota_spent_ms(response)));
    };
    let reason = format!(
        "HubSpot: HTTP 207, the record was not upserted: {}",
        detail(error).unwrap_or_else(|| "an unspecified error".into())
    );
    if category(error) == Some(RATE_LIMITS) {
        Err(rate_limited(response, Some(error), reason, now_unix_ms))
    } else {
        Err(ActionError::permanent(reason).with_status(207))
    }
}

/// A rate-limit answer: the wait `Retry-After` names, else the rolling window's length; none
/// for the daily limit, whose reset the answer does not give.
fn rate_limited(
    response: &HttpResponse,
    error: Option<&Value>,
    reason: String,
    now_unix_ms: u64,
) -> ActionError {
    let daily = error.and_then(|e| e["policyName"].as_str()) == Some("DAILY");
    let wait = retry_hint_ms(response, now_unix_ms, &[])
        .or_else(|| (!daily).then(|| interval_ms(response).unwrap_or(DEFAULT_INTERVAL_MS)));
    ActionError::rate_limited(reason)
        .with_status(response.status)
        .with_after_ms(wait)
}

/// The pause a successful answer asks for: the rolling window's length when it says no
/// request is left in it.
pub fn quota_spent_ms(response: &HttpResponse) -> Option<u64> {
    let remaining = response.header(REMAINING)?;
    (remaining.trim() == "0").then(|| interval_ms(response).unwrap_or(DEFAULT_INTERVAL_MS))
}

fn interval_ms(response: &HttpResponse) -> Option<u64> {
    response
        .header(INTERVAL_MS)?
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms > 0)
}

/// The error's category (`errorType` in the older rate-limit answers).
fn category(error: &Value) -> Option<&str> {
    error["category"]
        .as_str()
        .or_else(|| error["errorType"].as_str())
        .map(|c| if c == "RATE_LIMIT" { RATE_LIMITS } else { c })
}

/// `CATEGORY (POLICY): message (correlationId …)`, from whichever fields the error has.
fn detail(error: &Value) -> Option<String> {
    let text = |key: &str| error[key].as_str().map(|s| snippet(s.as_bytes()));
    let mut out = Vec::new();
    if let Some(category) = error["category"]
        .as_str()
        .or_else(|| error["errorType"].as_str())
    {
        out.push(snippet(category.as_bytes()));
    }
    if let Some(policy) = text("policyName") {
        out.push(format!("({policy})"));
    }
    let mut line = out.join(" ");
    if let Some(message) = text("message") {
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&message);
    }
    if let Some(id) = text("correlationId") {
        line.push_str(&format!(" (correlationId {id})"));
    }
    let line = line.trim().to_owned();
    (!line.is_empty()).then_some(line)
}

fn describe(status: u16, body: Option<&Value>, raw: &[u8]) -> String {
    match body.and_then(detail) {
        Some(detail) => format!("HubSpot: HTTP {status} {detail}"),
        None if body.is_none() && !raw.is_empty() => {
            format!("HubSpot: HTTP {status}: {}", snippet(raw))
        }
        None => format!("HubSpot: HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Sun, 06 Nov 1994 08:49:37 GMT` in Unix milliseconds.
    const NOW_MS: u64 = 784_111_777_000;

    fn answer(response: HttpResponse) -> Result<Delivered, ActionError> {
        classify(Ok(response), NOW_MS)
    }

    fn json(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status)
            .with_header("content-type", "application/json;charset=utf-8")
            .with_body(body)
    }

    const UPSERTED: &str = r#"{"status":"COMPLETE","results":[{"id":"512","properties":{"email":"ada@example.com"},"new":true}],"startedAt":"2024-01-01T00:00:00Z","completedAt":"2024-01-01T00:00:01Z"}"#;

    #[test]
    fn successes_are_delivered() {
        assert_eq!(answer(json(200, UPSERTED)), Ok(Delivered::status(200)));
        assert_eq!(answer(json(201, UPSERTED)), Ok(Delivered::status(201)));
        let left = json(200, UPSERTED)
            .with_header("X-HubSpot-RateLimit-Max", "190")
            .with_header("X-HubSpot-RateLimit-Remaining", "12")
            .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        assert_eq!(answer(left), Ok(Delivered::status(200)));
    }

    #[test]
    fn a_spent_quota_pauses_the_route_before_the_429() {
        let spent = json(200, UPSERTED)
            .with_header("X-HubSpot-RateLimit-Max", "190")
            .with_header("X-HubSpot-RateLimit-Remaining", "0")
            .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        assert_eq!(
            answer(spent),
            Ok(Delivered::status(200).with_pause_ms(Some(10_000)))
        );
        let no_interval = json(200, UPSERTED).with_header("X-HubSpot-RateLimit-Remaining", "0");
        assert_eq!(
            answer(no_interval),
            Ok(Delivered::status(200).with_pause_ms(Some(DEFAULT_INTERVAL_MS)))
        );
        let short = json(201, UPSERTED)
            .with_header("x-hubspot-ratelimit-remaining", " 0 ")
            .with_header("x-hubspot-ratelimit-interval-milliseconds", "1500");
        assert_eq!(
            answer(short),
            Ok(Delivered::status(201).with_pause_ms(Some(1_500)))
        );
    }

    #[test]
    fn a_multi_status_error_fails_the_one_input_by_its_category() {
        let invalid = json(
            207,
            r#"{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: lifecyclestage","context":{"id":["ada@example.com"]}}]}"#,
        );
        assert_eq!(
            answer(invalid),
            Err(ActionError::permanent(
                "HubSpot: HTTP 207, the record was not upserted: VALIDATION_ERROR: Property values were not valid: lifecyclestage"
            )
            .with_status(207))
        );
        let limited = json(
            207,
            r#"{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"RATE_LIMITS","message":"You have reached your ten_secondly_rolling limit."}]}"#,
        )
        .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        assert_eq!(
            answer(limited),
            Err(ActionError::rate_limited(
                "HubSpot: HTTP 207, the record was not upserted: RATE_LIMITS: You have reached your ten_secondly_rolling limit."
            )
            .with_status(207)
            .with_after_ms(Some(10_000)))
        );
        let empty = json(
            207,
            r#"{"status":"COMPLETE","results":[{"id":"1"}],"errors":[]}"#,
        );
        assert_eq!(answer(empty), Ok(Delivered::status(207)));
        let unnamed = answer(json(207, r#"{"errors":[{}]}"#)).unwrap_err();
        assert_eq!(
            unnamed.reason(),
            "HubSpot: HTTP 207, the record was not upserted: an unspecified error"
        );
    }

    #[test]
    fn rate_limits_wait_for_the_window_or_retry_after() {
        let rolling = json(
            429,
            r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee00-1","policyName":"TEN_SECONDLY_ROLLING"}"#,
        )
        .with_header("X-HubSpot-RateLimit-Remaining", "0")
        .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        assert_eq!(
            answer(rolling),
            Err(ActionError::rate_limited(
                "HubSpot: HTTP 429 RATE_LIMIT (TEN_SECONDLY_ROLLING): You have reached your ten_secondly_rolling limit. (correlationId c0ffee00-1)"
            )
            .with_status(429)
            .with_after_ms(Some(10_000)))
        );
        let told = json(
            429,
            r#"{"status":"error","category":"RATE_LIMITS","message":"You have reached your secondly limit.","policyName":"SECONDLY"}"#,
        )
        .with_header("Retry-After", "3")
        .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        assert_eq!(answer(told).unwrap_err().after_ms(), Some(3_000));
        let bare = answer(HttpResponse::new(429)).unwrap_err();
        assert!(matches!(bare, ActionError::RateLimited { .. }), "{bare}");
        assert_eq!(bare.after_ms(), Some(DEFAULT_INTERVAL_MS));
        let daily = json(
            429,
            r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#,
        )
        .with_header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        let daily = answer(daily).unwrap_err();
        assert!(matches!(daily, ActionError::RateLimited { .. }), "{daily}");
        assert_eq!(daily.after_ms(), None, "the daily reset is not named");
        let daily_told = json(429, r#"{"policyName":"DAILY"}"#).with_header("Retry-After", "60");
        assert_eq!(answer(daily_told).unwrap_err().after_ms(), Some(60_000));
    }

    #[test]
    fn locks_and_migrations_are_retried_after_their_wait() {
        let locked = answer(json(423, r#"{"status":"error","message":"Locked"}"#));
        assert_eq!(
            locked,
            Err(ActionError::retryable("HubSpot: HTTP 423 Locked")
                .with_status(423)
                .with_after_ms(Some(2_000)))
        );
        let migrating = answer(
            json(
                477,
                r#"{"status":"error","message":"Migration in progress"}"#,
            )
            .with_header("Retry-After", "3600"),
        );
        assert_eq!(
            migrating,
            Err(
                ActionError::retryable("HubSpot: HTTP 477 Migration in progress")
                    .with_status(477)
                    .with_after_ms(Some(3_600_000))
            )
        );
    }

    #[test]
    fn refusals_are_permanent_with_the_category_and_message() {
        for (status, category, message) in [
            (400, "VALIDATION_ERROR", "Property values were not valid"),
            (
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found.",
            ),
            (
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call.",
            ),
            (404, "OBJECT_NOT_FOUND", "Object not found."),
            (409, "CONFLICT", "Contact already exists."),
        ] {
            let body = format!(
                r#"{{"status":"error","message":"{message}","correlationId":"4a5b-6c","category":"{category}"}}"#
            );
            assert_eq!(
                answer(json(status, &body)),
                Err(ActionError::permanent(format!(
                    "HubSpot: HTTP {status} {category}: {message} (correlationId 4a5b-6c)"
                ))
                .with_status(status)),
            );
        }
        assert_eq!(
            answer(HttpResponse::new(405).with_body("Method Not Allowed")),
            Err(ActionError::permanent("HubSpot: HTTP 405: Method Not Allowed").with_status(405))
        );
    }

    #[test]
    fn gone_server_errors_and_transport_errors() {
        assert!(matches!(
            answer(HttpResponse::new(410)),
            Err(ActionError::Gone { .. })
        ));
        for status in [408, 500, 502, 503, 504, 521, 522, 523, 524] {
            let got = answer(json(
                status,
                r#"{"status":"error","message":"Internal error"}"#,
            ));
            assert_eq!(
                got,
                Err(
                    ActionError::retryable(format!("HubSpot: HTTP {status} Internal error"))
                        .with_status(status)
                ),
            );
        }
        let moved =
            answer(HttpResponse::new(301).with_header("Location", "https://api.hubspot.com/"));
        assert_eq!(
            moved,
            Err(ActionError::permanent(
                "HubSpot: HTTP 301: redirect to https://api.hubspot.com/ not followed"
            )
            .with_status(301))
        );
        let busy = answer(HttpResponse::new(503).with_header("Retry-After", "5"));
        assert_eq!(busy.unwrap_err().after_ms(), Some(5_000));
        assert_eq!(
            classify(
                Err(HttpError::Timeout("reading the response".into())),
                NOW_MS
            ),
            Err(ActionError::retryable(
                "HubSpot: timed out: reading the response"
            ))
        );
        assert!(matches!(
            classify(Err(HttpError::Refused("private address".into())), NOW_MS),
            Err(ActionError::Permanent { .. })
        ));
    }

    #[test]
    fn an_echoed_token_is_redacted() {
        let echoed = answer(json(
            401,
            r#"{"status":"error","message":"The token pat-na1-SECRET is invalid","category":"INVALID_AUTHENTICATION"}"#,
        ))
        .unwrap_err();
        // As `run` cleans every failure.
        let clean = echoed.redacting(["pat-na1-SECRET"]);
        assert_eq!(
            clean.reason(),
            "HubSpot: HTTP 401 INVALID_AUTHENTICATION: The token [redacted] is invalid"
        );
        assert_eq!(clean.http_status(), Some(401));
        let plain = ActionError::permanent("HubSpot: HTTP 400");
        assert_eq!(plain.clone().redacting(["pat-na1-SECRET"]), plain);
    }
}
