//! `GET /admin/dlq`, `POST /admin/dlq/{id}/replay` and `POST /admin/dlq/replay`: the dead-letter
//! queue, listed from the store's `Inspection` role and replayed through the delivery engine's
//! [`Dlq`](crate::delivery::Dlq), where replay lives once.

use super::{AdminError, MAX_PAGE, engine, instant_ms, non_empty, page_size};
use crate::model::EventId;
use crate::server::api::{BulkReplayRequest, BulkReplayed, DeadLetter, Page, Queued, Replayed};
use crate::server::state::AppState;
use crate::store::DlqFilter;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use std::sync::Arc;

/// Filters of the dead-letter queue, as query parameters. Unknown parameters are refused
/// rather than ignored: a misspelt filter would otherwise list everything.
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

/// The store's filter of the given fields (blank ones match everything).
fn filter(
    source: Option<String>,
    route: Option<String>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<DlqFilter, AdminError> {
    Ok(DlqFilter {
        since_ms: instant_ms("since", since)?,
        until_ms: instant_ms("until", until)?,
        source: non_empty(source),
        route: non_empty(route),
    })
}

/// `GET /admin/dlq?source=&route=&since=&until=&cursor=&limit=`: dead-lettered deliveries,
/// newest first, paged with an opaque cursor.
pub async fn list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<DlqQuery>, QueryRejection>,
) -> Result<Json<Page<DeadLetter>>, AdminError> {
    let Query(query) = query?;
    let filter = filter(
        query.source,
        query.route,
        query.since.as_deref(),
        query.until.as_deref(),
    )?;
    let page = state
        .store
        .dead_letters(filter, query.cursor, page_size(query.limit))
        .await
        .map_err(AdminError::listing)?;
    Ok(Json(Page {
        items: page.items.into_iter().map(DeadLetter::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `POST /admin/dlq/{id}/replay`: runs the stored event through the current routes again.
pub async fn replay(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Replayed>, AdminError> {
    let id = EventId::parse(&id).ok_or(AdminError::NoSuchEvent)?;
    let routes = engine(&state)?.dlq().replay(&id, None).await?;
    Ok(Json(Replayed {
        status: Queued::Queued,
        event_id: id,
        routes,
    }))
}

/// Dead letters one bulk-replay request replays when it gives no `limit`: a queue larger than
/// this takes several requests (each answer's `next_cursor` continues), so no request runs
/// unbounded, holding the store and the client's connection for minutes.
pub const UNPAGED_REPLAY_MAX: usize = 10_000;

/// `POST /admin/dlq/replay` with a JSON body of filters (`{}` or `{"all": true}` for
/// everything): replays the matching dead-lettered events, `limit` of them (at most
/// [`UNPAGED_REPLAY_MAX`] without it), and answers `next_cursor` to continue from while more
/// remain, so a client can show progress through a large queue.
/// Paging is by key, not offset, so the replayed entries leaving the queue shift nothing.
/// An empty body is `{}`, so a bare `curl -X POST` gets the "give a filter" answer.
pub async fn replay_bulk(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> Result<Json<BulkReplayed>, AdminError> {
    let engine = engine(&state)?;
    let body: BulkReplayRequest = if body.iter().all(u8::is_ascii_whitespace) {
        BulkReplayRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AdminError::BadRequest(format!("invalid body: {e}")))?
    };
    let filter = filter(
        body.source,
        body.route,
        body.since.as_deref(),
        body.until.as_deref(),
    )?;
    if filter == DlqFilter::default() && !body.all {
        return Err(AdminError::BadRequest(
            "give a filter (source, route, since, until) or {\"all\": true}".into(),
        ));
    }
    let max = body
        .limit
        .map_or(UNPAGED_REPLAY_MAX, |l| l.clamp(1, MAX_PAGE));
    let done = engine
        .dlq()
        .replay_matching(filter, body.cursor, max, MAX_PAGE)
        .await?;
    Ok(Json(done.into()))
}
