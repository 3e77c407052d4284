//! Retention on Redis: `lua/prune.lua` walks `events` by receive time and deletes, in one
//! atomic step per call, what `[storage.retention]` lets go. The idempotency keys are left to
//! their TTL (the dedupe window), so a pruned event's redelivery inside the window is still a
//! duplicate.

use super::GROUP;
use super::RedisStore;
use super::error::Error;
use super::scripts::{self, SCRIPTS};
use crate::store::{PrunePolicy, Pruned, Retention, StoreError};

/// Events examined by one script call at most: Redis runs a script alone, and a few hundred
/// events' deletes take about a millisecond.
const MAX_PER_CALL: usize = 200;

#[async_trait::async_trait]
impl Retention for RedisStore {
    async fn prune(
        &self,
        policy: PrunePolicy,
        cursor: Option<String>,
        max: usize,
    ) -> Result<Pruned, StoreError> {
        let (after_score, after_member) =
            match crate::store::page::parse_cursor::<String>(cursor.as_deref())? {
                Some((score, member)) => (score.to_string(), member),
                None => (String::new(), String::new()),
            };
        let max = max.clamp(1, MAX_PER_CALL);
        let script = &SCRIPTS.prune;
        let mut cmd = script.call();
        cmd.arg(self.keys().prefix())
            .arg(GROUP)
            .arg(policy.delivered_before_ms)
            .arg(policy.dead_lettered_before_ms)
            .arg(max)
            .arg(&after_score)
            .arg(&after_member);
        let (deleted, examined, score, member): (usize, usize, String, String) =
            scripts::run(&mut self.conn(), script, &cmd)
                .await
                .map_err(Error::from)?;
        Ok(Pruned {
            events: deleted,
            next: (examined == max).then(|| format!("{score}.{member}")),
        })
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut self.conn())
            .await
            .map_err(Error::from)?;
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| Error::Reply("INFO memory has no used_memory".into()).into())
    }
}
