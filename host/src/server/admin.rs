//! The admin API, behind a Bearer token read from the environment at start (`admin.token_env`).
//! Without a token the admin API does not exist (404): an unprotected admin API is never served.

use super::state::AppState;
use crate::delivery::{Deliverer, ReplayError};
use crate::model::{EventStatus, JobStatus};
use crate::store::{DlqFilter, StoreError};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
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
    let (jobs, attempts) = match tokio::try_join!(
        state.store.jobs_for_event(&id),
        state.store.attempts_for_event(&id)
    ) {
        Ok(found) => found,
        Err(e) => return store_error(e),
    };
    // Exactly what actions receive.
    let normalized: serde_json::Value = serde_json::from_slice(&crate::model::delivery_json(
        &event.envelope,
        &event.payload,
    ))
    .unwrap_or_default();
    let jobs: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            let history: Vec<serde_json::Value> = attempts
                .iter()
                .filter(|a| a.route == j.route)
                .map(|a| {
                    serde_json::json!({
                        "attempt": a.number,
                        "at": crate::model::rfc3339_ms(a.started_at_ms),
                        "duration_ms": a.duration_ms,
                        "outcome": a.outcome,
                        "http_status": a.http_status,
                        "error": a.error,
                    })
                })
                .collect();
            serde_json::json!({
                "route": j.route,
                "status": j.status,
                "attempts": j.attempts,
                "due_at": crate::model::rfc3339_ms(j.due_at_ms),
                "last_error": j.last_error,
                "history": history,
            })
        })
        .collect();
    Json(serde_json::json!({
        "event": normalized,
        "status": event.status,
        "delivery": delivery_summary(event.status, &jobs),
        "error": event.error,
        "platform_event_id": event.platform_event_id,
        "received_at": crate::model::rfc3339_ms(event.received_at_ms),
        "jobs": jobs,
    }))
    .into_response()
}

/// One word for where an event stands across its jobs: `no_routes`, `pending` (something is
/// still to be delivered), `delivered` (every job), `dead_lettered` (every job gave up, or the
/// payload could not be normalized) or `partially_dead_lettered`.
fn delivery_summary(status: EventStatus, jobs: &[serde_json::Value]) -> &'static str {
    let count = |s: JobStatus| jobs.iter().filter(|j| j["status"] == s.as_str()).count();
    let (pending, delivered, dead) = (
        count(JobStatus::Pending),
        count(JobStatus::Delivered),
        count(JobStatus::DeadLettered),
    );
    match (status, pending, delivered, dead) {
        (EventStatus::DeadLettered, ..) => "dead_lettered",
        (_, 0, 0, 0) => "no_routes",
        (_, p, ..) if p > 0 => "pending",
        (_, _, _, 0) => "delivered",
        (_, _, 0, _) => "dead_lettered",
        _ => "partially_dead_lettered",
    }
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    ApiError::new(status, message).into_response()
}

/// An admin API error found before any work was done: small enough to pass around in
/// `Result`s, turned into the usual JSON error response at the end.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
        ApiError {
            status,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({"status": "error", "error": self.message})),
        )
            .into_response()
    }
}

fn engine(state: &AppState) -> Result<&Deliverer, ApiError> {
    state.deliverer.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the delivery engine is not running",
        )
    })
}

/// Filters of the dead-letter queue, as query parameters (and the bulk replay's body).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DlqQuery {
    source: Option<String>,
    route: Option<String>,
    /// RFC 3339, or Unix milliseconds.
    since: Option<String>,
    /// RFC 3339, or Unix milliseconds.
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

fn instant_ms(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Some(ms));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{field}: {text:?} is neither RFC 3339 nor Unix milliseconds"),
            )
        })
}

impl DlqQuery {
    fn filter(&self) -> Result<DlqFilter, ApiError> {
        Ok(DlqFilter {
            source: self.source.clone().filter(|s| !s.is_empty()),
            route: self.route.clone().filter(|s| !s.is_empty()),
            since_ms: instant_ms("since", self.since.as_deref())?,
            until_ms: instant_ms("until", self.until.as_deref())?,
        })
    }
}

