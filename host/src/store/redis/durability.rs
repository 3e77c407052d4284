//! Whether an acknowledgement can be lost: the persistence check run when the store opens.
//!
//! An ingest is acknowledged (202) only after its write is on disk. Redis gives two ways:
//! `appendonly yes` + `appendfsync always` (Redis fsyncs the AOF before it replies to a write),
//! or, from Redis 7.2, `WAITAOF 1 0` after the write (the reply waits until the local AOF has
//! it fsynced, whatever `appendfsync` says). Anything else (AOF off; `everysec` or `no` on an
//! older server) can lose acknowledged events in a crash. So can an eviction policy that lets
//! Redis delete keys without a TTL under memory pressure (`allkeys-*`): events and jobs have
//! none. The verdict is pure ([`assess`]), so every combination is tested without a server.

use super::error::Error;
use redis::aio::ConnectionManager;

/// What the server said about its persistence; `None` where it would not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Persistence {
    /// `CONFIG GET appendonly`.
    pub appendonly: Option<bool>,
    /// `CONFIG GET appendfsync`.
    pub appendfsync: Option<String>,
    /// `CONFIG GET maxmemory-policy`.
    pub maxmemory_policy: Option<String>,
    /// `redis_version` from `INFO server`.
    pub version: Option<(u32, u32, u32)>,
    /// Why `CONFIG GET` failed (managed services often disable it).
    pub config_error: Option<String>,
}

/// How acknowledgements are made durable, or why they are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Every write is fsynced before its reply (`appendfsync always`).
    FsyncAlways,
    /// Each insert is followed by `WAITAOF 1 0` (Redis >= 7.2 with AOF on).
    WaitAof,
    /// Acks could be lost, for this reason.
    AtRisk(String),
    /// The settings could not be read, for this reason; WAITAOF is used where the server
    /// supports it (and fails the insert if AOF turns out to be off).
    Unknown {
        /// Why the settings are unknown.
        reason: String,
        /// Whether WAITAOF will be used.
        waitaof: bool,
    },
}

impl Verdict {
    /// Whether inserts wait with WAITAOF.
    pub(super) fn uses_waitaof(&self) -> bool {
        matches!(
            self,
            Verdict::WaitAof | Verdict::Unknown { waitaof: true, .. }
        )
    }
}

/// Redis 7.2 introduced WAITAOF.
fn has_waitaof(version: Option<(u32, u32, u32)>) -> bool {
    version.is_some_and(|v| v >= (7, 2, 0))
}

/// The verdict on what the server reported.
pub(super) fn assess(p: &Persistence) -> Verdict {
    let waitaof = has_waitaof(p.version);
    // volatile-* policies evict only keys with a TTL (here: idempotency keys, whose loss a
    // stored event still covers); allkeys-* may evict events and jobs themselves.
    if let Some(policy) = p
        .maxmemory_policy
        .as_deref()
        .filter(|p| p.starts_with("allkeys-"))
    {
        return Verdict::AtRisk(format!(
            "maxmemory-policy is {policy}: under memory pressure Redis deletes stored events \
             and delivery jobs; use noeviction (writes then fail, and ingest answers 503)"
        ));
    }
    match (p.appendonly, p.appendfsync.as_deref()) {
        (Some(false), _) => Verdict::AtRisk(
            "appendonly is no: acknowledged events live only in memory until the next RDB \
             snapshot"
                .into(),
        ),
        (Some(true), Some("always")) => Verdict::FsyncAlways,
        (Some(true), _) if waitaof => Verdict::WaitAof,
        (Some(true), other) => Verdict::AtRisk(format!(
            "appendfsync is {} on Redis {} (no WAITAOF before 7.2): up to a second of \
             acknowledged events can be lost in a crash",
            other.unwrap_or("unknown"),
            version_text(p.version)
        )),
        (None, _) => Verdict::Unknown {
            reason: format!(
                "cannot read the persistence settings ({}); {}",
                p.config_error
                    .as_deref()
                    .unwrap_or("CONFIG GET gave no answer"),
                if waitaof {
                    "inserts wait with WAITAOF, which fails them if AOF is off"
                } else {
                    "whether an ack survives a crash depends on settings hookgate cannot see"
                }
            ),
            waitaof,
        },
    }
}

