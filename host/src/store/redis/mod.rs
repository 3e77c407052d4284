//! The Redis backend, for several hookgate nodes sharing one Redis with the same promises as
//! SQLite: nothing acknowledged is lost, duplicates are stored once, each delivery job runs on
//! one node at a time.
//!
//! - **Ingest** is one Lua script per batch ([`scripts`], `lua/insert.lua`): the idempotency
//!   key (`SET NX`, TTL = the dedupe window), the event hash, its indexes and its jobs are
//!   written together or not at all ([`events`]). Concurrent inserts share the store's
//!   group-commit batcher with SQLite: whatever arrived while the previous batch was on its
//!   way goes in the next script call. [`Receipt`]s are handed out only after the batch is on disk:
//!   `appendfsync always` makes Redis fsync before replying, or the script is followed by
//!   `WAITAOF 1 0` (Redis >= 7.2) on the same connection ([`durability`]). Queue writes
//!   (finish, defer, replay) do not wait for WAITAOF: a crash within `appendfsync everysec`'s
//!   second can lose one, which runs a job again (at-least-once allows that) or undoes a
//!   replay the operator then repeats; no acknowledged event is lost either way.
//! - **Jobs** ([`queue`]) live in one stream per route with one consumer group; delayed
//!   retries wait in a sorted set and are promoted when due; leases are claimed atomically
//!   (see `lua/lease.lua`). Acknowledged entries are deleted, nothing is ever trimmed.
//!   Disabled routes are a hash beside them.
//! - **Inspection** ([`inspect`]): admin pages walk sorted-set indexes by time.
//! - **Faults**: one multiplexed [`ConnectionManager`] reconnects by itself with backoff;
//!   while Redis is unreachable every call fails within about a second with
//!   [`StoreError::Unavailable`] (ingest answers 503, `/ready` fails), and nothing is
//!   acknowledged that was not written. Redis being down at start is such an outage too.
//!
//! - **Cluster state** ([`shared`]): the token buckets and holds every node shares
//!   ([`crate::cluster`]), under the same prefix, over the same connection.
//!
//! Key layout: [`keys`].

mod durability;
mod error;
mod events;
mod inspect;
mod keys;
mod layout;
mod queue;
mod reply;
mod retention;
mod scripts;
mod shared;
#[cfg(test)]
mod tests;

pub use error::{OpenError, redact};
pub use shared::RedisShared;

use super::batch::{BatchLimits, BatchWrite, Batcher};
use super::{Inserted, StoreError};
use crate::model::{EventId, EventStatus, NewEvents};
use durability::Verdict;
use error::Error;
use keys::Keys;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use scripts::SCRIPTS;
use std::sync::Arc;
use std::time::Duration;

/// How the insert writer batches. Inserts waiting beyond 8192 are refused (503) instead of
/// queueing forever behind a stalled Redis; at most 256 requests and 8 MiB of payload go in
/// one script call, so one batch never holds replies back (or blocks Redis, which runs a
/// script alone) for long. Nothing announces inserts, so nothing waits for a window.
const WRITER: BatchLimits = BatchLimits {
    name: "hookgate-redis-writer",
    capacity: 8192,
    max_items: 256,
    max_weight: 8 << 20,
    window: Duration::ZERO,
    metered: true,
};
/// How long WAITAOF may wait for the fsync before the insert counts as failed.
const WAITAOF_TIMEOUT_MS: u64 = 5_000;
/// A consumer idle this long with nothing pending is a stopped node's (pruned at start).
const STALE_CONSUMER_MS: i64 = 24 * 3_600_000;
/// The consumer group every node joins on every route stream.
const GROUP: &str = "hookgate";

/// How to reach Redis and what to promise.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port/db`.
    pub url: String,
    /// Prefix of every key (several gateways, or tests, can share one Redis).
    pub prefix: String,
    /// How long a redelivery is recognised as a duplicate (the idempotency keys' TTL).
    pub dedupe_window: Duration,
    /// Refuse to open when the server's persistence could lose an acknowledged event.
    pub require_durable: bool,
    /// With `rediss://`: the PEM certificate(s) of the CA that signed the server's, instead of
    /// the system's roots.
    pub tls_ca: Option<Vec<u8>>,
}

impl RedisOptions {
    /// Options with hookgate's defaults: prefix `hookgate:`, a 7-day window, durability
    /// required.
    pub fn new(url: impl Into<String>) -> RedisOptions {
        RedisOptions {
            url: url.into(),
            prefix: "hookgate:".into(),
            dedupe_window: Duration::from_secs(7 * 86_400),
            require_durable: true,
            tls_ca: None,
        }
    }
}

