//! `GET /admin/events` and `GET /admin/events/{id}`: stored events, straight from the store's
//! `Inspection` role.

use super::{AdminError, instant_ms, non_empty, page_size};
use crate::model::EventId;
use crate::server::api::{EventDetail, EventItem, Page};
use crate::server::state::AppState;
use crate::store::EventFilter;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use std::sync::Arc;

/// Filters of `GET /admin/events`. Unknown parameters are refused rather than ignored: a
/// misspelt filter would otherwise list everything.
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
pub async fn list(
    State(state): State<Arc<AppState>>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Page<EventItem>>, AdminError> {
    let Query(query) = query?;
    let filter = EventFilter {
        since_ms: instant_ms("since", query.since.as_deref())?,
        until_ms: instant_ms("until", query.until.as_deref())?,
        source: non_empty(query.source),
        event_type: non_empty(query.event_type),
    };
    let page = state
        .store
        .list_events(filter, query.cursor, page_size(query.limit))
        .await
        .map_err(AdminError::listing)?;
    Ok(Json(Page {
        items: page.items.into_iter().map(EventItem::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// `GET /admin/events/{id}`: the normalized event with its payload, its status (and error when
/// dead-lettered) and its delivery jobs with every attempt.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<EventDetail>, AdminError> {
    let id = EventId::parse(&id).ok_or(AdminError::NoSuchEvent)?;
    let event = state
        .store
        .get_event(&id)
        .await?
        .ok_or(AdminError::NoSuchEvent)?;
    let (jobs, attempts) = tokio::try_join!(
        state.store.jobs_for_event(&id),
        state.store.attempts_for_event(&id)
    )?;
    Ok(Json(EventDetail::new(event, jobs, &attempts)))
}
