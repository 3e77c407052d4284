//! Raw sections to validated ones. A bad value does not stop the walk: the [`Validator`] files
//! a [`Problem`] under the field's dotted path and carries on with a placeholder, so one run
//! of `hookgate check` lists everything wrong with a file. The placeholders never escape: a
//! config with any problem is refused as a whole.
//!
//! This file holds the problem collector, the checks several sections share (rate limits,
//! retry schedules, signing secrets) and the sections of one table each; `[[routes]]` and
//! `[[schedules]]` are in `routes`.

use super::error::Problem;
use super::parse::{Cidr, parse_duration, parse_listen, valid_name};
use super::raw::{
    RawAdmin, RawBackend, RawEgress, RawPlugins, RawRetry, RawServer, RawSource, RawStorage,
};
use super::secret::{Secret, SecretSpec};
use super::types::{
    AdminConfig, Backend, EgressConfig, PluginsConfig, RateLimit, Retention, ServerConfig,
    SourceConfig, SourceSettings, StorageConfig,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Collects every problem of one config, in the order the file's sections are checked.
#[derive(Default)]
pub(super) struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    /// Files a problem under `field`.
    pub(super) fn problem(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Every problem found, in order.
    pub(super) fn into_problems(self) -> Vec<Problem> {
        self.problems
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

    /// `[server]`.
    pub(super) fn server(&mut self, raw: RawServer) -> ServerConfig {
        let listen = parse_listen(&raw.listen).unwrap_or_else(|e| {
            self.problem("server.listen", e);
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let server = ServerConfig {
            listen,
            max_body_bytes: self.positive("server.max_body_bytes", raw.max_body_bytes),
            header_timeout: self.millis("server.header_timeout_ms", raw.header_timeout_ms, 600_000),
            body_timeout: self.millis("server.body_timeout_ms", raw.body_timeout_ms, 3_600_000),
            shutdown_timeout: self.millis(
                "server.shutdown_timeout_ms",
                raw.shutdown_timeout_ms,
                600_000,
            ),
            shutdown_delay: Duration::from_millis(raw.shutdown_delay_ms),
            max_connections: raw.max_connections,
            min_body_bytes_per_sec: raw.min_body_bytes_per_sec,
        };
        if !(4..=1_000_000).contains(&raw.max_connections) {
            self.problem("server.max_connections", "must be between 4 and 1000000");
        }
        if raw.shutdown_delay_ms > 600_000 {
            self.problem(
                "server.shutdown_delay_ms",
                "must be at most 600000 (10 minutes)",
            );
        }
        server
    }

    /// `[admin]`.
    pub(super) fn admin(&mut self, raw: RawAdmin, server: &ServerConfig) -> AdminConfig {
        if raw.token_env.is_empty() {
            self.problem("admin.token_env", "must name an environment variable");
        }
        let listen = raw.listen.and_then(|text| match parse_listen(&text) {
            Ok(addr) if addr == server.listen && addr.port() != 0 => {
                self.problem(
                    "admin.listen",
                    "is server.listen: give the admin listener its own address, or leave it out to serve everything on server.listen",
                );
                None
            }
            Ok(addr) => Some(addr),
            Err(e) => {
                self.problem("admin.listen", e);
                None
            }
        });
        AdminConfig {
            token_env: raw.token_env,
            listen,
        }
    }

    /// `[storage]`.
    pub(super) fn storage(&mut self, raw: RawStorage, base: &Path) -> StorageConfig {
        let redis_url = match (raw.backend, raw.url) {
            (RawBackend::Sqlite, None) => None,
            (RawBackend::Sqlite, Some(_)) => {
                self.problem("storage.url", "only used with backend = \"redis\"");
                None
            }
            (RawBackend::Redis, Some(url))
                if url.starts_with("redis://") || url.starts_with("rediss://") =>
            {
                Some(url)
            }
            (RawBackend::Redis, _) => {
                self.problem(
                    "storage.url",
                    "backend = \"redis\" needs url = \"redis://host:port/db\"",
                );
                None
            }
            (RawBackend::Unknown(other), _) => {
                self.problem(
                    "storage.backend",
                    format!("{other:?} is not a backend; use \"sqlite\" or \"redis\""),
                );
                None
            }
        };
        if raw.path.is_empty() {
            self.problem("storage.path", "must not be empty");
        }
        // From here on a backend that failed above counts as SQLite, so its Redis-only
        // settings are reported too (the config is refused either way).
        if raw.require_durable.is_some() && redis_url.is_none() {
            self.problem(
                "storage.require_durable",
                "only used with backend = \"redis\" (SQLite always fsyncs before an ack)",
            );
        }
        if let Some(prefix) = &raw.key_prefix {
            if redis_url.is_none() {
                self.problem("storage.key_prefix", "only used with backend = \"redis\"");
            } else if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_graphic()) {
                self.problem(
                    "storage.key_prefix",
                    "must be non-empty printable ASCII without spaces, e.g. \"hookgate:\"",
                );
            }
        }
        if let Some(ca) = &raw.tls_ca_file {
            if !redis_url
                .as_deref()
                .is_some_and(|u| u.starts_with("rediss://"))
            {
                self.problem(
                    "storage.tls_ca_file",
                    "only used with a rediss:// url (Redis over TLS)",
                );
            } else if ca.is_empty() {
                self.problem("storage.tls_ca_file", "must name a PEM file");
            }
        }
        let dedupe_window = Duration::from_secs(
            86_400 * self.positive("storage.dedupe_window_days", raw.dedupe_window_days),
        );
        StorageConfig {
            backend: match redis_url {
                None => Backend::Sqlite,
                Some(url) => Backend::Redis {
                    url,
                    require_durable: raw.require_durable.unwrap_or(true),
                    key_prefix: raw.key_prefix.unwrap_or_else(|| "hookgate:".into()),
                    tls_ca_file: raw.tls_ca_file.map(|ca| base.join(ca)),
                },
            },
            path: base.join(&raw.path),
            dedupe_window,
            retention: Retention {
                delivered: self.retention("storage.retention.delivered", &raw.retention.delivered),
                dead_lettered: self.retention(
                    "storage.retention.dead_lettered",
                    &raw.retention.dead_lettered,
                ),
            },
        }
    }

    /// One `[storage.retention]` duration: at least a second (tests use seconds; production
    /// days).
    fn retention(&mut self, field: &str, text: &str) -> Duration {
        match parse_duration(text) {
            Ok(d) if d >= Duration::from_secs(1) => d,
            Ok(_) => {
                self.problem(field, "must be at least 1s");
                Duration::from_secs(1)
            }
            Err(e) => {
                self.problem(field, e);
                Duration::from_secs(1)
            }
        }
    }

    /// `[plugins]`.
    pub(super) fn plugins(&mut self, raw: RawPlugins, base: &Path) -> PluginsConfig {
        if raw.dir.is_empty() {
            self.problem("plugins.dir", "must not be empty");
        }
        if !(1..=4096).contains(&raw.memory_limit_mib) {
            self.problem("plugins.memory_limit_mib", "must be between 1 and 4096");
        }
        PluginsConfig {
            dir: base.join(&raw.dir),
            call_timeout: self.millis("plugins.call_timeout_ms", raw.call_timeout_ms, 60_000),
            memory_limit_bytes: raw.memory_limit_mib.clamp(1, 4096) * 1024 * 1024,
        }
    }

    /// `[egress]`.
    pub(super) fn egress(&mut self, raw: RawEgress) -> EgressConfig {
        let allow_private = raw
            .allow_private
            .iter()
            .enumerate()
            .filter_map(|(i, text)| {
                Cidr::parse(text)
                    .map_err(|e| self.problem(format!("egress.allow_private[{i}]"), e))
                    .ok()
            })
            .collect();
        if raw.allow_ports.contains(&0) {
            self.problem(
                "egress.allow_ports",
                "port 0 is not a port one can connect to",
            );
        }
        EgressConfig {
            allow_private,
            allow_ports: raw.allow_ports,
            timeout: self.millis("egress.timeout_ms", raw.timeout_ms, 600_000),
            connect_timeout: self.millis(
                "egress.connect_timeout_ms",
                raw.connect_timeout_ms,
                600_000,
            ),
            max_response_bytes: raw.max_response_bytes,
        }
    }

    /// Every `[sources.NAME]`.
    pub(super) fn sources(
        &mut self,
        raw: BTreeMap<String, RawSource>,
        base: &Path,
    ) -> BTreeMap<String, SourceConfig> {
        raw.into_iter()
            .map(|(name, s)| {
                let source = self.source(&name, s, base);
                (name, source)
            })
            .collect()
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
                // How a source secret becomes a key is its plugin's rule (Stripe's whsec_ is
                // the key as written, a Standard Webhooks whsec_ is base64): one that yields
                // no key is refused per request with a 503 and logged, never used empty.
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
        let settings = self.settings(&format!("{path}.config"), s.config, base);
        SourceConfig {
            plugin: s.plugin,
            secrets,
            tolerance_secs: s.tolerance_secs,
            public_url: s.public_url,
            max_body_bytes: s.max_body_bytes,
            rate_limit: s.rate_limit,
            settings: SourceSettings::new(&settings),
        }
    }

    /// A `config` table as JSON, each `{ env = "VAR" }` or `{ file = "path" }` in it (at any
    /// depth) replaced by the secret it names; a reference that does not resolve is a problem
    /// at its key. What the table means is the plugin's to check.
    pub(super) fn settings(
        &mut self,
        path: &str,
        table: toml::Table,
        base: &Path,
    ) -> serde_json::Map<String, serde_json::Value> {
        table
            .into_iter()
            .map(|(key, value)| {
                let value = self.setting(&format!("{path}.{key}"), value, base);
                (key, value)
            })
            .collect()
    }

    fn setting(&mut self, path: &str, value: toml::Value, base: &Path) -> serde_json::Value {
        use serde_json::Value as J;
        match value {
            toml::Value::Table(t) if SecretSpec::is_reference(&t) => {
                match SecretSpec::deserialize(toml::Value::Table(t))
                    .map_err(|e| e.to_string())
                    .and_then(|spec| spec.resolve(base))
                {
                    Ok(secret) => J::String(String::from_utf8_lossy(secret.expose()).into_owned()),
                    Err(e) => {
                        self.problem(path, e);
                        J::Null
                    }
                }
            }
            toml::Value::Table(t) => J::Object(self.settings(path, t, base)),
            toml::Value::Array(items) => J::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| self.setting(&format!("{path}[{i}]"), v, base))
                    .collect(),
            ),
            other => serde_json::to_value(other).unwrap_or(J::Null),
        }
    }

    /// `PATH.rate_limit`, of a source or a route.
    pub(super) fn check_rate_limit(&mut self, path: &str, rate_limit: Option<&RateLimit>) {
        if let Some(rl) = rate_limit
            && (!(rl.per_second >= 0.001 && rl.per_second.is_finite()) || rl.burst == 0)
        {
            self.problem(
                format!("{path}.rate_limit"),
                "per_second must be at least 0.001 and burst at least 1",
            );
        }
    }

    /// `PATH.retry`, of a route or a schedule: `None` means the default schedule.
    pub(super) fn retry_schedule(
        &mut self,
        path: &str,
        retry: Option<RawRetry>,
    ) -> Option<Vec<Duration>> {
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

    /// `PATH.signing_secret`, of a route or a schedule: resolved, and checked to be a
    /// Standard Webhooks key now rather than at the first delivery.
    pub(super) fn signing_secret(
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
        if !signing_key_ok(&secret) {
            // Never echo the secret itself.
            self.problem(format!("{path}.signing_secret"), WEAK_WHSEC);
            return None;
        }
        Some(secret)
    }
}

/// The shortest HMAC key a route's `signing_secret` may decode to (the Standard Webhooks
/// specification asks for 24 to 64 bytes; 16 keeps older secrets working while refusing empty
/// and toy keys: `whsec_` alone decodes to nothing, and anyone could sign with that).
pub const MIN_WHSEC_KEY_BYTES: usize = 16;

const WEAK_WHSEC: &str = "must be a Standard Webhooks secret: \"whsec_\" followed by the base64 of a key of at least 16 bytes";

/// Whether `secret` (`whsec_<base64>`, or the base64 alone) decodes to a key long enough to
/// sign with.
fn signing_key_ok(secret: &Secret) -> bool {
    std::str::from_utf8(secret.expose())
        .ok()
        .and_then(|text| hookgate_sdk::standard_webhooks::signing_key(text.trim()).ok())
        .is_some_and(|key| key.len() >= MIN_WHSEC_KEY_BYTES)
}
