//! Reading the SQLite store for the admin API and monitoring, on the reader pool.

use super::SqliteStore;
use crate::model::EventId;
use crate::store::page;
use crate::store::queue::{
    Attempt, DeadLetter, DlqFilter, DlqPage, EventFilter, EventPage, EventSummary, QueueStats,
};
use crate::store::{Inspection, JobRecord, StoreError};
use rusqlite::params_from_iter;
use rusqlite::types::Value;

#[async_trait::async_trait]
impl Inspection for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .await?;
        Ok(())
    }

    async fn count_events(&self) -> Result<u64, StoreError> {
        self.read(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n.max(0) as u64)
    }

    async fn jobs_for_event(&self, event_id: &EventId) -> Result<Vec<JobRecord>, StoreError> {
        let event_id = event_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT event_id, route, status, attempts, due_at_ms, last_error
                 FROM jobs WHERE event_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([event_id], |r| {
                Ok(JobRecord {
                    event_id: r.get(0)?,
                    route: r.get(1)?,
                    status: r.get(2)?,
                    attempts: r.get(3)?,
                    due_at_ms: r.get(4)?,
                    last_error: r.get(5)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn attempts_for_event(&self, event_id: &EventId) -> Result<Vec<Attempt>, StoreError> {
        let event_id = event_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.number, j.route, a.started_at_ms, a.duration_ms, a.outcome, a.http_status, a.error
                 FROM attempts a JOIN jobs j ON j.id = a.job_id
                 WHERE j.event_id = ?1 ORDER BY a.id",
            )?;
            let rows = stmt.query_map([event_id], |r| {
                Ok(Attempt {
                    number: r.get(0)?,
                    route: r.get(1)?,
                    started_at_ms: r.get(2)?,
                    duration_ms: r.get(3)?,
                    outcome: r.get(4)?,
                    http_status: r.get(5)?,
                    error: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn dead_letters(
        &self,
        filter: DlqFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<DlqPage, StoreError> {
        // `{time}.{key}` of the last row of the previous page; the key is a job id, a negated
        // event rowid (dead letters), or an event rowid (events).
        let after = page::parse_cursor::<i64>(cursor.as_deref())?;
        let limit = limit.clamp(1, 1000);
        self.read(move |c| {
            // Jobs that gave up, and payloads that could not be normalized (no job; keyed by
            // their negated rowid so one cursor orders both).
            let mut sql = String::from(
                "SELECT event_id, route, source, type, attempts, error, received_at_ms, at, key, pid FROM (
                   SELECT j.event_id AS event_id, j.route AS route, e.source AS source,
                          e.type AS type, j.attempts AS attempts, j.last_error AS error,
                          e.received_at_ms AS received_at_ms, j.updated_at_ms AS at, j.id AS key,
                          e.platform_event_id AS pid
                   FROM jobs j JOIN events e ON e.id = j.event_id
                   WHERE j.status = 'dead_lettered'
                   UNION ALL
                   SELECT e.id, NULL, e.source, e.type, 0, e.error, e.received_at_ms,
                          e.received_at_ms, -e.rowid, e.platform_event_id
                   FROM events e WHERE e.status = 'dead_lettered'
                 ) WHERE 1 = 1",
            );
            let mut args = filter_sql(&filter, &mut sql);
            if let Some((at, id)) = after {
                sql.push_str(" AND (at < ? OR (at = ? AND key < ?))");
                args.extend([Value::Integer(at), Value::Integer(at), Value::Integer(id)]);
            }
            sql.push_str(" ORDER BY at DESC, key DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
            let mut stmt = c.prepare(&sql)?;
            let rows: Vec<(DeadLetter, i64)> = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        DeadLetter {
                            event_id: r.get(0)?,
                            route: r.get(1)?,
                            source: r.get(2)?,
                            event_type: r.get(3)?,
                            attempts: r.get(4)?,
                            error: r.get(5)?,
                            received_at_ms: r.get(6)?,
                            dead_lettered_at_ms: r.get(7)?,
                            platform_event_id: r.get(9)?,
                        },
                        r.get(8)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let (items, next_cursor) = page::cut(rows, limit, |d| d.dead_lettered_at_ms);
            Ok(DlqPage { items, next_cursor })
        })
        .await
    }

    async fn list_events(
        &self,
        filter: EventFilter,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        // `{time}.{key}` of the last row of the previous page; the key is a job id, a negated
        // event rowid (dead letters), or an event rowid (events).
        let after = page::parse_cursor::<i64>(cursor.as_deref())?;
        let limit = limit.clamp(1, 1000);
        self.read(move |c| {
            let mut sql = String::from(
                "SELECT e.id, e.source, e.type, e.status, e.received_at_ms, e.rowid,
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id),
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id AND j.status = 'delivered'),
                        (SELECT count(*) FROM jobs j WHERE j.event_id = e.id AND j.status = 'dead_lettered')
                 FROM events e WHERE 1 = 1",
            );
            let mut args: Vec<Value> = Vec::new();
            if let Some(source) = &filter.source {
                sql.push_str(" AND e.source = ?");
                args.push(Value::Text(source.clone()));
            }
            if let Some(event_type) = &filter.event_type {
                sql.push_str(" AND e.type = ?");
                args.push(Value::Text(event_type.clone()));
            }
            if let Some(since) = filter.since_ms {
                sql.push_str(" AND e.received_at_ms >= ?");
                args.push(Value::Integer(since));
            }
            if let Some(until) = filter.until_ms {
                sql.push_str(" AND e.received_at_ms < ?");
                args.push(Value::Integer(until));
            }
            if let Some((at, rowid)) = after {
                sql.push_str(
                    " AND (e.received_at_ms < ? OR (e.received_at_ms = ? AND e.rowid < ?))",
                );
                args.extend([Value::Integer(at), Value::Integer(at), Value::Integer(rowid)]);
            }
            sql.push_str(" ORDER BY e.received_at_ms DESC, e.rowid DESC LIMIT ?");
            args.push(Value::Integer(limit as i64 + 1));
            let mut stmt = c.prepare(&sql)?;
            let rows: Vec<(EventSummary, i64)> = stmt
                .query_map(params_from_iter(args), |r| {
                    Ok((
                        EventSummary {
                            id: r.get(0)?,
                            source: r.get(1)?,
                            event_type: r.get(2)?,
                            status: r.get(3)?,
                            received_at_ms: r.get(4)?,
                            jobs: r.get(6)?,
                            delivered: r.get(7)?,
                            dead_lettered: r.get(8)?,
                        },
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let (items, next_cursor) = page::cut(rows, limit, |e| e.received_at_ms);
            Ok(EventPage { items, next_cursor })
        })
        .await
    }

    async fn queue_stats(&self, now_ms: i64) -> Result<QueueStats, StoreError> {
        self.read(move |c| {
            let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
            let pending = count("SELECT count(*) FROM jobs WHERE status = 'pending'")?;
            let dead = count("SELECT count(*) FROM jobs WHERE status = 'dead_lettered'")?
                + count("SELECT count(*) FROM events WHERE status = 'dead_lettered'")?;
            let oldest_due_ms = c.query_row(
                "SELECT MIN(due_at_ms) FROM jobs WHERE status = 'pending' AND due_at_ms <= ?1",
                [now_ms],
                |r| r.get::<_, Option<i64>>(0),
            )?;
            Ok(QueueStats {
                pending: pending.max(0) as u64,
                oldest_due_ms,
                dead_letters: dead.max(0) as u64,
            })
        })
        .await
    }
}

/// Appends the filter's conditions to `sql` and returns their arguments.
fn filter_sql(filter: &DlqFilter, sql: &mut String) -> Vec<Value> {
    let mut args = Vec::new();
    if let Some(source) = &filter.source {
        sql.push_str(" AND source = ?");
        args.push(Value::Text(source.clone()));
    }
    if let Some(route) = &filter.route {
        sql.push_str(" AND route = ?");
        args.push(Value::Text(route.clone()));
    }
    if let Some(since) = filter.since_ms {
        sql.push_str(" AND at >= ?");
        args.push(Value::Integer(since));
    }
    if let Some(until) = filter.until_ms {
        sql.push_str(" AND at < ?");
        args.push(Value::Integer(until));
    }
    args
}
