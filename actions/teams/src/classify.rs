//! The answers of a Power Automate "Workflows" webhook trigger ("When a Teams webhook request is
//! received", the HTTP request trigger of Azure Logic Apps underneath), as Microsoft documents
//! them. Errors come as `{"error": {"code": "…", "message": "…"}}`.
//!
//! | answer | result |
//! | --- | --- |
//! | 202 Accepted (the trigger fired; a flow without a Response action answers at once, before it posts the card), other 2xx (a flow with its own Response action) | delivered |
//! | 400 (`TriggerInputSchemaMismatch`, `InvalidRequestContent`, …: the body does not match the trigger's schema) | permanent, with the code and message |
//! | 401, 403 (`DirectApiInvalidAuthorizationSignature`, `DirectApiAuthorizationRequired`, …: a wrong `sig`, or a flow that only "any user in my tenant" may trigger) | permanent, with the code and message |
//! | 404 (`WorkflowNotFound`, `TriggerNotFound`: the flow was deleted, or turned off) | permanent: Microsoft does not document an answer that tells a deleted flow from one turned off, which works again under the same URL once turned back on; so the delivery is dead-lettered (replay it once the flow runs) and the route stays enabled |
//! | 410 | gone: the route is disabled |
//! | 429 (Power Automate's throttling of a flow's trigger and action requests) | rate limited, after `Retry-After` |
//! | 408, 5xx (502, 503; 504 when a flow with a Response action did not answer in time) | retryable, after `Retry-After` when given |
//! | timeouts, connection errors | retryable |
//!
//! The webhook URL is the credential (its `sig` query parameter is a shared access signature):
//! reasons name the URL's host only, and [`redact`] removes the URL and its signature from a
//! reason should an answer ever echo them.

use hookgate_sdk::api::{classify_error, classify_response, retry_hint_ms, snippet};
use hookgate_sdk::prelude::*;

/// Classifies one attempt's outcome; `host` (the webhook URL's host) names the destination.
pub fn classify(
    host: &str,
    outcome: Result<HttpResponse, HttpError>,
    now_unix_ms: u64,
) -> Result<Delivered, ActionError> {
    let response = match outcome {
        Ok(response) => response,
        Err(error) => {
            let error = classify_error(error);
            let reason = format!("Teams workflow ({host}): {}", error.reason());
            return Err(error.with_reason(reason));
        }
    };
    let status = response.status;
    let reason = || {
        let body: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        let error = body.as_ref().map(|b| &b["error"]);
        let code = error.and_then(|e| e["code"].as_str());
        let message = error.and_then(|e| e["message"].as_str());
        let detail = match (code, message) {
            (Some(code), Some(message)) => format!(
                ", {}: {}",
                snippet(code.as_bytes()),
                snippet(message.as_bytes())
            ),
            (Some(code), None) => format!(", {}", snippet(code.as_bytes())),
            (None, Some(message)) => format!(", {}", snippet(message.as_bytes())),
            (None, None) if body.is_none() && !response.body.is_empty() => {
                format!(", {}", snippet(&response.body))
            }
            (None, None) => String::new(),
        };
        format!("Teams workflow ({host}): HTTP {status}{detail}")
    };
    match status {
        200..=299 => classify_response(&response, now_unix_ms),
        429 => Err(ActionError::rate_limited(reason())
            .with_status(429)
            .with_after_ms(retry_hint_ms(&response, now_unix_ms, &[]))),
        // A redirect keeps the standard reason (it names the target); the rest name the host.
        300..=399 => classify_response(&response, now_unix_ms).map_err(|e| {
            let prefixed = format!("Teams workflow ({host}): {}", e.reason());
            e.with_reason(prefixed)
        }),
        _ => classify_response(&response, now_unix_ms).map_err(|e| e.with_reason(reason())),
    }
}