/// Largest page of `GET /admin/dlq`.
const MAX_PAGE: usize = 500;

/// `GET /admin/dlq?source=&route=&since=&until=&cursor=&limit=`: dead-lettered deliveries,
/// newest first, paged with an opaque cursor.
pub async fn dlq_list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<DlqQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let filter = match query.filter() {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    match state
        .store
        .dead_letters(filter, query.cursor.clone(), limit)
        .await
    {
        Ok(page) => {
            let items: Vec<serde_json::Value> = page
                .items
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "event_id": d.event_id,
                        "route": d.route,
                        "source": d.source,
                        "type": d.event_type,
                        "attempts": d.attempts,
                        "error": d.error,
                        "received_at": crate::model::rfc3339_ms(d.received_at_ms),
                        "dead_lettered_at": crate::model::rfc3339_ms(d.dead_lettered_at_ms),
                    })
                })
                .collect();
            Json(serde_json::json!({"items": items, "next_cursor": page.next_cursor}))
                .into_response()
        }
        Err(StoreError::Corrupt(message)) if message.starts_with("invalid cursor") => {
            error(StatusCode::BAD_REQUEST, message)
        }
        Err(e) => store_error(e),
    }
}

fn replay_error(e: ReplayError) -> Response {
    match e {
        ReplayError::NotFound => error(StatusCode::NOT_FOUND, e),
        ReplayError::Unroutable(_) | ReplayError::NoRoute => error(StatusCode::CONFLICT, e),
        ReplayError::Store(e) => store_error(e),
    }
}

/// `POST /admin/dlq/{id}/replay`: runs the stored event through the current routes again.
pub async fn dlq_replay(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let engine = match engine(&state) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    match engine.dlq().replay(&id, None).await {
        Ok(routes) => Json(serde_json::json!({
            "status": "queued",
            "event_id": id,
            "routes": routes,
        }))
        .into_response(),
        Err(e) => replay_error(e),
    }
}

/// `POST /admin/dlq/replay` with a JSON body of filters (`{}` or `{"all": true}` for
/// everything): replays every matching dead-lettered event, or with `limit` one page of them
/// (and `next_cursor` to continue from), so a client can show progress through a large queue.
/// Paging is by key, not offset, so the replayed entries leaving the queue shift nothing.
pub async fn dlq_replay_bulk(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Response {
    #[derive(serde::Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Body {
        source: Option<String>,
        route: Option<String>,
        since: Option<String>,
        until: Option<String>,
        #[serde(default)]
        all: bool,
        limit: Option<usize>,
        cursor: Option<String>,
    }
    let engine = match engine(&state) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    let body: Body = if body.iter().all(u8::is_ascii_whitespace) {
        Body::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid body: {e}")),
        }
    };
    let query = DlqQuery {
        source: body.source,
        route: body.route,
        since: body.since,
        until: body.until,
        cursor: None,
        limit: None,
    };
    let filter = match query.filter() {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    if filter == DlqFilter::default() && !body.all {
        return error(
            StatusCode::BAD_REQUEST,
            "give a filter (source, route, since, until) or {\"all\": true}",
        );
    }
    let one_page = body.limit.map(|l| l.clamp(1, MAX_PAGE));
    let done = match engine
        .dlq()
        .replay_matching(filter, body.cursor, one_page, MAX_PAGE)
        .await
    {
        Ok(done) => done,
        Err(e) => return store_error(e),
    };
    let failed: Vec<serde_json::Value> = done
        .failed
        .iter()
        .map(|(id, error)| serde_json::json!({"event_id": id, "error": error}))
        .collect();
    Json(serde_json::json!({
        "status": "queued",
        "replayed": done.queued.len(),
        "event_ids": done.queued,
        "failed": failed,
        "next_cursor": done.next_cursor,
    }))
    .into_response()
}

/// `GET /admin/routes`: every destination's circuit, pause, load and disabled state.
pub async fn routes(State(state): State<Arc<AppState>>) -> Response {
    match engine(&state) {
        Ok(engine) => Json(serde_json::json!({
            "routes": engine.destinations().status(std::time::Instant::now()),
        }))
        .into_response(),
        Err(r) => r.into_response(),
    }
}

