//! Every way an ingest request can fail, mapped to its status in exactly one place. The
//! contract's rule shows in the mapping: the sender's faults are 4xx, every fault of hookgate's
//! own is 503 + Retry-After (some senders drop 4xx for good and disable the endpoint).

use crate::runtime::{PluginFault, VerifyError};
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Why an ingest request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No source of that name is configured.
    #[error("unknown source")]
    UnknownSource,
    /// A GET to a source whose plugin answers no handshake.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The source is over its rate limit.
    #[error("rate limit exceeded")]
    RateLimited(Duration),
    /// The body is over the source's limit.
    #[error("body exceeds {0} bytes")]
    TooLarge(u64),
    /// The client did not send its body in time.
    #[error("body not received in time")]
    BodyTimeout,
    /// The client sent its body slower than the minimum rate (bytes per second).
    #[error("body arrived slower than {0} bytes per second")]
    TooSlow(u64),
    /// The body stream broke (client went away, malformed chunking).
    #[error("could not read the request body")]
    BadBody,
    /// Signature missing, malformed, wrong, or timestamp outside tolerance.
    #[error("{0}")]
    Unauthorized(String),
    /// The source has no secret its plugin can use: an operator mistake, so a 503 (the sender
    /// retries once it is fixed) rather than a 401 that would make it give up.
    #[error("no usable secret configured for this source")]
    NoSecret,
    /// Too many request bodies are in memory at once (all together, towards the source, or
    /// from the sender's address): shedding load rather than running out of memory.
    #[error("server busy")]
    Busy,
    /// The source's plugin is not loaded.
    #[error("plugin {0:?} is not loaded")]
    PluginNotLoaded(String),
    /// The plugin trapped, timed out or ran out of memory.
    #[error("plugin failure")]
    Plugin(#[from] PluginFault),
    /// The store could not durably write.
    #[error("store unavailable")]
    Store(#[from] StoreError),
}

impl From<VerifyError> for IngestError {
    fn from(e: VerifyError) -> Self {
        IngestError::Unauthorized(match e {
            VerifyError::NoSecretConfigured => return IngestError::NoSecret,
            VerifyError::MissingSignature => "missing signature".into(),
            VerifyError::MalformedSignature(why) => {
                format!("malformed signature: {}", sanitize(&why))
            }
            VerifyError::SignatureMismatch => "signature mismatch".into(),
            VerifyError::MissingTimestamp => "missing or invalid signed timestamp".into(),
            VerifyError::TimestampOutsideTolerance(_) => "timestamp outside tolerance".into(),
        })
    }
}

/// A plugin-written reason, shortened and stripped of control characters before it reaches a
/// response or a log line (third-party plugins might quote what they were sent).
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(120).collect()
}

impl IngestError {
    /// The status and, where the sender should come back, the Retry-After delay.
    pub fn status(&self) -> (StatusCode, Option<Duration>) {
        match self {
            IngestError::UnknownSource => (StatusCode::NOT_FOUND, None),
            IngestError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, None),
            IngestError::RateLimited(wait) => (StatusCode::TOO_MANY_REQUESTS, Some(*wait)),
            IngestError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
            IngestError::BodyTimeout | IngestError::TooSlow(_) => {
                (StatusCode::REQUEST_TIMEOUT, None)
            }
            IngestError::BadBody => (StatusCode::BAD_REQUEST, None),
            IngestError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, None),
            IngestError::PluginNotLoaded(_) | IngestError::NoSecret => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(Duration::from_secs(5)),
            ),
            IngestError::Plugin(_) | IngestError::Store(_) | IngestError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(Duration::from_secs(1)),
            ),
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let (status, retry_after) = self.status();
        let body = Json(serde_json::json!({ "status": "error", "error": self.to_string() }));
        let mut response = (status, body).into_response();
        if let Some(wait) = retry_after {
            // Whole seconds, rounded up: "0" would invite an immediate retry storm.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One table pins the contract's status codes.
    #[test]
    fn status_table() {
        let trap = PluginFault::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
        };
        let cases: Vec<(IngestError, u16, Option<&str>)> = vec![
            (IngestError::UnknownSource, 404, None),
            (IngestError::MethodNotAllowed, 405, None),
            (
                IngestError::RateLimited(Duration::from_millis(1500)),
                429,
                Some("2"),
            ),
            (IngestError::TooLarge(10), 413, None),
            (IngestError::BodyTimeout, 408, None),
            (IngestError::TooSlow(16384), 408, None),
            (IngestError::BadBody, 400, None),
            (VerifyError::SignatureMismatch.into(), 401, None),
            (VerifyError::TimestampOutsideTolerance(5).into(), 401, None),
            (VerifyError::MissingSignature.into(), 401, None),
            (
                VerifyError::MalformedSignature("x".into()).into(),
                401,
                None,
            ),
            (VerifyError::NoSecretConfigured.into(), 503, Some("5")),
            (
                IngestError::PluginNotLoaded("stripe".into()),
                503,
                Some("5"),
            ),
            (trap.into(), 503, Some("1")),
            (
                PluginFault::Timeout {
                    plugin: "p".into(),
                    limit_ms: 100,
                }
                .into(),
                503,
                Some("1"),
            ),
            (StoreError::Overloaded.into(), 503, Some("1")),
            (IngestError::Busy, 503, Some("1")),
            (
                StoreError::Unavailable("disk".into()).into(),
                503,
                Some("1"),
            ),
        ];
        for (error, status, retry_after) in cases {
            let label = format!("{error:?}");
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status, "{label}");
            assert_eq!(
                response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.to_str().unwrap()),
                retry_after,
                "{label}"
            );
        }
    }
}
