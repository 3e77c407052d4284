//! Admin queries on Redis: the dead-letter queue, the event list, queue figures, disabled
//! routes and schedules' last ticks.
//!
//! Pages walk a sorted-set index newest first (`ZRANGE … BYSCORE REV LIMIT`), picking the
//! narrowest index the filter allows (per route, per source, per type, or all), so a page
//! reads about as many entries as it returns rather than everything stored. Cursors are
//! `<score>.<member>` of the last entry returned; entries of equal score are ordered by
//! member, so a cursor is exact even when many entries share a millisecond.

use super::RedisStore;
use super::error::Error;
use super::reply::{Cells, rows};
use super::scripts::{self, SCRIPTS};
use crate::model::{AttemptOutcome, EventId, EventStatus, JobStatus};
use crate::store::page;
use crate::store::queue::{
    Attempt, DeadLetter, DlqFilter, DlqPage, EventFilter, EventPage, EventSummary, QueueStats,
};
use crate::store::{Inspection, JobRecord, StoreError};
use redis::aio::ConnectionManager;
use serde::Deserialize;

/// [`Attempt`] as stored (JSON in the event's attempts list).
#[derive(Deserialize)]
struct StoredAttempt {
    number: u32,
    route: String,
    started_at_ms: i64,
    duration_ms: i64,
    outcome: String,
    http_status: Option<u16>,
    error: Option<String>,
}

/// Largest page.
const MAX_PAGE: usize = 1000;

/// A newest-first walk over one sorted set, between `since` (inclusive) and `until`
/// (exclusive), after a cursor.
struct DescScan {
    key: String,
    max: String,
    min: String,
    after: Option<(i64, String)>,
    offset: usize,
    done: bool,
}

impl DescScan {
    fn new(
        key: String,
        since: Option<i64>,
        until: Option<i64>,
        after: Option<(i64, String)>,
    ) -> DescScan {
        let mut max = until.map(|u| u.saturating_sub(1));
        if let Some((score, _)) = &after {
            max = Some(max.map_or(*score, |m| m.min(*score)));
        }
        DescScan {
            key,
            max: max.map_or_else(|| "+inf".to_owned(), |m| m.to_string()),
            min: since.map_or_else(|| "-inf".to_owned(), |s| s.to_string()),
            after,
            offset: 0,
            done: false,
        }
    }

    /// The next up to `n` (member, score) pairs past the cursor; empty when exhausted.
    async fn next(
        &mut self,
        conn: &mut ConnectionManager,
        n: usize,
    ) -> Result<Vec<(String, i64)>, Error> {
        while !self.done {
            let chunk: Vec<(String, String)> = redis::cmd("ZRANGE")
                .arg(&self.key)
                .arg(&self.max)
                .arg(&self.min)
                .arg("BYSCORE")
                .arg("REV")
                .arg("LIMIT")
                .arg(self.offset)
                .arg(n)
                .arg("WITHSCORES")
                .query_async(conn)
                .await?;
            self.offset += chunk.len();
            self.done = chunk.len() < n;
            let items: Vec<(String, i64)> = chunk
                .into_iter()
                .filter_map(|(member, score)| {
                    let score = score
                        .parse::<i64>()
                        .or_else(|_| score.parse::<f64>().map(|f| f as i64))
                        .ok()?;
                    let past = match &self.after {
                        Some((s, m)) => score < *s || (score == *s && member < *m),
                        None => true,
                    };
                    past.then_some((member, score))
                })
                .collect();
            if !items.is_empty() {
                return Ok(items);
            }
        }
        Ok(Vec::new())
    }

    /// Up to `limit + 1` rows past the cursor (one more than a page, so the caller knows
    /// whether another follows): each chunk of members is read by `script` (called with the
    /// key prefix and the members), and `row` turns a member, its score and its cells into a
    /// listed item, or `None` when a filter the index does not cover leaves it out.
    async fn page<T>(
        mut self,
        conn: &mut ConnectionManager,
        prefix: &str,
        script: &scripts::Lua,
        limit: usize,
        mut row: impl FnMut(&str, i64, Cells) -> Result<Option<T>, StoreError>,
    ) -> Result<Vec<(T, String)>, StoreError> {
        let mut items = Vec::new();
        while items.len() <= limit {
            let chunk = self.next(conn, limit + 1).await?;
            if chunk.is_empty() {
                break;
            }
            let mut cmd = script.call();
            cmd.arg(prefix);
            for (member, _) in &chunk {
                cmd.arg(member);
            }
            let reply: redis::Value = scripts::run(conn, script, &cmd)
                .await
                .map_err(Error::from)?;
            for ((member, score), cells) in chunk.into_iter().zip(rows(reply)?) {
                if let Some(item) = row(&member, score, Cells::new(cells))? {
                    items.push((item, member));
                }
            }
        }
        Ok(items)
    }
}

