//! The delivery queue on Redis: leases, attempts, retries, replays, and reading jobs and
//! events back. Each state change is one script (see `lua/`), so a crash at any point leaves
//! each job either still pending (and run again once its lease expires) or finished with its
//! history.
//!
//! Leases are measured in the caller's clock (`now_ms`), like the trait says and SQLite does:
//! the `leases` sorted set orders leased jobs by expiry, and an expired one is claimed from
//! whichever consumer held it with XCLAIM. Redis's own idle time (what XAUTOCLAIM measures) is
//! not used, because it runs on the server's clock: a job must become free exactly when its
//! lease says so, not when two clocks happen to agree. Nodes are expected to keep their
//! clocks in step (NTP); the lease duration dwarfs any sane skew.
//!
//! Order of a lease: expired leases first (earliest expiry first), then new entries, one
//! route at a time in turn. Within a route that is the order in which jobs became due
//! (inserted, or promoted from `delayed` in due order); across routes it is fair turns rather
//! than a strict global "oldest due first", which would need a merge over every stream and
//! lets one busy route starve the others anyway.

use super::error::Error;
use super::reply::{Cells, rows};
use super::scripts::{self, SCRIPTS};
use super::{GROUP, Inner, RedisStore};
use crate::model::EventId;
use crate::store::queue::{Attempt, DisabledRoute, LeasedJob, Next};
use crate::store::{JobQueue, RouteState, StoreError};

/// Removes from every route's group the consumers that hold nothing and were idle for
/// `min_idle_ms`: each process start adds a consumer name, and the names of stopped
/// nodes would otherwise pile up in `XINFO CONSUMERS`. Safe against a live node that was
/// merely quiet: it holds no entry, and its next read creates it again. Returns how many
/// were removed.
pub(super) async fn prune_consumers(inner: &Inner, min_idle_ms: i64) -> Result<usize, Error> {
    let mut conn = inner.conn.clone();
    let routes: Vec<String> = redis::cmd("SMEMBERS")
        .arg(inner.keys.routes())
        .query_async(&mut conn)
        .await?;
    let mut removed = 0;
    for route in routes {
        let stream = inner.keys.stream(&route);
        let consumers: Vec<std::collections::HashMap<String, redis::Value>> =
            match redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(&stream)
                .arg(GROUP)
                .query_async(&mut conn)
                .await
            {
                Ok(c) => c,
                // No such stream or group (yet): nothing to prune.
                Err(e) if !super::error::is_connection_error(&e) => continue,
                Err(e) => return Err(e.into()),
            };
        for c in consumers {
            let field = |name: &str| c.get(name).cloned().unwrap_or(redis::Value::Nil);
            let name = super::reply::text(field("name"))?;
            let pending = super::reply::int(field("pending"))?;
            let idle = super::reply::int(field("idle"))?;
            if pending == 0 && idle >= min_idle_ms && name != inner.consumer {
                let _: i64 = redis::cmd("XGROUP")
                    .arg("DELCONSUMER")
                    .arg(&stream)
                    .arg(GROUP)
                    .arg(&name)
                    .query_async(&mut conn)
                    .await?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[async_trait::async_trait]
impl JobQueue for RedisStore {
    async fn lease(
        &self,
        now_ms: i64,
        lease: std::time::Duration,
        limit: usize,
        skip_routes: Vec<String>,
    ) -> Result<Vec<LeasedJob>, StoreError> {
        let script = &SCRIPTS.lease;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix())
            .arg(GROUP)
            .arg(&self.inner.consumer)
            .arg(now_ms)
            .arg(now_ms.saturating_add(crate::model::duration_ms(lease)))
            .arg(limit)
            .arg(skip_routes.len())
            .arg(&skip_routes);
        let reply: redis::Value = scripts::run(&mut self.conn(), script, &cmd).await?;
        rows(reply)?
            .into_iter()
            .map(|row| {
                let mut c = Cells::new(row);
                Ok(LeasedJob {
                    id: c.int()?,
                    event_id: EventId::stored(c.text()?),
                    route: c.text()?,
                    attempts: c.u32()?,
                    lease_until_ms: c.int()?,
                    event_type: c.text()?,
                    envelope: c.text()?,
                    payload: c.bytes()?,
                })
            })
            .collect()
    }

    async fn finish(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        attempt: Attempt,
        next: Next,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(&attempt)
            .map_err(|e| Error::Reply(format!("encoding an attempt: {e}")))?;
        let now = attempt.started_at_ms + attempt.duration_ms;
        let (kind, due, error) = match next {
            Next::Delivered => ("delivered", now, None),
            Next::RetryAt(due) => ("retry", due, attempt.error.clone()),
            Next::DeadLetter(error) => ("dead", now, Some(error)),
        };
        let script = &SCRIPTS.finish;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix())
            .arg(GROUP)
            .arg(job_id)
            .arg(lease_until_ms)
            .arg(json)
            .arg(attempt.number)
            .arg(kind)
            .arg(due)
            .arg(if error.is_some() { "1" } else { "0" })
            .arg(error.as_deref().unwrap_or(""))
            .arg(now);
        let changed: i64 = scripts::run(&mut self.conn(), script, &cmd).await?;
        Ok(changed == 1)
    }

    async fn defer(
        &self,
        job_id: i64,
        lease_until_ms: i64,
        due_at_ms: i64,
    ) -> Result<(), StoreError> {
        let script = &SCRIPTS.defer;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix())
            .arg(GROUP)
            .arg(job_id)
            .arg(lease_until_ms)
            .arg(due_at_ms);
        let _: i64 = scripts::run(&mut self.conn(), script, &cmd).await?;
        Ok(())
    }

    async fn replay(
        &self,
        event_id: &EventId,
        routes: Vec<String>,
        now_ms: i64,
    ) -> Result<Vec<String>, StoreError> {
        let script = &SCRIPTS.replay;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix())
            .arg(GROUP)
            .arg(event_id.as_str())
            .arg(now_ms)
            .arg(&routes);
        Ok(scripts::run(&mut self.conn(), script, &cmd).await?)
    }
}

#[async_trait::async_trait]
impl RouteState for RedisStore {
    async fn disable_route(
        &self,
        route: &str,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let value = serde_json::json!({ "reason": reason, "since_ms": now_ms }).to_string();
        // The first reason and time stay (the route was disabled then).
        let _: i64 = redis::cmd("HSETNX")
            .arg(self.keys().disabled())
            .arg(route)
            .arg(value)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn enable_route(&self, route: &str) -> Result<bool, StoreError> {
        let removed: i64 = redis::cmd("HDEL")
            .arg(self.keys().disabled())
            .arg(route)
            .query_async(&mut self.conn())
            .await?;
        Ok(removed > 0)
    }

    async fn disabled_routes(&self) -> Result<Vec<DisabledRoute>, StoreError> {
        let all: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.keys().disabled())
            .query_async(&mut self.conn())
            .await?;
        let mut routes = all
            .into_iter()
            .map(|(route, json)| {
                let v: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| Error::Reply(format!("disabled route {route:?}: {e}")))?;
                Ok(DisabledRoute {
                    reason: v["reason"].as_str().unwrap_or_default().to_owned(),
                    since_ms: v["since_ms"].as_i64().unwrap_or_default(),
                    route,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        routes.sort_by(|a, b| a.route.cmp(&b.route));
        Ok(routes)
    }
}