fn version_text(v: Option<(u32, u32, u32)>) -> String {
    v.map_or_else(
        || "of unknown version".into(),
        |(a, b, c)| format!("{a}.{b}.{c}"),
    )
}

/// Asks the server (CONFIG GET, INFO server).
///
/// Fails only when Redis cannot be reached or refuses the connection (the PING); a server
/// that keeps INFO or CONFIG from this user gives an answer with `None`s.
pub(super) async fn read(conn: &mut ConnectionManager) -> Result<Persistence, Error> {
    let _: String = redis::cmd("PING").query_async(conn).await?;
    let info: Option<String> = redis::cmd("INFO")
        .arg("server")
        .query_async(conn)
        .await
        .or_else(|e| {
            if super::error::is_connection_error(&e) {
                Err(e)
            } else {
                Ok(None)
            }
        })?;
    let version = info
        .as_deref()
        .and_then(|info| info.lines().find_map(|l| l.strip_prefix("redis_version:")))
        .and_then(parse_version);
    let mut p = Persistence {
        version,
        ..Persistence::default()
    };
    match config_get(conn, "appendonly").await {
        Ok(value) => {
            p.appendonly = value.map(|v| v == "yes");
            p.appendfsync = config_get(conn, "appendfsync").await.ok().flatten();
            p.maxmemory_policy = config_get(conn, "maxmemory-policy").await.ok().flatten();
        }
        Err(e) if super::error::is_connection_error(&e) => return Err(e.into()),
        Err(e) => p.config_error = Some(e.to_string()),
    }
    Ok(p)
}

async fn config_get(
    conn: &mut ConnectionManager,
    name: &str,
) -> Result<Option<String>, redis::RedisError> {
    let pairs: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query_async(conn)
        .await?;
    Ok(pairs.into_iter().nth(1))
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(aof: Option<bool>, fsync: Option<&str>, v: (u32, u32, u32)) -> Persistence {
        Persistence {
            appendonly: aof,
            appendfsync: fsync.map(str::to_owned),
            version: Some(v),
            config_error: aof.is_none().then(|| "ERR unknown command 'CONFIG'".into()),
            maxmemory_policy: aof.map(|_| "noeviction".into()),
        }
    }

    #[test]
    fn an_eviction_policy_that_may_delete_events_is_a_risk() {
        let mut settings = p(Some(true), Some("always"), (7, 0, 15));
        settings.maxmemory_policy = Some("allkeys-lru".into());
        let verdict = assess(&settings);
        assert!(
            matches!(&verdict, Verdict::AtRisk(r) if r.contains("allkeys-lru") && r.contains("noeviction")),
            "{verdict:?}"
        );
        settings.maxmemory_policy = Some("volatile-lru".into());
        assert_eq!(
            assess(&settings),
            Verdict::FsyncAlways,
            "only TTL keys evicted"
        );
    }

    #[test]
    fn every_setting_gets_the_right_verdict() {
        assert_eq!(
            assess(&p(Some(true), Some("always"), (7, 0, 15))),
            Verdict::FsyncAlways
        );
        assert_eq!(
            assess(&p(Some(true), Some("always"), (7, 2, 4))),
            Verdict::FsyncAlways
        );
        assert_eq!(
            assess(&p(Some(true), Some("everysec"), (7, 2, 0))),
            Verdict::WaitAof
        );
        let old = assess(&p(Some(true), Some("everysec"), (7, 0, 15)));
        assert!(
            matches!(&old, Verdict::AtRisk(r) if r.contains("everysec") && r.contains("7.0.15")),
            "{old:?}"
        );
        let off = assess(&p(Some(false), Some("always"), (7, 4, 0)));
        assert!(
            matches!(&off, Verdict::AtRisk(r) if r.contains("appendonly is no")),
            "{off:?}"
        );
        let managed = assess(&p(None, None, (7, 0, 0)));
        assert!(
            matches!(&managed, Verdict::Unknown { waitaof: false, reason } if reason.contains("CONFIG")),
            "{managed:?}"
        );
        assert!(assess(&p(None, None, (7, 2, 5))).uses_waitaof());
        assert!(!Verdict::FsyncAlways.uses_waitaof());
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("7.0.15"), Some((7, 0, 15)));
        assert_eq!(parse_version("7.2"), Some((7, 2, 0)));
        assert_eq!(parse_version("x"), None);
    }
}
