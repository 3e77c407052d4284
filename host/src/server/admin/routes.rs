//! `GET /admin/routes` and `POST /admin/routes/{name}/enable`: the delivery engine's view of
//! each destination, and re-enabling one a 410 disabled.

use super::{AdminError, engine};
use crate::server::api::{Enabled, RouteEnabled, Routes};
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use std::sync::Arc;

/// `GET /admin/routes`: every destination's circuit, pause, load and disabled state.
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Routes>, AdminError> {
    let routes = engine(&state)?
        .destinations()
        .status(std::time::Instant::now());
    Ok(Json(Routes { routes }))
}

/// `POST /admin/routes/{name}/enable`: re-enables a route a 410 disabled, on this node at once
/// and in the store (so every node, and the next start, sees it enabled).
pub async fn enable(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Json<RouteEnabled>, AdminError> {
    let engine = engine(&state)?;
    if !engine.destinations().enable(&name) {
        return Err(AdminError::NoSuchRoute(name));
    }
    let was_disabled = state.store.enable_route(&name).await?;
    tracing::info!(route = %name, was_disabled, "route enabled by the operator");
    engine.wake();
    Ok(Json(RouteEnabled {
        status: Enabled::Enabled,
        route: name,
        was_disabled,
    }))
}
