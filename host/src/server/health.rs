//! `/health` (the process is alive) and `/ready` (it can do its job: the store answers and
//! every configured source's plugin is loaded). `/ready` names each failing dependency.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Liveness.
pub async fn health() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Readiness, with every failing dependency listed.
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let mut failing = Vec::new();
    if let Err(e) = state.store.ping().await {
        failing.push(format!("store: {e}"));
    }
    let mut missing: Vec<&str> = state
        .sources
        .values()
        .map(|s| s.config.plugin.as_str())
        .filter(|p| state.registry.get(p).is_none())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    for plugin in missing {
        failing.push(format!("plugin {plugin:?} is not loaded"));
    }
    let status = if failing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({ "ready": failing.is_empty(), "failing": failing })),
    )
        .into_response()
}
