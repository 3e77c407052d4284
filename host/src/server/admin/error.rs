//! Every way an admin request can fail, mapped to its status in exactly one place, so each
//! handler only says *what* went wrong (`?` on store and replay results) and the answers stay
//! uniform: `{"status":"error","error":…}`, a Retry-After where coming back later helps, the
//! `WWW-Authenticate` challenge on a 401.

use crate::delivery::ReplayError;
use crate::server::api::{ErrorBody, Failed};
use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why an admin request was not served.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No admin token is configured: the admin API does not exist (a 404, so an unprotected
    /// admin API is not even discoverable).
    #[error("admin API is disabled")]
    Disabled,
    /// No Bearer token, or the wrong one.
    #[error("missing or wrong Bearer token")]
    Unauthorized,
    /// A query, body, filter or cursor the request should not have sent.
    #[error("{0}")]
    BadRequest(String),
    /// No stored event has that id.
    #[error("no such event")]
    NoSuchEvent,
    /// No configured route has that name.
    #[error("no route named {0:?}")]
    NoSuchRoute(String),
    /// The request is fine but the event's state refuses it (a replay of an event no route
    /// can take). The message says why.
    #[error("{0}")]
    Conflict(String),
    /// This gateway runs without a delivery engine (tests of the ingest side alone): routes
    /// and replays have nothing to answer from.
    #[error("the delivery engine is not running")]
    EngineOff,
    /// The store failed; the same request may well work a moment later.
    #[error(transparent)]
    Unavailable(#[from] StoreError),
    /// This address presented too many wrong tokens lately; it may try again after the wait.
    #[error("too many failed admin tokens from this address; try again later")]
    TooManyFailures(std::time::Duration),
}

impl AdminError {
    /// A listing's store error: a cursor the store cannot decode is the client's mistake (a
    /// 400), anything else the store's (a 503).
    pub fn listing(e: StoreError) -> AdminError {
        match e {
            StoreError::Corrupt(message) if message.starts_with("invalid cursor") => {
                AdminError::BadRequest(message)
            }
            e => AdminError::Unavailable(e),
        }
    }

    /// The status and, where the client should come back, the Retry-After seconds.
    pub fn status(&self) -> (StatusCode, Option<u32>) {
        match self {
            AdminError::Disabled | AdminError::NoSuchEvent | AdminError::NoSuchRoute(_) => {
                (StatusCode::NOT_FOUND, None)
            }
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            AdminError::BadRequest(_) => (StatusCode::BAD_REQUEST, None),
            AdminError::Conflict(_) => (StatusCode::CONFLICT, None),
            // Not a passing fault: retrying would not start an engine.
            AdminError::EngineOff => (StatusCode::SERVICE_UNAVAILABLE, None),
            AdminError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
            AdminError::TooManyFailures(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                Some(u32::try_from(wait.as_secs().max(1)).unwrap_or(u32::MAX)),
            ),
        }
    }
}

impl From<ReplayError> for AdminError {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::NotFound => AdminError::NoSuchEvent,
            ReplayError::Unroutable(_) | ReplayError::NoRoute => {
                AdminError::Conflict(e.to_string())
            }
            ReplayError::Store(e) => AdminError::Unavailable(e),
        }
    }
}

impl From<QueryRejection> for AdminError {
    fn from(e: QueryRejection) -> Self {
        AdminError::BadRequest(e.body_text())
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, retry_after) = self.status();
        let body = ErrorBody {
            status: Failed::Failed,
            error: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, AdminError::Unauthorized) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error, its status, Retry-After, WWW-Authenticate and message.
    type Case = (
        AdminError,
        u16,
        Option<&'static str>,
        Option<&'static str>,
        &'static str,
    );

    /// One table pins every variant's status, headers and message.
    #[tokio::test]
    async fn status_table() {
        let cases: Vec<Case> = vec![
            (
                AdminError::Disabled,
                404,
                None,
                None,
                "admin API is disabled",
            ),
            (
                AdminError::Unauthorized,
                401,
                None,
                Some("Bearer"),
                "missing or wrong Bearer token",
            ),
            (AdminError::BadRequest("bad".into()), 400, None, None, "bad"),
            (AdminError::NoSuchEvent, 404, None, None, "no such event"),
            (
                AdminError::NoSuchRoute("crm".into()),
                404,
                None,
                None,
                "no route named \"crm\"",
            ),
            (AdminError::Conflict("why".into()), 409, None, None, "why"),
            (
                AdminError::TooManyFailures(std::time::Duration::from_millis(2500)),
                429,
                Some("2"),
                None,
                "too many failed admin tokens from this address; try again later",
            ),
            (
                AdminError::EngineOff,
                503,
                None,
                None,
                "the delivery engine is not running",
            ),
            (
                StoreError::Unavailable("disk".into()).into(),
                503,
                Some("1"),
                None,
                "store unavailable: disk",
            ),
            (
                StoreError::Overloaded.into(),
                503,
                Some("1"),
                None,
                "store overloaded: write queue full",
            ),
            (
                ReplayError::NotFound.into(),
                404,
                None,
                None,
                "no such event",
            ),
            (
                ReplayError::NoRoute.into(),
                409,
                None,
                None,
                "no configured route matches this event",
            ),
            (
                ReplayError::Unroutable("no type".into()).into(),
                409,
                None,
                None,
                "the event could not be normalized (no type); fix the platform plugin and have the platform resend it",
            ),
            (
                ReplayError::Store(StoreError::Corrupt("row".into())).into(),
                503,
                Some("1"),
                None,
                "corrupt stored data: row",
            ),
            (
                AdminError::listing(StoreError::Corrupt("invalid cursor \"x\"".into())),
                400,
                None,
                None,
                "invalid cursor \"x\"",
            ),
            (
                AdminError::listing(StoreError::Corrupt("row".into())),
                503,
                Some("1"),
                None,
                "corrupt stored data: row",
            ),
        ];
        for (error, status, retry_after, challenge, message) in cases {
            let label = format!("{error:?}");
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status, "{label}");
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
            };
            assert_eq!(
                header(header::RETRY_AFTER).as_deref(),
                retry_after,
                "{label}"
            );
            assert_eq!(
                header(header::WWW_AUTHENTICATE).as_deref(),
                challenge,
                "{label}"
            );
            let body = axum::body::to_bytes(response.into_body(), 1 << 16)
                .await
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                body,
                serde_json::json!({"status": "error", "error": message}),
                "{label}"
            );
        }
    }
}