#[async_trait::async_trait]
impl Inspection for RedisStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn())
            .await
            .map_err(Error::from)?;
        // Reachable but refusing acks (persistence unsafe) is not ready either.
        self.inner.ack_mode().await?;
        Ok(())
    }

    async fn count_events(&self) -> Result<u64, StoreError> {
        let n: u64 = redis::cmd("ZCARD")
            .arg(self.keys().events())
            .query_async(&mut self.conn())
            .await
            .map_err(Error::from)?;
        Ok(n)
    }

    async fn jobs_for_event(&self, event_id: &EventId) -> Result<Vec<JobRecord>, StoreError> {
        let script = &SCRIPTS.jobs;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix()).arg(event_id.as_str());
        let reply: redis::Value = scripts::run(&mut self.conn(), script, &cmd).await?;
        rows(reply)?
            .into_iter()
            .map(|row| {
                let mut c = Cells::new(row);
                let _id = c.int()?;
                Ok(JobRecord {
                    event_id: event_id.clone(),
                    route: c.text()?,
                    status: c.word(JobStatus::parse)?,
                    attempts: c.u32()?,
                    due_at_ms: c.int()?,
                    last_error: c.opt_text()?,
                })
            })
            .collect()
    }

    async fn attempts_for_event(&self, event_id: &EventId) -> Result<Vec<Attempt>, StoreError> {
        let stored: Vec<String> = redis::cmd("LRANGE")
            .arg(self.keys().attempts(event_id.as_str()))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await?;
        stored
            .iter()
            .map(|json| {
                let a: StoredAttempt = serde_json::from_str(json)
                    .map_err(|e| Error::Reply(format!("stored attempt {json:?}: {e}")))?;
                Ok(Attempt {
                    number: a.number,
                    route: a.route,
                    started_at_ms: a.started_at_ms,
                    duration_ms: a.duration_ms,
                    outcome: AttemptOutcome::parse(&a.outcome).ok_or_else(|| {
                        Error::Reply(format!("unknown attempt outcome {:?}", a.outcome))
                    })?,
                    http_status: a.http_status,
                    error: a.error,
                })
            })
            .collect()
    }

    async fn dead_letters(
        &self,
        filter: DlqFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DlqPage, StoreError> {
        let after = page::parse_cursor::<String>(cursor.as_deref())?;
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = self.keys();
        let (index, check_source) = match (&filter.route, &filter.source) {
            (Some(route), source) => (keys.dlq_of_route(route), source.clone()),
            (None, Some(source)) => (keys.dlq_of_source(source), None),
            (None, None) => (keys.dlq(), None),
        };
        let scan = DescScan::new(index, filter.since_ms, filter.until_ms, after);
        let items = scan
            .page(
                &mut self.conn(),
                keys.prefix(),
                &SCRIPTS.dlq_items,
                limit,
                |_, score, mut c| {
                    let event_id = c.text()?;
                    let route = c.text()?;
                    let d = DeadLetter {
                        event_id: EventId::stored(event_id),
                        route: Some(route).filter(|r| !r.is_empty()),
                        source: c.text()?,
                        event_type: c.text()?,
                        attempts: c.u32()?,
                        error: c.opt_text()?,
                        received_at_ms: c.int()?,
                        platform_event_id: c.text()?,
                        dead_lettered_at_ms: score,
                    };
                    Ok(check_source
                        .as_ref()
                        .is_none_or(|s| *s == d.source)
                        .then_some(d))
                },
            )
            .await?;
        let (items, next_cursor) = page::cut(items, limit, |d| d.dead_lettered_at_ms);
        Ok(DlqPage { items, next_cursor })
    }

    async fn list_events(
        &self,
        filter: EventFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        let after = page::parse_cursor::<String>(cursor.as_deref())?;
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = self.keys();
        let (index, check_type) = match (&filter.source, &filter.event_type) {
            (Some(source), event_type) => (keys.events_of_source(source), event_type.clone()),
            (None, Some(event_type)) => (keys.events_of_type(event_type), None),
            (None, None) => (keys.events(), None),
        };
        let scan = DescScan::new(index, filter.since_ms, filter.until_ms, after);
        let items = scan
            .page(
                &mut self.conn(),
                keys.prefix(),
                &SCRIPTS.event_items,
                limit,
                |id, _, mut c| {
                    let source = c.text()?;
                    let event_type = c.text()?;
                    let status = c.text()?;
                    // Pruned by retention between the index read and this script: skipped.
                    if status.is_empty() {
                        return Ok(None);
                    }
                    let e = EventSummary {
                        id: EventId::stored(id.to_owned()),
                        source,
                        event_type,
                        status: EventStatus::parse(&status).ok_or_else(|| {
                            Error::Reply(format!("unknown stored word {status:?}"))
                        })?,
                        received_at_ms: c.int()?,
                        jobs: c.u32()?,
                        delivered: c.u32()?,
                        dead_lettered: c.u32()?,
                    };
                    Ok(check_type
                        .as_ref()
                        .is_none_or(|t| *t == e.event_type)
                        .then_some(e))
                },
            )
            .await?;
        let (items, next_cursor) = page::cut(items, limit, |e| e.received_at_ms);
        Ok(EventPage { items, next_cursor })
    }

    async fn queue_stats(&self, now_ms: i64) -> Result<QueueStats, StoreError> {
        let keys = self.keys();
        let (pending, oldest, dead): (u64, Vec<(String, String)>, u64) = redis::pipe()
            .cmd("ZCARD")
            .arg(keys.pending())
            .cmd("ZRANGE")
            .arg(keys.pending())
            .arg(0)
            .arg(0)
            .arg("WITHSCORES")
            .cmd("ZCARD")
            .arg(keys.dlq())
            .query_async(&mut self.conn())
            .await?;
        let oldest_due_ms = oldest
            .first()
            .and_then(|(_, score)| score.parse::<i64>().ok())
            .filter(|due| *due <= now_ms);
        Ok(QueueStats {
            pending,
            oldest_due_ms,
            dead_letters: dead,
        })
    }
}
