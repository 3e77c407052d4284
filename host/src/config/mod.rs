//! The TOML configuration: parsed strictly (unknown fields are errors), then validated as a
//! whole so that every problem is reported at once, each with the file and field it concerns.
//! Relative paths are relative to the config file, so a config means the same thing whatever
//! directory the gateway is started from.

mod secret;

pub use secret::{Secret, SecretSpec};

use serde::Deserialize;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

/// The default config file looked for when `--config` is not given.
pub const DEFAULT_PATH: &str = "hookgate.toml";

/// A config that was refused, with every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read config: {reason}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The parser's message, which names the line, column and field.
        message: String,
    },
    /// The file parsed but some values are wrong.
    #[error("{file}: invalid config:\n{}", problems.iter().map(|p| format!("  - {}: {}", p.field, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `sources.stripe.secrets[0]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

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
}

/// `[admin]`.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Environment variable holding the Bearer token; the admin API is off when it is unset.
    pub token_env: String,
}

/// Storage backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in `path`.
    Sqlite,
    /// Shared Redis at `url`.
    Redis {
        /// Connection URL.
        url: String,
    },
}

/// `[storage]`.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Which backend.
    pub backend: Backend,
    /// Data directory (database, compiled-plugin cache).
    pub path: PathBuf,
    /// How long a redelivery is recognised as a duplicate.
    pub dedupe_window: Duration,
    /// Redis only: refuse to start when Redis's persistence settings could lose an
    /// acknowledged event (AOF off, or `appendfsync` other than `always` on a server without
    /// `WAITAOF`). On by default, because the contract promises no 2xx without a durable
    /// write and a gateway that silently breaks it is worse than one that does not start; an
    /// operator who accepts the risk (a cache-grade Redis, a test bench) sets it to `false`
    /// and gets an ERROR line at every start instead.
    pub require_durable: bool,
    /// Redis only: the prefix of every key, so several gateways (or test runs) can share one
    /// Redis database without seeing each other's data. Nodes of one cluster share it.
    pub key_prefix: String,
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
    /// CIDRs actions may reach although they are not globally routable.
    pub allow_private: Vec<String>,
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
    /// Action configuration, passed to the action as JSON.
    pub config: serde_json::Value,
    /// Equality filters on normalized fields (`currency = "USD"`, `"metadata.livemode" = "false"`).
    pub filter: BTreeMap<String, serde_json::Value>,
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
    /// Action configuration.
    pub config: serde_json::Value,
    /// Delays between attempts; `None` means the default schedule.
    pub retry_schedule: Option<Vec<Duration>>,
    /// Standard Webhooks signing secret for what the action sends.
    pub signing_secret: Option<Secret>,
}

/// When a destination's circuit breaker opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the circuit.
    pub failures: u32,
    /// How long it stays open before one probe is let through (doubling, up to 16x, while
    /// probes keep failing).
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

