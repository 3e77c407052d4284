//! The validated configuration: what the rest of the gateway reads. Every value here has
//! passed validation (durations parsed, paths made absolute against the config file, secrets
//! resolved, CIDRs parsed), so no other module re-checks or re-parses what the file said.

use super::parse::Cidr;
use super::secret::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from.
    pub file: PathBuf,
    /// HTTP listener settings.
    pub server: ServerConfig,
    /// Admin API settings.
    pub admin: AdminConfig,
    /// Storage settings.
    pub storage: StorageConfig,
    /// Plugin runtime settings.
    pub plugins: PluginsConfig,
    /// Outbound HTTP policy for actions.
    pub egress: EgressConfig,
    /// Webhook sources by name (served at `POST /webhooks/{name}`).
    pub sources: BTreeMap<String, SourceConfig>,
    /// Delivery routes.
    pub routes: Vec<RouteConfig>,
    /// Scheduled triggers.
    pub schedules: Vec<ScheduleConfig>,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address of the webhook, health and metrics listener.
    pub listen: SocketAddr,
    /// Default body limit per source.
    pub max_body_bytes: u64,
    /// Time a client has to send the request head (slowloris protection).
    pub header_timeout: Duration,
    /// Time a client has to send the body.
    pub body_timeout: Duration,
    /// How long a graceful shutdown may take: in-flight requests and deliveries get this long
    /// to finish, then the process exits (unfinished deliveries run again after a restart).
    pub shutdown_timeout: Duration,
    /// How long, after SIGTERM, `/ready` fails while the listener still accepts: load
    /// balancers need a probe interval or two to stop sending before the port closes.
    pub shutdown_delay: Duration,
    /// Connections the listener holds open at once; beyond, new ones wait in the kernel's
    /// backlog. One client address may hold a quarter of them.
    pub max_connections: u32,
    /// After a short grace, a body must arrive at least this fast (bytes per second), so a
    /// trickling upload cannot hold a connection for the whole `body_timeout`; 0 turns it off.
    pub min_body_bytes_per_sec: u64,
}

/// `[admin]`.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Environment variable holding the Bearer token; the admin API is off when it is unset.
    pub token_env: String,
    /// Where the admin API, the console and `/metrics` listen, when not on `server.listen`
    /// (which then serves webhooks, `/health` and `/ready` only).
    pub listen: Option<SocketAddr>,
}

/// Storage backend. The Redis-only settings live in the Redis variant, so nothing can read
/// them for SQLite, where they mean nothing. `Debug` shows the Redis URL without its password.
#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in `path`.
    Sqlite,
    /// Shared Redis at `url`.
    Redis {
        /// Connection URL.
        url: String,
        /// Refuse to start when Redis's persistence settings could lose an acknowledged
        /// event (AOF off, or `appendfsync` other than `always` on a server without
        /// `WAITAOF`). On by default, because the contract promises no 2xx without a durable
        /// write and a gateway that silently breaks it is worse than one that does not start;
        /// an operator who accepts the risk (a cache-grade Redis, a test bench) sets it to
        /// `false` and gets an ERROR line at every start instead.
        require_durable: bool,
        /// The prefix of every key, so several gateways (or test runs) can share one Redis
        /// database without seeing each other's data. Nodes of one cluster share it.
        key_prefix: String,
        /// With `rediss://`: the CA certificate (PEM) that signed the server's, when it is not
        /// one the system trusts (a private CA, a test server).
        tls_ca_file: Option<PathBuf>,
    },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Sqlite => f.write_str("Sqlite"),
            Backend::Redis {
                url,
                require_durable,
                key_prefix,
                tls_ca_file,
            } => f
                .debug_struct("Redis")
                .field("url", &super::secret::redact_url(url))
                .field("require_durable", require_durable)
                .field("key_prefix", key_prefix)
                .field("tls_ca_file", tls_ca_file)
                .finish(),
        }
    }
}

/// `[storage]`.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Which backend, with its own settings.
    pub backend: Backend,
    /// Data directory (database, compiled-plugin cache).
    pub path: PathBuf,
    /// How long a redelivery is recognised as a duplicate (at least; an event still kept
    /// is recognised as long as it is kept).
    pub dedupe_window: Duration,
    /// How long finished events are kept.
    pub retention: Retention,
}

/// `[storage.retention]`: how long an event is kept once nothing is left to do for it. An
/// event with a job still pending is kept whatever its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events whose every job was delivered, and events no route matched.
    pub delivered: Duration,
    /// Events with a dead-lettered job, and payloads that could not be normalized.
    pub dead_lettered: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            delivered: Duration::from_secs(30 * 86_400),
            dead_lettered: Duration::from_secs(90 * 86_400),
        }
    }
}

/// `[plugins]`.
#[derive(Debug, Clone)]
pub struct PluginsConfig {
    /// Directory of `*.wasm` plugins.
    pub dir: PathBuf,
    /// CPU deadline of one plugin call.
    pub call_timeout: Duration,
    /// Linear memory cap of one plugin instance, in bytes.
    pub memory_limit_bytes: u64,
}

/// `[egress]`.
#[derive(Debug, Clone)]
pub struct EgressConfig {
    /// Blocks actions may reach although they are not globally routable.
    pub allow_private: Vec<Cidr>,
    /// The only ports actions may connect to; empty allows every port.
    pub allow_ports: Vec<u16>,
    /// Total timeout of one outbound request (connect, send, and the whole response).
    pub timeout: Duration,
    /// Timeout of DNS resolution plus the TCP (and TLS) connect.
    pub connect_timeout: Duration,
    /// Largest response body an action may read; a longer one fails the request.
    pub max_response_bytes: u64,
}

