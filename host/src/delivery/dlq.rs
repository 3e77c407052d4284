//! The dead-letter queue: what gave up (a job whose action failed for good or ran out of
//! attempts, or a verified payload that could not be normalized) and replay. Listing and
//! replaying live here once; the admin API and the CLI reach them through [`Dlq`].
//!
//! A replay runs the stored event through the *current* routes, as ingest would route it
//! today: dead-lettered jobs revive with a fresh retry schedule, newly matching routes get a
//! job, delivered and pending jobs are left alone.

use crate::ingest::RouteTable;
use crate::model::names::is_schedule_source;
use crate::model::{Clock, Envelope, EventId, UNNORMALIZED_TYPE, unix_ms};
use crate::store::{DlqFilter, Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::Notify;

/// Why a replay could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No such event.
    #[error("no such event")]
    NotFound,
    /// The event was never normalized, so no route can take it.
    #[error(
        "the event could not be normalized ({0}); fix the platform plugin and have the platform resend it"
    )]
    Unroutable(String),
    /// No current route matches the event.
    #[error("no configured route matches this event")]
    NoRoute,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a bulk replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkReplay {
    /// Events queued again, in id order.
    pub queued: Vec<EventId>,
    /// Events that could not be (event id, why), e.g. no route matches them any more.
    pub failed: Vec<(EventId, String)>,
    /// Where a paged bulk replay continues; absent when the queue was gone through.
    pub next_cursor: Option<String>,
}

/// The dead-letter queue of one store, replaying through one route table.
#[derive(Debug)]
pub struct Dlq {
    store: Arc<dyn Store>,
    routes: RouteTable,
    wake: Arc<Notify>,
    /// When a replayed job is due: now, on the engine's clock.
    clock: Arc<dyn Clock>,
}

impl Dlq {
    /// Replays into `store` along `routes`; `wake` tells the delivery engine.
    pub fn new(
        store: Arc<dyn Store>,
        routes: RouteTable,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Dlq {
        Dlq {
            store,
            routes,
            wake,
            clock,
        }
    }

    /// Queues a stored event again through the current routes, or only along `only_route`
    /// when given (a bulk replay filtered by route must not revive the event's other routes).
    /// Returns the routes queued.
    pub async fn replay(
        &self,
        event_id: &EventId,
        only_route: Option<&str>,
    ) -> Result<Vec<String>, ReplayError> {
        let event = self
            .store
            .get_event(event_id)
            .await?
            .ok_or(ReplayError::NotFound)?;
        if let Some(error) = &event.error
            && event.event_type == UNNORMALIZED_TYPE
        {
            return Err(ReplayError::Unroutable(error.clone()));
        }
        let routes = if is_schedule_source(&event.source) {
            vec![event.source.clone()]
        } else {
            let envelope: Envelope = serde_json::from_str(&event.envelope)
                .map_err(|e| StoreError::Corrupt(format!("envelope of {event_id}: {e}")))?;
            self.routes
                .routes_for(&envelope, &event.envelope, &event.payload)
        };
        let routes: Vec<String> = match only_route {
            Some(only) => routes.into_iter().filter(|r| r == only).collect(),
            None => routes,
        };
        if routes.is_empty() {
            return Err(ReplayError::NoRoute);
        }
        let queued = self
            .store
            .replay(event_id, routes, unix_ms(self.clock.now()))
            .await?;
        if !queued.is_empty() {
            tracing::info!(event_id = %event_id, routes = ?queued, "replay queued");
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// Replays at most `max` dead letters matching `filter` from `cursor` on, read from the
    /// store `page_size` at a time, and says where to continue when more remain. The entries
    /// are collected first and replayed after, so one that dead-letters again during the run
    /// is not met twice; paging is by key, not offset, so replayed entries leaving the queue
    /// shift nothing.
    pub async fn replay_matching(
        &self,
        filter: DlqFilter,
        mut cursor: Option<String>,
        max: usize,
        page_size: usize,
    ) -> Result<BulkReplay, StoreError> {
        let mut events = BTreeSet::new();
        let mut listed = 0;
        let next_cursor = loop {
            let want = page_size.min(max - listed).max(1);
            let page = self
                .store
                .dead_letters(filter.clone(), cursor.take(), want)
                .await?;
            listed += page.items.len();
            events.extend(page.items.into_iter().map(|d| d.event_id));
            match page.next_cursor {
                Some(next) if listed >= max => break Some(next),
                Some(next) => cursor = Some(next),
                None => break None,
            }
        };
        let mut done = BulkReplay {
            next_cursor,
            ..BulkReplay::default()
        };
        for id in events {
            match self.replay(&id, filter.route.as_deref()).await {
                Ok(routes) if !routes.is_empty() => done.queued.push(id),
                Ok(_) => {}
                Err(ReplayError::Store(e)) => return Err(e),
                Err(e) => done.failed.push((id, e.to_string())),
            }
        }
        Ok(done)
    }
}
