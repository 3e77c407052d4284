//! `GET /admin/plugins`: which build of each plugin is serving, and which files failed to load.

use crate::server::api::{Plugin, PluginError, PluginKind, Plugins, Rejection};
use crate::server::state::AppState;
use axum::Json;
use axum::extract::State;
use std::sync::Arc;

/// `GET /admin/plugins`: every loaded plugin (name, kind, version, WIT version, file, SHA-256,
/// load time, whether its code came from the cache, calls, failures), platforms first, and the
/// last load error and rejection count of every file that failed. Cannot fail: it reads only
/// the in-memory registry.
pub async fn list(State(state): State<Arc<AppState>>) -> Json<Plugins> {
    let registry = &state.registry;
    let platforms = registry
        .list()
        .iter()
        .map(|p| Plugin::new(PluginKind::Platform, &p.info, p.calls(), p.failures()))
        .collect::<Vec<_>>();
    let actions = registry
        .actions()
        .iter()
        .map(|a| Plugin::new(PluginKind::Action, &a.info, a.calls(), a.failures()))
        .collect::<Vec<_>>();
    Json(Plugins {
        plugins: platforms.into_iter().chain(actions).collect(),
        errors: registry
            .errors()
            .into_iter()
            .map(|(file, error)| PluginError {
                file: file.display().to_string(),
                error,
            })
            .collect(),
        rejections: registry
            .rejections()
            .into_iter()
            .map(|(file, count)| Rejection {
                file: file.display().to_string(),
                count,
            })
            .collect(),
    })
}
