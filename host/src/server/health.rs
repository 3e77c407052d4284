//! `/health` (the process is alive) and `/ready` (it can do its job: the store answers and
//! every configured source's plugin is loaded). `/ready` names each failing dependency.

use super::state::AppState;
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
    if state
        .shutting_down
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        failing.push("shutting down".to_owned());
    }
    if let Err(e) = state.store.ping().await {
        failing.push(format!("store: {e}"));
    }
    let mut missing: Vec<&str> = state
        .ingest
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
    // Delivery problems do not stop ingest (jobs wait in the store), so they are reported
    // without failing readiness.
    let mut delivery = Vec::new();
    if let Some(deliverer) = &state.deliverer {
        for d in deliverer.destinations().status(std::time::Instant::now()) {
            if let Some(reason) = &d.disabled {
                delivery.push(format!("route {:?} is disabled: {reason}", d.name));
            }
            if d.circuit != crate::delivery::breaker::CircuitState::Closed {
                delivery.push(format!("route {:?}: circuit {:?}", d.name, d.circuit));
            }
            if let Some(ms) = d.held_for_ms {
                delivery.push(format!(
                    "route {:?} is held across the cluster for {ms} ms more",
                    d.name
                ));
            }
        }
        let mut actions: Vec<&str> = state
            .config
            .routes
            .iter()
            .map(|r| r.action.as_str())
            .chain(state.config.schedules.iter().map(|s| s.action.as_str()))
            .filter(|a| state.registry.action(a).is_none())
            .collect();
        actions.sort_unstable();
        actions.dedup();
        for action in actions {
            delivery.push(format!(
                "action plugin {action:?} is not loaded; its deliveries wait"
            ));
        }
    }
    let status = if failing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({
            "ready": failing.is_empty(),
            "failing": failing,
            "delivery": delivery,
        })),
    )
        .into_response()
}
