//! `GET /metrics`: the Prometheus scrape. Figures that belong to the store (queue depth,
//! oldest due job, dead letters) come from a [`super::snapshot`] a few seconds old at most;
//! live delivery state (circuits, disabled routes) is
//! read now; everything else was counted as it happened.

use super::state::AppState;
use crate::delivery::breaker::CircuitState;
use crate::metrics::{RouteLabel, metrics};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The OpenMetrics text format, which Prometheus reads natively.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders every metric.
pub async fn scrape(State(state): State<Arc<AppState>>) -> Response {
    let m = metrics();
    m.ingest_body_bytes
        .set(i64::try_from(state.ingest.body_memory.in_use()).unwrap_or(i64::MAX));
    if let Some((read_ms, figures)) = state.store_snapshot.get(state.store.as_ref()).await {
        let stats = figures.queue;
        m.store_bytes
            .set(i64::try_from(figures.bytes).unwrap_or(i64::MAX));
        m.queue_depth
            .set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
        m.dead_letters
            .set(i64::try_from(stats.dead_letters).unwrap_or(i64::MAX));
        // The oldest due job's age now, from the due time the snapshot read.
        let now_ms = crate::model::unix_ms(SystemTime::now()).max(read_ms);
        let age_ms = stats.oldest_due_ms.map_or(0, |due| (now_ms - due).max(0));
        m.queue_oldest_due_seconds.set(age_ms as f64 / 1000.0);
    }
    if let Some(deliverer) = &state.deliverer {
        for d in deliverer.destinations().status(Instant::now()) {
            let label = RouteLabel { route: d.name };
            let circuit = match d.circuit {
                CircuitState::Closed => 0,
                CircuitState::HalfOpen => 1,
                CircuitState::Open => 2,
            };
            m.breaker_state.get_or_create(&label).set(circuit);
            m.route_disabled
                .get_or_create(&label)
                .set(i64::from(d.disabled.is_some()));
            m.route_held_seconds
                .get_or_create(&label)
                .set(d.held_for_ms.map_or(0.0, |ms| ms as f64 / 1000.0));
        }
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], m.render()).into_response()
}
