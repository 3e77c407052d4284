//! The admin API, behind a Bearer token read from the environment at start (`admin.token_env`).
//! Without a token the admin API does not exist (404): an unprotected admin API is never served.

use super::AppState;
use crate::store::StoreError;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Refuses admin requests without the right Bearer token (compared in constant time).
pub async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.admin_token else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"status": "error", "error": "admin API is disabled"})),
        )
            .into_response();
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !hookgate_sdk::crypto::constant_time_eq(presented.as_bytes(), expected.expose()) {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"status": "error", "error": "missing or wrong Bearer token"})),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return response;
    }
    next.run(request).await
}

fn store_error(e: StoreError) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({"status": "error", "error": e.to_string()})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from(1));
    response
}

/// `GET /admin/events/{id}`: the normalized event with its payload, its status (and error when
/// dead-lettered) and its delivery jobs.
pub async fn event(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let event = match state.store.get_event(&id).await {
        Ok(Some(event)) => event,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({"status": "error", "error": "no such event"})),
            )
                .into_response();
        }
        Err(e) => return store_error(e),
    };
    let jobs = match state.store.jobs_for_event(&id).await {
        Ok(jobs) => jobs,
        Err(e) => return store_error(e),
    };
    let mut normalized: serde_json::Value =
        serde_json::from_str(&event.envelope).unwrap_or_default();
    // The payload is JSON unless the platform sent something else; then it is shown as text.
    normalized["payload"] = serde_json::from_slice(&event.payload).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&event.payload).into_owned())
    });
    let jobs: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            serde_json::json!({
                "route": j.route,
                "status": j.status,
                "attempts": j.attempts,
                "due_at": crate::event::rfc3339_ms(j.due_at_ms),
            })
        })
        .collect();
    Json(serde_json::json!({
        "event": normalized,
        "status": event.status,
        "error": event.error,
        "platform_event_id": event.platform_event_id,
        "received_at": crate::event::rfc3339_ms(event.received_at_ms),
        "jobs": jobs,
    }))
    .into_response()
}
