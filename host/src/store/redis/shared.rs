//! [`SharedState`] on Redis: the cluster's token buckets and holds, next to the store's data
//! under the same key prefix and over the same multiplexed connection.
//!
//! Each operation is one script (`lua/take_token.lua`, `lua/hold.lua`, `lua/holds.lua`) that
//! reads Redis's own clock (`TIME`), so it is atomic across nodes and immune to their clock
//! skew. None waits for WAITAOF: losing the last second of bucket or hold state in a Redis
//! crash lets a few deliveries through early at worst, and never loses an event.

use super::error::Error;
use super::keys::Keys;
use super::scripts::{self, SCRIPTS};
use super::{Inner, RedisStore};
use crate::config::RateLimit;
use crate::store::StoreError;
use crate::store::{MAX_TOKEN_WAIT, SharedState, Token};
use std::sync::Arc;
use std::time::Duration;

/// The Redis-backed cluster state of one [`RedisStore`] (same Redis, same prefix).
#[derive(Clone)]
pub struct RedisShared {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisShared")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.keys.prefix())
            .finish()
    }
}

impl RedisStore {
    /// The cluster-wide coordination state that goes with this store: every node opened on
    /// the same Redis and `key_prefix` shares it.
    pub fn shared_state(&self) -> RedisShared {
        RedisShared {
            inner: self.inner.clone(),
        }
    }
}

impl RedisShared {
    fn keys(&self) -> &Keys {
        &self.inner.keys
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait::async_trait]
impl SharedState for RedisShared {
    async fn take_token(&self, bucket: &str, limit: RateLimit) -> Result<Token, StoreError> {
        let key = self.keys().bucket(bucket);
        let mut cmd = SCRIPTS.take_token.call_keys(&[&key]);
        cmd.arg(limit.per_second).arg(limit.burst.max(1));
        let wait_ms: i64 = scripts::run(&mut self.inner.conn.clone(), &SCRIPTS.take_token, &cmd)
            .await
            .map_err(Error::from)?;
        Ok(match u64::try_from(wait_ms) {
            Ok(0) => Token::Granted,
            Ok(ms) => Token::WaitFor(Duration::from_millis(ms).min(MAX_TOKEN_WAIT)),
            Err(_) => return Err(Error::Reply(format!("token bucket wait {wait_ms}")).into()),
        })
    }