// ---- the file's shape -------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    server: RawServer,
    admin: RawAdmin,
    storage: RawStorage,
    plugins: RawPlugins,
    egress: RawEgress,
    sources: BTreeMap<String, RawSource>,
    routes: Vec<RawRoute>,
    schedules: Vec<RawSchedule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    listen: String,
    max_body_bytes: u64,
    header_timeout_ms: u64,
    body_timeout_ms: u64,
    shutdown_timeout_ms: u64,
    shutdown_delay_ms: u64,
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
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAdmin {
    token_env: String,
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin {
            token_env: "HOOKGATE_ADMIN_TOKEN".into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStorage {
    backend: String,
    path: String,
    url: Option<String>,
    dedupe_window_days: u64,
    require_durable: Option<bool>,
    key_prefix: Option<String>,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            backend: "sqlite".into(),
            path: "hookgate-data".into(),
            url: None,
            dedupe_window_days: 7,
            require_durable: None,
            key_prefix: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPlugins {
    dir: String,
    call_timeout_ms: u64,
    memory_limit_mib: u64,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEgress {
    allow_private: Vec<String>,
    timeout_ms: u64,
    connect_timeout_ms: u64,
    max_response_bytes: u64,
}

impl Default for RawEgress {
    fn default() -> Self {
        RawEgress {
            allow_private: Vec::new(),
            timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            max_response_bytes: 1 << 20,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    plugin: String,
    #[serde(default)]
    secrets: Vec<SecretSpec>,
    #[serde(default = "default_tolerance")]
    tolerance_secs: u64,
    public_url: Option<String>,
    max_body_bytes: Option<u64>,
    rate_limit: Option<RateLimit>,
}

fn default_tolerance() -> u64 {
    300
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: Option<String>,
    source: String,
    #[serde(default = "all_events")]
    events: Vec<String>,
    action: String,
    #[serde(default)]
    config: toml::Table,
    #[serde(default)]
    filter: toml::Table,
    retry: Option<RawRetry>,
    signing_secret: Option<SecretSpec>,
    rate_limit: Option<RateLimit>,
    breaker: Option<RawBreaker>,
    #[serde(default = "default_max_in_flight")]
    max_in_flight: u32,
}

fn default_max_in_flight() -> u32 {
    DEFAULT_MAX_IN_FLIGHT
}

/// Deliveries one route may have in flight unless it says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 16;
/// Deliveries the engine runs at once across all routes (the most one route may ask for).
pub const MAX_IN_FLIGHT_TOTAL: u32 = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    failures: u32,
    cooldown: String,
}

fn all_events() -> Vec<String> {
    vec!["*".into()]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    schedule: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    name: Option<String>,
    cron: String,
    action: String,
    #[serde(default)]
    config: toml::Table,
    retry: Option<RawRetry>,
    signing_secret: Option<SecretSpec>,
}

// ---- loading and validation -------------------------------------------------------------

impl Config {
    /// Loads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
            file: file.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, file)
    }

    /// Parses and validates config text that was read from `file`.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let base = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut v = Validator {
            problems: Vec::new(),
        };
        let config = v.config(raw, base, file);
        if v.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid {
                file: file.to_owned(),
                problems: v.problems,
            })
        }
    }

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

struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    fn positive(&mut self, field: &str, value: u64) -> u64 {
        if value == 0 {
            self.problem(field, "must be greater than 0");
        }
        value
    }

    fn millis(&mut self, field: &str, value: u64, max: u64) -> Duration {
        if value == 0 || value > max {
            self.problem(field, format!("must be between 1 and {max} milliseconds"));
        }
        Duration::from_millis(value)
    }

    fn config(&mut self, raw: RawConfig, base: &Path, file: &Path) -> Config {
        let listen = raw.server.listen.parse().unwrap_or_else(|_| {
            self.problem(
                "server.listen",
                format!(
                    "{:?} is not an address like 127.0.0.1:8080",
                    raw.server.listen
                ),
            );
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let server = ServerConfig {
            listen,
            max_body_bytes: self.positive("server.max_body_bytes", raw.server.max_body_bytes),
            header_timeout: self.millis(
                "server.header_timeout_ms",
                raw.server.header_timeout_ms,
                600_000,
            ),
            body_timeout: self.millis(
                "server.body_timeout_ms",
                raw.server.body_timeout_ms,
                3_600_000,
            ),
            shutdown_timeout: self.millis(
                "server.shutdown_timeout_ms",
                raw.server.shutdown_timeout_ms,
                600_000,
            ),
            shutdown_delay: Duration::from_millis(raw.server.shutdown_delay_ms),
        };
        if raw.server.shutdown_delay_ms > 600_000 {
            self.problem(
                "server.shutdown_delay_ms",
                "must be at most 600000 (10 minutes)",
            );
        }
        if raw.admin.token_env.is_empty() {
            self.problem("admin.token_env", "must name an environment variable");
        }
        let backend = match (raw.storage.backend.as_str(), raw.storage.url) {
            ("sqlite", None) => Backend::Sqlite,
            ("sqlite", Some(_)) => {
                self.problem("storage.url", "only used with backend = \"redis\"");
                Backend::Sqlite
            }
            ("redis", Some(url)) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Backend::Redis { url }
            }
            ("redis", _) => {
                self.problem(
                    "storage.url",
                    "backend = \"redis\" needs url = \"redis://host:port/db\"",
                );
                Backend::Sqlite
            }
            (other, _) => {
                self.problem(
                    "storage.backend",
                    format!("{other:?} is not a backend; use \"sqlite\" or \"redis\""),
                );
                Backend::Sqlite
            }
        };
        if raw.storage.path.is_empty() {
            self.problem("storage.path", "must not be empty");
        }
        if raw.storage.require_durable.is_some() && !matches!(backend, Backend::Redis { .. }) {
            self.problem(
                "storage.require_durable",
                "only used with backend = \"redis\" (SQLite always fsyncs before an ack)",
            );
        }
        if let Some(prefix) = &raw.storage.key_prefix {
            if !matches!(backend, Backend::Redis { .. }) {
                self.problem("storage.key_prefix", "only used with backend = \"redis\"");
            } else if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
                self.problem(
                    "storage.key_prefix",
                    "must be non-empty printable ASCII without spaces, e.g. \"hookgate:\"",
                );
            }
        }
        let storage = StorageConfig {
            key_prefix: raw
                .storage
                .key_prefix
                .clone()
                .unwrap_or_else(|| "hookgate:".into()),
            backend,
            path: base.join(&raw.storage.path),
            dedupe_window: Duration::from_secs(
                86_400
                    * self.positive("storage.dedupe_window_days", raw.storage.dedupe_window_days),
            ),
            require_durable: raw.storage.require_durable.unwrap_or(true),
        };
        if raw.plugins.dir.is_empty() {
            self.problem("plugins.dir", "must not be empty");
        }
        if !(1..=4096).contains(&raw.plugins.memory_limit_mib) {
            self.problem("plugins.memory_limit_mib", "must be between 1 and 4096");
        }
        let plugins = PluginsConfig {
            dir: base.join(&raw.plugins.dir),
            call_timeout: self.millis(
                "plugins.call_timeout_ms",
                raw.plugins.call_timeout_ms,
                60_000,
            ),
            memory_limit_bytes: raw.plugins.memory_limit_mib.clamp(1, 4096) * 1024 * 1024,
        };
        for (i, cidr) in raw.egress.allow_private.iter().enumerate() {
            if let Err(e) = parse_cidr(cidr) {
                self.problem(format!("egress.allow_private[{i}]"), e);
            }
        }
        let egress = EgressConfig {
            allow_private: raw.egress.allow_private,
            timeout: self.millis("egress.timeout_ms", raw.egress.timeout_ms, 600_000),
            connect_timeout: self.millis(
                "egress.connect_timeout_ms",
                raw.egress.connect_timeout_ms,
                600_000,
            ),
            max_response_bytes: raw.egress.max_response_bytes,
        };
        let sources = raw
            .sources
            .into_iter()
            .map(|(name, s)| {
                let source = self.source(&name, s, base);
                (name, source)
            })
            .collect::<BTreeMap<_, _>>();
        let routes: Vec<RouteConfig> = raw
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, r)| self.route(i, r, &sources, base))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, route) in routes.iter().enumerate() {
            if !seen.insert(route.name.as_str()) {
                self.problem(
                    format!("routes[{i}].name"),
                    format!("another route is already named {:?} (identical routes need distinct names)", route.name),
                );
            }
        }
        let schedules: Vec<ScheduleConfig> = raw
            .schedules
            .into_iter()
            .enumerate()
            .map(|(i, s)| self.schedule(i, s, base))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for (i, schedule) in schedules.iter().enumerate() {
            if !seen.insert(schedule.name.as_str()) {
                self.problem(
                    format!("schedules[{i}].name"),
                    format!("another schedule is already named {:?}", schedule.name),
                );
            }
        }
        Config {
            file: file.to_owned(),
            server,
            admin: AdminConfig {
                token_env: raw.admin.token_env,
            },
            storage,
            plugins,
            egress,
            sources,
            routes,
            schedules,
        }
    }

    fn source(&mut self, name: &str, s: RawSource, base: &Path) -> SourceConfig {
        let path = format!("sources.{name}");
        if !valid_name(name) {
            self.problem(
                &path,
                "source names may only use a-z, 0-9, '-' and '_' (they are URL path segments)",
            );
        }
        if s.plugin.is_empty() {
            self.problem(format!("{path}.plugin"), "must name a platform plugin");
        }
        let secrets = s
            .secrets
            .iter()
            .enumerate()
            .filter_map(|(i, spec)| {
                spec.resolve(base)
                    .map_err(|e| self.problem(format!("{path}.secrets[{i}]"), e))
                    .ok()
            })
            .collect();
        if let Some(url) = &s.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            self.problem(
                format!("{path}.public_url"),
                "must be an absolute http(s) URL",
            );
        }
        if s.max_body_bytes == Some(0) {
            self.problem(format!("{path}.max_body_bytes"), "must be greater than 0");
        }
        self.check_rate_limit(&path, s.rate_limit.as_ref());
        SourceConfig {
            plugin: s.plugin,
            secrets,
            tolerance_secs: s.tolerance_secs,
            public_url: s.public_url,
            max_body_bytes: s.max_body_bytes,
            rate_limit: s.rate_limit,
        }
    }

    fn check_rate_limit(&mut self, path: &str, rate_limit: Option<&RateLimit>) {
        if let Some(rl) = rate_limit
            && (!(rl.per_second >= 0.001 && rl.per_second.is_finite()) || rl.burst == 0)
        {
            self.problem(
                format!("{path}.rate_limit"),
                "per_second must be at least 0.001 and burst at least 1",
            );
        }
    }

    fn route(
        &mut self,
        i: usize,
        r: RawRoute,
        sources: &BTreeMap<String, SourceConfig>,
        base: &Path,
    ) -> RouteConfig {
        let path = format!("routes[{i}]");
        if r.source != "*" && !sources.contains_key(&r.source) {
            self.problem(
                format!("{path}.source"),
                format!("no source named {:?} (use \"*\" for all sources)", r.source),
            );
        }
        if r.events.is_empty() || r.events.iter().any(String::is_empty) {
            self.problem(
                format!("{path}.events"),
                "must list at least one non-empty glob",
            );
        }
        if r.action.is_empty() {
            self.problem(format!("{path}.action"), "must name an action plugin");
        }
        let retry_schedule = self.retry_schedule(&path, r.retry);
        let signing_secret = self.signing_secret(&path, r.signing_secret, base);
        self.check_rate_limit(&path, r.rate_limit.as_ref());
        if r.max_in_flight == 0 || r.max_in_flight > MAX_IN_FLIGHT_TOTAL {
            self.problem(
                format!("{path}.max_in_flight"),
                format!("must be between 1 and {MAX_IN_FLIGHT_TOTAL}"),
            );
        }
        let breaker = match r.breaker {
            None => BreakerConfig::default(),
            Some(b) => {
                if b.failures == 0 {
                    self.problem(format!("{path}.breaker.failures"), "must be at least 1");
                }
                let cooldown = parse_duration(&b.cooldown)
                    .map_err(|e| self.problem(format!("{path}.breaker.cooldown"), e))
                    .unwrap_or_default();
                BreakerConfig {
                    failures: b.failures.max(1),
                    cooldown,
                }
            }
        };
        let config = toml_to_json(r.config);
        let filter: BTreeMap<String, serde_json::Value> = r
            .filter
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        for key in filter.keys() {
            let known = FILTER_FIELDS.contains(&key.as_str())
                || key.strip_prefix("metadata.").is_some_and(|m| !m.is_empty());
            if !known {
                self.problem(
                    format!("{path}.filter.{key}"),
                    format!(
                        "not a normalized field; use one of {} or metadata.KEY",
                        FILTER_FIELDS.join(", ")
                    ),
                );
            }
        }
        let name = match r.name {
            Some(name) => {
                if !valid_name(&name) {
                    self.problem(
                        format!("{path}.name"),
                        "route names may only use a-z, 0-9, '-' and '_'",
                    );
                }
                name
            }
            None => {
                let identity = serde_json::json!([r.source, r.events, r.action, config, filter]);
                let digest = sha2::Sha256::digest(identity.to_string().as_bytes());
                format!("route-{}", hex::encode(&digest[..4]))
            }
        };
        RouteConfig {
            name,
            source: r.source,
            events: r.events,
            action: r.action,
            config,
            filter,
            retry_schedule,
            signing_secret,
            rate_limit: r.rate_limit,
            breaker,
            max_in_flight: r.max_in_flight.clamp(1, MAX_IN_FLIGHT_TOTAL),
        }
    }

    fn retry_schedule(&mut self, path: &str, retry: Option<RawRetry>) -> Option<Vec<Duration>> {
        retry.map(|retry| {
            if retry.schedule.is_empty() {
                self.problem(
                    format!("{path}.retry.schedule"),
                    "must list at least one delay",
                );
            }
            retry
                .schedule
                .iter()
                .enumerate()
                .filter_map(|(j, d)| {
                    parse_duration(d)
                        .map_err(|e| self.problem(format!("{path}.retry.schedule[{j}]"), e))
                        .ok()
                })
                .collect()
        })
    }

    fn signing_secret(
        &mut self,
        path: &str,
        spec: Option<SecretSpec>,
        base: &Path,
    ) -> Option<Secret> {
        let secret = spec.and_then(|spec| {
            spec.resolve(base)
                .map_err(|e| self.problem(format!("{path}.signing_secret"), e))
                .ok()
        })?;
        let valid = std::str::from_utf8(secret.expose())
            .ok()
            .is_some_and(|text| hookgate_sdk::standard_webhooks::signing_key(text).is_ok());
        if !valid {
            // Never echo the secret itself.
            self.problem(
                format!("{path}.signing_secret"),
                "must be a Standard Webhooks secret: \"whsec_\" followed by base64",
            );
            return None;
        }
        Some(secret)
    }

    fn schedule(&mut self, i: usize, s: RawSchedule, base: &Path) -> ScheduleConfig {
        let path = format!("schedules[{i}]");
        let cron = match croner::Cron::from_str(&s.cron) {
            // The 5 standard fields, or 6 with a leading seconds field.
            Ok(cron) if matches!(s.cron.split_whitespace().count(), 5 | 6) => Some(cron),
            Ok(_) => {
                self.problem(
                    format!("{path}.cron"),
                    format!(
                        "{:?} must have the 5 standard fields (minute hour day month weekday), or 6 with leading seconds",
                        s.cron
                    ),
                );
                None
            }
            Err(e) => {
                self.problem(
                    format!("{path}.cron"),
                    format!(
                        "{:?} is not a cron expression like \"*/5 * * * *\": {e}",
                        s.cron
                    ),
                );
                None
            }
        };
        if s.action.is_empty() {
            self.problem(format!("{path}.action"), "must name an action plugin");
        }
        let config = toml_to_json(s.config);
        let name = match s.name {
            Some(name) => {
                if !valid_name(&name) {
                    self.problem(
                        format!("{path}.name"),
                        "schedule names may only use a-z, 0-9, '-' and '_'",
                    );
                }
                name
            }
            None => {
                let identity = serde_json::json!([s.cron, s.action, config]);
                let digest = sha2::Sha256::digest(identity.to_string().as_bytes());
                format!("schedule-{}", hex::encode(&digest[..4]))
            }
        };
        ScheduleConfig {
            name,
            cron_text: s.cron,
            cron,
            action: s.action,
            config,
            retry_schedule: self.retry_schedule(&path, s.retry),
            signing_secret: self.signing_secret(&path, s.signing_secret, base),
        }
    }
}

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

/// Names that appear in URLs and job records: `[a-z0-9_-]+`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn toml_to_json(table: toml::Table) -> serde_json::Value {
    serde_json::to_value(table).unwrap_or(serde_json::Value::Null)
}

/// Parses a delay such as `5s`, `30m`, `2h`, `1d` or `250ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like \"5s\", \"30m\" or \"2h\""))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?} has no unit; use ms, s, m, h or d")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// Parses an IPv4 or IPv6 CIDR (`10.0.0.0/8`, `::1/128`); a bare address means a single host.
pub fn parse_cidr(text: &str) -> Result<(std::net::IpAddr, u8), String> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("{text:?} is not a CIDR like \"127.0.0.1/32\""))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
    };
    Ok((ip, len))
}

#[cfg(test)]
mod golden;
#[cfg(test)]
mod tests;