/// `[sources.NAME]`.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Platform plugin name.
    pub plugin: String,
    /// Secrets, newest first; several during rotation.
    pub secrets: Vec<Secret>,
    /// Replay window for signed timestamps.
    pub tolerance_secs: u64,
    /// The public URL the platform calls, for platforms that sign it.
    pub public_url: Option<String>,
    /// Body limit; `None` uses the plugin's suggestion or the server default.
    pub max_body_bytes: Option<u64>,
    /// Ingest rate limit.
    pub rate_limit: Option<RateLimit>,
    /// The source's `config` table for its plugin (secret references resolved).
    pub settings: SourceSettings,
}

/// A source's `config` table as the JSON object its plugin receives, `{}` when it sets none.
/// Its strings may be secrets read through `{ env }` / `{ file }` (Meta's verify token), so it
/// is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SourceSettings(String);

impl SourceSettings {
    /// The settings, serialized once at load.
    pub fn new(table: &serde_json::Map<String, serde_json::Value>) -> SourceSettings {
        SourceSettings(serde_json::Value::Object(table.clone()).to_string())
    }

    /// The JSON text handed to the plugin. Never log it.
    pub fn json(&self) -> &str {
        &self.0
    }

    /// Whether the source sets none.
    pub fn is_empty(&self) -> bool {
        self.0 == "{}"
    }
}

impl Default for SourceSettings {
    fn default() -> SourceSettings {
        SourceSettings("{}".into())
    }
}

impl std::fmt::Debug for SourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            f.write_str("SourceSettings({})")
        } else {
            f.write_str("SourceSettings(<redacted>)")
        }
    }
}

/// A token-bucket rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Burst size.
    pub burst: u32,
}

/// `[[routes]]`.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// Stable name: jobs refer to it. Given in the config, or derived from the route's content
    /// (so reordering routes changes nothing, and editing one makes it a new route).
    pub name: String,
    /// Source name or `*`.
    pub source: String,
    /// Globs on the normalized event type.
    pub events: Vec<String>,
    /// Action plugin name.
    pub action: String,
    /// Action configuration: rendered for each delivery into the JSON the action receives.
    pub config: super::action::ActionConfig,
    /// Equality filters on normalized fields (`currency = "USD"`, `"metadata.livemode" = "false"`).
    pub filter: BTreeMap<String, serde_json::Value>,
    /// `when = "…"`: the route matches only events for which it is true.
    pub when: Option<crate::template::Condition>,
    /// Retry delays.
    pub retry_schedule: Option<Vec<Duration>>,
    /// Standard Webhooks signing secret for forwarded events.
    pub signing_secret: Option<Secret>,
    /// Deliveries per second along this route (on top of what the destination asks for).
    pub rate_limit: Option<RateLimit>,
    /// Circuit breaker settings.
    pub breaker: BreakerConfig,
    /// Deliveries this route may have in flight at once.
    pub max_in_flight: u32,
}

/// `[[schedules]]`.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Name (configured, or derived from the schedule's content); its ticks are events of
    /// source `schedule:<name>`.
    pub name: String,
    /// The cron expression as written.
    pub cron_text: String,
    /// The parsed expression (`None` only in a config that failed validation).
    pub cron: Option<croner::Cron>,
    /// Action plugin name.
    pub action: String,
    /// Action configuration: rendered for each tick into the JSON the action receives.
    pub config: super::action::ActionConfig,
    /// Delays between attempts; `None` means the default schedule.
    pub retry_schedule: Option<Vec<Duration>>,
    /// Standard Webhooks signing secret for what the action sends.
    pub signing_secret: Option<Secret>,
}

/// When a destination's circuit breaker opens, and for how long (see
/// [`crate::delivery::breaker`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Attempts the window must hold before its failure rate counts (`failures`, this field's
    /// name before 0.17, is read as it: a dead destination still opens after that many).
    pub min_attempts: u32,
    /// The share of failed attempts in the window that opens the circuit.
    pub failure_rate: f64,
    /// How far back attempts count.
    pub window: Duration,
    /// How long it stays open before probes are let through (doubling, up to 16x, while every
    /// probe fails).
    pub cooldown: Duration,
    /// Attempts let through half-open; the first success closes the circuit.
    pub probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            min_attempts: 10,
            failure_rate: 0.5,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
            probes: 3,
        }
    }
}

/// Deliveries one route may have in flight unless it says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 16;
/// Deliveries the engine runs at once across all routes (the most one route may ask for).
pub const MAX_IN_FLIGHT_TOTAL: u32 = 64;

/// Normalized fields a route filter may test (besides `metadata.KEY`).
pub const FILTER_FIELDS: &[&str] = &[
    "type",
    "source",
    "platform",
    "entity_id",
    "entity_type",
    "user_id",
    "amount",
    "currency",
];

impl Config {
    /// The body limit for a source: its own, else the plugin's suggestion when larger than
    /// the server default, else the server default.
    pub fn body_limit(&self, source: &SourceConfig, plugin_suggestion: Option<u64>) -> u64 {
        source.max_body_bytes.unwrap_or_else(|| {
            plugin_suggestion.map_or(self.server.max_body_bytes, |s| {
                s.max(self.server.max_body_bytes)
            })
        })
    }
}
