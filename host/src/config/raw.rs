//! The file's shape, exactly as read from TOML: every table `deny_unknown_fields`, so a typo
//! is an error naming the line rather than a setting silently ignored, and every default
//! written here, where the README's tables can be checked against it. Nothing is validated
//! yet; that is `validate`'s job, which turns this into the types of `types`.

use super::secret::SecretSpec;
use super::types::{DEFAULT_MAX_IN_FLIGHT, RateLimit};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole file; a table left out takes its defaults.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawConfig {
    pub(super) server: RawServer,
    pub(super) admin: RawAdmin,
    pub(super) storage: RawStorage,
    pub(super) plugins: RawPlugins,
    pub(super) egress: RawEgress,
    pub(super) sources: BTreeMap<String, RawSource>,
    pub(super) routes: Vec<RawRoute>,
    pub(super) schedules: Vec<RawSchedule>,
}

/// `[server]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawServer {
    pub(super) listen: String,
    pub(super) max_body_bytes: u64,
    pub(super) header_timeout_ms: u64,
    pub(super) body_timeout_ms: u64,
    pub(super) shutdown_timeout_ms: u64,
    pub(super) shutdown_delay_ms: u64,
    pub(super) max_connections: u32,
    pub(super) min_body_bytes_per_sec: u64,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
            header_timeout_ms: 5_000,
            body_timeout_ms: 30_000,
            shutdown_timeout_ms: 10_000,
            shutdown_delay_ms: 0,
            max_connections: 4096,
            min_body_bytes_per_sec: 16 * 1024,
        }
    }
}

/// `[admin]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawAdmin {
    pub(super) token_env: String,
    pub(super) listen: Option<String>,
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin {
            token_env: "HOOKGATE_ADMIN_TOKEN".into(),
            listen: None,
        }
    }
}

/// `[storage]`; `url`, `require_durable` and `key_prefix` are Redis's, and optional here so
/// that the validator can refuse them for SQLite rather than ignore them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStorage {
    pub(super) backend: RawBackend,
    pub(super) path: String,
    pub(super) url: Option<String>,
    pub(super) dedupe_window_days: u64,
    pub(super) require_durable: Option<bool>,
    pub(super) key_prefix: Option<String>,
    pub(super) tls_ca_file: Option<String>,
    pub(super) retention: RawRetention,
}

/// `[storage.retention]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawRetention {
    pub(super) delivered: String,
    pub(super) dead_lettered: String,
}

impl Default for RawRetention {
    fn default() -> Self {
        RawRetention {
            delivered: "30d".into(),
            dead_lettered: "90d".into(),
        }
    }
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            backend: RawBackend::Sqlite,
            path: "hookgate-data".into(),
            url: None,
            dedupe_window_days: 7,
            require_durable: None,
            key_prefix: None,
            tls_ca_file: None,
            retention: RawRetention::default(),
        }
    }
}

/// `storage.backend`, read once into what it names. A name that is neither stays as written,
/// so that the validator reports it along with every other problem (a serde error would
/// stop at the first) and in its own words.
#[derive(Deserialize)]
#[serde(from = "String")]
pub(super) enum RawBackend {
    Sqlite,
    Redis,
    Unknown(String),
}

impl From<String> for RawBackend {
    fn from(name: String) -> Self {
        match name.as_str() {
            "sqlite" => RawBackend::Sqlite,
            "redis" => RawBackend::Redis,
            _ => RawBackend::Unknown(name),
        }
    }
}

/// `[plugins]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawPlugins {
    pub(super) dir: String,
    pub(super) call_timeout_ms: u64,
    pub(super) memory_limit_mib: u64,
}

impl Default for RawPlugins {
    fn default() -> Self {
        RawPlugins {
            dir: "plugins".into(),
            call_timeout_ms: 100,
            memory_limit_mib: 64,
        }
    }
}

/// `[egress]`; the CIDRs stay text here so that each bad one is reported with its index.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawEgress {
    pub(super) allow_private: Vec<String>,
    pub(super) allow_ports: Vec<u16>,
    pub(super) timeout_ms: u64,
    pub(super) connect_timeout_ms: u64,
    pub(super) max_response_bytes: u64,
}

impl Default for RawEgress {
    fn default() -> Self {
        RawEgress {
            allow_private: Vec::new(),
            allow_ports: Vec::new(),
            timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            max_response_bytes: 1 << 20,
        }
    }
}

/// `[sources.NAME]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) plugin: String,
    #[serde(default)]
    pub(super) secrets: Vec<SecretSpec>,
    #[serde(default = "default_tolerance")]
    pub(super) tolerance_secs: u64,
    pub(super) public_url: Option<String>,
    pub(super) max_body_bytes: Option<u64>,
    pub(super) rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub(super) config: toml::Table,
}

fn default_tolerance() -> u64 {
    300
}

/// One `[[routes]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) name: Option<String>,
    pub(super) source: String,
    #[serde(default = "all_events")]
    pub(super) events: Vec<String>,
    pub(super) action: String,
    #[serde(default)]
    pub(super) config: toml::Table,
    #[serde(default)]
    pub(super) filter: toml::Table,
    pub(super) when: Option<String>,
    pub(super) retry: Option<RawRetry>,
    pub(super) signing_secret: Option<SecretSpec>,
    pub(super) rate_limit: Option<RateLimit>,
    pub(super) breaker: Option<RawBreaker>,
    #[serde(default = "default_max_in_flight")]
    pub(super) max_in_flight: u32,
}

fn all_events() -> Vec<String> {
    vec!["*".into()]
}

fn default_max_in_flight() -> u32 {
    DEFAULT_MAX_IN_FLIGHT
}

/// A route's `breaker = { min_attempts, failure_rate, window, cooldown, probes }`; `failures`
/// is the older name of `min_attempts`. Unset fields keep their defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBreaker {
    pub(super) min_attempts: Option<u32>,
    pub(super) failures: Option<u32>,
    pub(super) failure_rate: Option<f64>,
    pub(super) window: Option<String>,
    pub(super) cooldown: Option<String>,
    pub(super) probes: Option<u32>,
}

/// `retry = { schedule = [...] }` of a route or schedule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) schedule: Vec<String>,
}

/// One `[[schedules]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub(super) name: Option<String>,
    pub(super) cron: String,
    pub(super) action: String,
    #[serde(default)]
    pub(super) config: toml::Table,
    pub(super) retry: Option<RawRetry>,
    pub(super) signing_secret: Option<SecretSpec>,
}