/// Redis-backed [`Store`].
pub struct RedisStore {
    inner: Arc<Inner>,
    writer: Batcher<NewEvents, Vec<(EventId, Inserted)>>,
}

struct Inner {
    conn: ConnectionManager,
    keys: Keys,
    /// This process's consumer name in the group: two nodes never share one, so each stream
    /// entry is delivered to one of them.
    consumer: String,
    dedupe_window_ms: u64,
    require_durable: bool,
    /// Whether inserts wait with WAITAOF, once the persistence check has passed (it runs
    /// again on every insert until it does).
    ack_mode: tokio::sync::OnceCell<bool>,
    /// For messages; the password is redacted.
    url: String,
}

impl Inner {
    /// Runs the persistence check (once it passes, never again) and returns whether inserts
    /// wait with WAITAOF. Fails while Redis is unreachable, or while its persistence could
    /// lose an ack and `require_durable` is set.
    async fn ack_mode(&self) -> Result<bool, Error> {
        self.ack_mode
            .get_or_try_init(|| async {
                let persistence = durability::read(&mut self.conn.clone()).await?;
                let verdict = durability::assess(&persistence);
                let url = &self.url;
                match &verdict {
                    Verdict::FsyncAlways => {
                        tracing::info!(url = %url, "Redis fsyncs every write (appendfsync always): an ack survives a crash")
                    }
                    Verdict::WaitAof => {
                        tracing::info!(url = %url, "each insert waits for Redis's AOF fsync (WAITAOF): an ack survives a crash")
                    }
                    Verdict::AtRisk(reason) if self.require_durable => {
                        return Err(Error::NotDurable(reason.clone()));
                    }
                    Verdict::AtRisk(reason) => {
                        tracing::error!(url = %url, "ACKNOWLEDGED EVENTS CAN BE LOST: {reason} (allowed by storage.require_durable = false)")
                    }
                    // Settings it cannot read and no WAITAOF to make sure: a Redis that may
                    // lose acks, which require_durable refuses like one known to.
                    Verdict::Unknown { reason, waitaof: false } if self.require_durable => {
                        return Err(Error::NotDurable(reason.clone()));
                    }
                    Verdict::Unknown { reason, .. } => {
                        tracing::error!(url = %url, "cannot verify that acknowledged events survive a crash: {reason}")
                    }
                }
                // Before the first ack: data this build would misread is never written to.
                layout::ensure(&mut self.conn.clone(), &self.keys).await?;
                Ok(verdict.uses_waitaof())
            })
            .await
            .copied()
    }
}

/// The batch write of the Redis backend: one script call (and its durability wait), run on
/// the batcher's thread through the runtime it was opened on.
struct Writer {
    inner: Arc<Inner>,
    runtime: tokio::runtime::Handle,
}

impl BatchWrite for Writer {
    type Item = NewEvents;
    type Output = Vec<(EventId, Inserted)>;

    fn write(
        &mut self,
        batch: Vec<NewEvents>,
    ) -> Result<Vec<Result<Self::Output, StoreError>>, StoreError> {
        let flags = self.runtime.block_on(write_batch(&self.inner, &batch))?;
        let mut flags = flags.into_iter();
        Ok(batch
            .iter()
            .map(|events| {
                events
                    .records()
                    .iter()
                    .map(|r| {
                        let new = flags
                            .next()
                            .ok_or_else(|| StoreError::Corrupt("missing insert outcome".into()))?;
                        let inserted = if new {
                            Inserted::New
                        } else {
                            Inserted::Duplicate
                        };
                        Ok((r.id.clone(), inserted))
                    })
                    .collect()
            })
            .collect())
    }