/// `error` without `webhook_url`, its query, or its `sig` value anywhere in the reason.
pub fn redact(error: ActionError, webhook_url: &str) -> ActionError {
    let mut secrets: Vec<&str> = vec![webhook_url];
    if let Some((_, query)) = webhook_url.split_once('?') {
        secrets.push(query);
        secrets.extend(
            query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .filter(|(name, _)| name.eq_ignore_ascii_case("sig"))
                .map(|(_, value)| value),
        );
    }
    error.redacting(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "prod-12.westeurope.logic.azure.com:443";

    fn answer(status: u16, body: &str) -> Result<Delivered, ActionError> {
        classify(HOST, Ok(HttpResponse::new(status).with_body(body)), 0)
    }

    #[test]
    fn accepted_and_other_successes_are_delivered() {
        assert_eq!(answer(202, ""), Ok(Delivered::status(202)));
        assert_eq!(answer(200, "{\"ok\":true}"), Ok(Delivered::status(200)));
    }

    #[test]
    fn refusals_are_permanent_with_the_code_and_message() {
        for (status, code, message) in [
            (
                400,
                "TriggerInputSchemaMismatch",
                "The input body for trigger 'manual' of type 'Request' did not match its schema definition.",
            ),
            (
                401,
                "DirectApiInvalidAuthorizationSignature",
                "The provided authorization signature is not valid.",
            ),
            (
                403,
                "DirectApiAuthorizationRequired",
                "The request must be authenticated only by Shared Access scheme.",
            ),
            (
                404,
                "WorkflowNotFound",
                "The workflow 'abc' could not be found.",
            ),
        ] {
            let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
            assert_eq!(
                answer(status, &body),
                Err(ActionError::permanent(format!(
                    "Teams workflow ({HOST}): HTTP {status}, {code}: {message}"
                ))
                .with_status(status)),
            );
        }
        assert_eq!(
            answer(404, ""),
            Err(
                ActionError::permanent(format!("Teams workflow ({HOST}): HTTP 404"))
                    .with_status(404)
            )
        );
        assert_eq!(
            answer(400, "<html>Bad Request</html>"),
            Err(ActionError::permanent(format!(
                "Teams workflow ({HOST}): HTTP 400, <html>Bad Request</html>"
            ))
            .with_status(400))
        );
    }

    #[test]
    fn throttling_waits_for_retry_after() {
        let throttled = classify(
            HOST,
            Ok(HttpResponse::new(429).with_header("Retry-After", "7").with_body(
                r#"{"error":{"code":"WorkflowTriggerIsThrottled","message":"The trigger is throttled."}}"#,
            )),
            0,
        );
        assert_eq!(
            throttled,
            Err(ActionError::rate_limited(format!(
                "Teams workflow ({HOST}): HTTP 429, WorkflowTriggerIsThrottled: The trigger is throttled."
            ))
            .with_status(429)
            .with_after_ms(Some(7_000)))
        );
        assert!(matches!(
            answer(429, ""),
            Err(ActionError::RateLimited { after_ms: None, .. })
        ));
    }

    #[test]
    fn gone_server_errors_and_transport_errors() {
        assert!(matches!(answer(410, ""), Err(ActionError::Gone { .. })));
        let moved = classify(
            HOST,
            Ok(HttpResponse::new(302).with_header("Location", "https://login.example/")),
            0,
        );
        assert_eq!(
            moved,
            Err(ActionError::permanent(format!(
                "Teams workflow ({HOST}): HTTP 302: redirect to https://login.example/ not followed"
            ))
            .with_status(302))
        );
        let busy = classify(
            HOST,
            Ok(HttpResponse::new(503).with_header("Retry-After", "2")),
            0,
        );
        assert_eq!(
            busy,
            Err(
                ActionError::retryable(format!("Teams workflow ({HOST}): HTTP 503"))
                    .with_status(503)
                    .with_after_ms(Some(2_000))
            )
        );
        for status in [408, 500, 502, 504] {
            assert!(matches!(
                answer(status, ""),
                Err(ActionError::Retryable { .. })
            ));
        }
        assert_eq!(
            classify(HOST, Err(HttpError::Timeout("connecting".into())), 0),
            Err(ActionError::retryable(format!(
                "Teams workflow ({HOST}): timed out: connecting"
            )))
        );
        assert!(matches!(
            classify(HOST, Err(HttpError::Refused("private address".into())), 0),
            Err(ActionError::Permanent { .. })
        ));
    }

    #[test]
    fn the_url_and_its_signature_are_redacted() {
        let url = "https://h.example/workflows/a/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers&sv=1.0&sig=TOPsecretSIG";
        let echoed = answer(
            400,
            r#"{"error":{"code":"X","message":"bad sig TOPsecretSIG"}}"#,
        )
        .unwrap_err();
        let clean = redact(echoed, url);
        assert!(!clean.reason().contains("TOPsecretSIG"), "{clean}");
        assert!(clean.reason().contains("[redacted]"), "{clean}");
        assert_eq!(clean.http_status(), Some(400));
        let whole = redact(ActionError::retryable(format!("failed: {url}")), url);
        assert_eq!(whole.reason(), "failed: [redacted]");
        let untouched = ActionError::permanent("HTTP 400");
        assert_eq!(redact(untouched.clone(), url), untouched);
    }
}