/// `POST /admin/routes/{name}/enable`: re-enables a route a 410 disabled.
pub async fn enable_route(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Response {
    let engine = match engine(&state) {
        Ok(e) => e,
        Err(r) => return r.into_response(),
    };
    if !engine.destinations().enable(&name) {
        return error(StatusCode::NOT_FOUND, format!("no route named {name:?}"));
    }
    match state.store.enable_route(&name).await {
        Ok(was_disabled) => {
            tracing::info!(route = %name, was_disabled, "route enabled by the operator");
            engine.wake();
            Json(serde_json::json!({"status": "enabled", "route": name, "was_disabled": was_disabled}))
                .into_response()
        }
        Err(e) => store_error(e),
    }
}

/// `GET /admin/plugins`: every loaded plugin (name, kind, version, WIT version, file, SHA-256,
/// load time, whether its code came from the cache, calls, failures) and the last load error
/// of every file that failed.
pub async fn plugins(State(state): State<Arc<AppState>>) -> Response {
    let describe = |kind: &str, info: &crate::runtime::PluginInfo, calls: u64, failures: u64| {
        serde_json::json!({
            "name": &*info.name,
            "kind": kind,
            "version": info.version,
            "wit_version": info.wit_version,
            "description": info.description,
            "file": info.file.display().to_string(),
            "sha256": info.sha256,
            "loaded_at": crate::model::rfc3339_ms(crate::model::unix_ms(info.loaded_at)),
            "from_cache": info.from_cache,
            "calls": calls,
            "failures": failures,
        })
    };
    let mut plugins: Vec<serde_json::Value> = state
        .registry
        .list()
        .iter()
        .map(|p| describe("platform", &p.info, p.calls(), p.failures()))
        .collect();
    plugins.extend(
        state
            .registry
            .actions()
            .iter()
            .map(|a| describe("action", &a.info, a.calls(), a.failures())),
    );
    let errors: Vec<serde_json::Value> = state
        .registry
        .errors()
        .into_iter()
        .map(
            |(file, error)| serde_json::json!({"file": file.display().to_string(), "error": error}),
        )
        .collect();
    let rejections: Vec<serde_json::Value> = state
        .registry
        .rejections()
        .into_iter()
        .map(
            |(file, count)| serde_json::json!({"file": file.display().to_string(), "count": count}),
        )
        .collect();
    Json(serde_json::json!({"plugins": plugins, "errors": errors, "rejections": rejections}))
        .into_response()
}

/// Filters of `GET /admin/events`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    source: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    /// RFC 3339, or Unix milliseconds.
    since: Option<String>,
    /// RFC 3339, or Unix milliseconds.
    until: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /admin/events?source=&type=&since=&until=&cursor=&limit=`: stored events, newest first,
/// each with its jobs' progress.
pub async fn events(
    State(state): State<Arc<AppState>>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let filter = match (
        instant_ms("since", query.since.as_deref()),
        instant_ms("until", query.until.as_deref()),
    ) {
        (Ok(since_ms), Ok(until_ms)) => crate::store::EventFilter {
            source: query.source.clone().filter(|s| !s.is_empty()),
            event_type: query.event_type.clone().filter(|s| !s.is_empty()),
            since_ms,
            until_ms,
        },
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    match state
        .store
        .list_events(filter, query.cursor.clone(), limit)
        .await
    {
        Ok(page) => {
            let items: Vec<serde_json::Value> = page
                .items
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id,
                        "source": e.source,
                        "type": e.event_type,
                        "status": e.status,
                        "received_at": crate::model::rfc3339_ms(e.received_at_ms),
                        "jobs": e.jobs,
                        "delivered": e.delivered,
                        "dead_lettered": e.dead_lettered,
                    })
                })
                .collect();
            Json(serde_json::json!({"items": items, "next_cursor": page.next_cursor}))
                .into_response()
        }
        Err(StoreError::Corrupt(message)) if message.starts_with("invalid cursor") => {
            error(StatusCode::BAD_REQUEST, message)
        }
        Err(e) => store_error(e),
    }
}