    fn weight(events: &NewEvents) -> usize {
        events
            .records()
            .iter()
            .map(|r| r.payload.len() + r.envelope.len())
            .sum()
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.keys.prefix())
            .field("consumer", &self.inner.consumer)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects, checks that acknowledgements will be durable (refusing or warning, as
    /// `options.require_durable` says), and starts the insert writer.
    ///
    /// A bad URL, refused credentials or (with `require_durable`) unsafe persistence are
    /// errors. An unreachable Redis is not: the store opens, `ping` and `insert` fail with
    /// [`StoreError::Unavailable`] (so `/ready` is false and ingest answers 503) and the
    /// connection keeps retrying with backoff; the persistence check runs on the first
    /// contact, and no insert is acknowledged before it passed.
    pub async fn open(options: RedisOptions) -> Result<RedisStore, OpenError> {
        let url = redact(&options.url);
        let password = error::password_of(&options.url);
        let bad_url = |e: redis::RedisError| OpenError::BadUrl {
            url: url.clone(),
            reason: error::scrub(&e.to_string(), password.as_deref()),
        };
        // `rediss://` is TLS (rustls): verified against the given CA, else the system's roots.
        // An ACL user is the URL's user name (`rediss://user:password@host`).
        let client = match &options.tls_ca {
            Some(ca) => redis::Client::build_with_tls(
                options.url.as_str(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(ca.clone()),
                },
            ),
            None => redis::Client::open(options.url.as_str()),
        }
        .map_err(bad_url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(10)))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(bad_url)?;
        let inner = Arc::new(Inner {
            conn,
            keys: Keys::new(&options.prefix),
            consumer: consumer_name(),
            dedupe_window_ms: u64::try_from(options.dedupe_window.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
            require_durable: options.require_durable,
            ack_mode: tokio::sync::OnceCell::new(),
            url: url.clone(),
        });
        match inner.ack_mode().await {
            Ok(_) => {}
            Err(Error::NotDurable(reason)) => return Err(OpenError::NotDurable { url, reason }),
            Err(Error::Redis(e)) if error::is_connection_error(&e) => {
                let error = error::scrub(&e.to_string(), password.as_deref());
                tracing::error!(url = %url, %error, "Redis is unreachable: /ready fails and ingest answers 503 until it answers; reconnecting in the background");
            }
            Err(Error::Redis(e)) => {
                return Err(OpenError::connecting(&options.url, password.as_deref(), &e));
            }
            Err(Error::Reply(reason)) => return Err(OpenError::Server { url, reason }),
        }
        let writer = Writer {
            inner: inner.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        let writer = Batcher::start(writer, WRITER).map_err(|e| OpenError::Server {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        // Best effort, off the start path: stopped nodes' consumer names.
        let pruner = inner.clone();
        tokio::spawn(async move {
            match queue::prune_consumers(&pruner, STALE_CONSUMER_MS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(consumers = n, "removed idle consumers of stopped nodes"),
                Err(e) => tracing::debug!(error = %e, "could not prune idle consumers"),
            }
        });
        Ok(RedisStore { inner, writer })
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    fn keys(&self) -> &Keys {
        &self.inner.keys
    }
}

/// `<host>-<pid>-<random>`: unique per process, and recognisable in `XINFO CONSUMERS`.
fn consumer_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".into());
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{host}-{}-{:08x}", std::process::id(), h.finish() as u32)
}

/// One script call for the whole batch (plus WAITAOF on the same connection when that is how
/// durability is reached); returns, per event in order, whether it was new.
async fn write_batch(inner: &Inner, batch: &[NewEvents]) -> Result<Vec<bool>, Error> {
    let script = &SCRIPTS.insert;
    let mut cmd = script.call();
    let count: usize = batch.iter().map(|events| events.records().len()).sum();
    let now = crate::model::unix_ms(std::time::SystemTime::now());
    cmd.arg(inner.keys.prefix())
        .arg(GROUP)
        .arg(inner.dedupe_window_ms)
        .arg(now)
        .arg(count);
    for events in batch {
        for (r, routes) in events.with_routes() {
            cmd.arg(r.id.as_str())
                .arg(&r.source)
                .arg(&r.platform_event_id)
                .arg(&r.event_type)
                .arg(r.status.as_str())
                .arg(if r.error.is_some() { "1" } else { "0" })
                .arg(r.error.as_deref().unwrap_or(""))
                .arg(r.received_at_ms)
                .arg(&r.envelope)
                .arg(&r.payload[..]);
            // A dead-lettered record goes nowhere, even if routes were attached.
            if r.status == EventStatus::Pending {
                cmd.arg(routes.len()).arg(routes);
            } else {
                cmd.arg(0);
            }
        }
    }
    let waitaof = inner.ack_mode().await?;
    let mut conn = inner.conn.clone();
    let flags: Vec<i64> = if waitaof {
        let mut pipe = redis::pipe();
        pipe.add_command(cmd)
            .cmd("WAITAOF")
            .arg(1)
            .arg(0)
            .arg(WAITAOF_TIMEOUT_MS);
        let (flags, (local, _replicas)): (Vec<i64>, (i64, i64)) =
            match pipe.query_async(&mut conn).await {
                Err(e) if scripts::is_noscript(&e) => {
                    script.load(&mut conn).await?;
                    pipe.query_async(&mut conn).await?
                }
                other => other?,
            };
        if local < 1 {
            return Err(Error::Reply(format!(
                "WAITAOF: the write was not fsynced within {WAITAOF_TIMEOUT_MS} ms"
            )));
        }
        flags
    } else {
        scripts::run(&mut conn, script, &cmd).await?
    };
    if flags.len() != count {
        return Err(Error::Reply(format!(
            "insert returned {} outcomes for {count} events",
            flags.len()
        )));
    }
    Ok(flags.into_iter().map(|f| f == 1).collect())
}