    async fn hold(&self, route: &str, duration: Duration) -> Result<Duration, StoreError> {
        let key = self.keys().holds();
        let mut cmd = SCRIPTS.hold.call_keys(&[&key]);
        cmd.arg(route).arg(millis(duration).max(1));
        let left: i64 = scripts::run(&mut self.inner.conn.clone(), &SCRIPTS.hold, &cmd)
            .await
            .map_err(Error::from)?;
        Ok(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
    }

    async fn holds(&self) -> Result<Vec<(String, Duration)>, StoreError> {
        let key = self.keys().holds();
        let cmd = SCRIPTS.holds.call_keys(&[&key]);
        let flat: Vec<(String, i64)> =
            scripts::run(&mut self.inner.conn.clone(), &SCRIPTS.holds, &cmd)
                .await
                .map_err(Error::from)?;
        Ok(flat
            .into_iter()
            .map(|(route, ms)| (route, Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::redis::RedisOptions;
    use hookgate_testkit::redis::{Persistence, RedisServer, unique_prefix};
    use std::time::Instant;

    /// Two "nodes": two stores (two connections) on one Redis and one prefix.
    async fn two_nodes(server: &RedisServer) -> (RedisShared, RedisShared) {
        let prefix = unique_prefix();
        let open = || async {
            RedisStore::open(RedisOptions {
                prefix: prefix.clone(),
                ..RedisOptions::new(server.url())
            })
            .await
            .expect("open")
            .shared_state()
        };
        (open().await, open().await)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_together_get_at_most_burst_plus_rate_times_elapsed() {
        let server = RedisServer::shared();
        let (a, b) = two_nodes(&server).await;
        let limit = RateLimit {
            per_second: 20.0,
            burst: 5,
        };
        let started = Instant::now();
        let run = |node: RedisShared| {
            tokio::spawn(async move {
                let (mut taken, mut calls) = (0u32, 0u32);
                let deadline = Instant::now() + Duration::from_millis(1500);
                while Instant::now() < deadline {
                    calls += 1;
                    match node.take_token("route:r", limit).await.expect("redis") {
                        Token::Granted => taken += 1,
                        // Never longer than one token's refill at this rate.
                        Token::WaitFor(wait) => {
                            assert!(wait <= Duration::from_millis(50), "{wait:?}")
                        }
                    }
                }
                eprintln!(
                    "{calls} calls in 1.5 s: {:?} each",
                    Duration::from_millis(1500) / calls
                );
                taken
            })
        };
        let (ta, tb) = (run(a), run(b));
        let (ta, tb) = (ta.await.unwrap(), tb.await.unwrap());
        let elapsed = started.elapsed().as_secs_f64();
        let allowed = 5.0 + 20.0 * elapsed;
        let total = f64::from(ta + tb);
        assert!(
            total <= allowed.floor(),
            "{ta} + {tb} tokens in {elapsed:.3} s, at most {allowed:.1} allowed"
        );
        // And the bucket really refills: it is a limit, not a wall. Not a rate check: with
        // fsync on every write a slow disk can stall Redis for hundreds of milliseconds, and
        // a bucket never holds more than its burst, so a stall loses refill for good.
        assert!(
            total > 5.0,
            "only {total} tokens in {elapsed:.3} s: the bucket never refilled"
        );
        assert!(ta > 0 && tb > 0, "both nodes took tokens: {ta}, {tb}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_empty_bucket_says_how_long_until_the_next_token_on_any_node() {
        let server = RedisServer::shared();
        let (a, b) = two_nodes(&server).await;
        let limit = RateLimit {
            per_second: 2.0,
            burst: 2,
        };
        assert_eq!(
            a.take_token("source:s", limit).await.unwrap(),
            Token::Granted
        );
        assert_eq!(
            b.take_token("source:s", limit).await.unwrap(),
            Token::Granted
        );
        let wait = a
            .take_token("source:s", limit)
            .await
            .unwrap()
            .granted()
            .unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        let wait = b
            .take_token("source:s", limit)
            .await
            .unwrap()
            .granted()
            .unwrap_err();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        // Another bucket is not affected.
        assert_eq!(
            b.take_token("route:s", limit).await.unwrap(),
            Token::Granted
        );
        tokio::time::sleep(wait).await;
        assert_eq!(
            b.take_token("source:s", limit).await.unwrap(),
            Token::Granted
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn holds_are_seen_by_every_node_and_the_later_one_wins() {
        let server = RedisServer::shared();
        let (a, b) = two_nodes(&server).await;
        assert!(b.holds().await.unwrap().is_empty());
        let held = a.hold("crm", Duration::from_secs(20)).await.unwrap();
        assert!(held > Duration::from_millis(19_900), "{held:?}");
        let seen = b.holds().await.unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, "crm");
        assert!(seen[0].1 > Duration::from_millis(19_900), "{seen:?}");
        // A shorter hold does not cut the longer one short...
        let held = b.hold("crm", Duration::from_secs(1)).await.unwrap();
        assert!(held > Duration::from_millis(19_900), "{held:?}");
        // ...a longer one extends it.
        b.hold("crm", Duration::from_secs(60)).await.unwrap();
        let seen = a.holds().await.unwrap();
        assert!(seen[0].1 > Duration::from_millis(59_900), "{seen:?}");
        // A hold ends by itself and is then gone for every node.
        a.hold("ledger", Duration::from_millis(500)).await.unwrap();
        let routes = |holds: Vec<(String, Duration)>| -> Vec<String> {
            holds.into_iter().map(|(r, _)| r).collect()
        };
        assert!(routes(b.holds().await.unwrap()).contains(&"ledger".to_owned()));
        hookgate_testkit::eventually(Duration::from_secs(5), "the short hold to end", || async {
            (routes(b.holds().await.unwrap()) == ["crm"]).then_some(())
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_down_is_a_store_error_not_an_answer() {
        let mut server = RedisServer::private(Persistence::Durable);
        let (a, _) = two_nodes(&server).await;
        let limit = RateLimit {
            per_second: 1.0,
            burst: 1,
        };
        assert_eq!(
            a.take_token("route:r", limit).await.unwrap(),
            Token::Granted
        );
        server.kill();
        assert!(matches!(
            a.take_token("route:r", limit).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            a.hold("r", Duration::from_secs(1)).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(a.holds().await, Err(StoreError::Unavailable(_))));
        // Back (with an empty script cache): the scripts are loaded again and state survived.
        server.restart();
        hookgate_testkit::eventually(Duration::from_secs(20), "Redis to answer again", || async {
            a.holds().await.ok()
        })
        .await;
        assert!(a.take_token("route:r", limit).await.is_ok());
        assert!(a.hold("r", Duration::from_secs(1)).await.is_ok());
    }
}
