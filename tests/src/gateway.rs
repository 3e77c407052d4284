//! A real `hookgate` process on a free loopback port, in its own temporary directory.

use crate::redis::{RedisServer, unique_prefix};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which store a gateway runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the gateway's private data directory (hookgate's default).
    #[default]
    Sqlite,
    /// The Redis of [`RedisServer::shared`] (`REDIS_URL`, else a private server of the test's
    /// own; it fails loudly when redis-server is missing and cannot be installed), under a key
    /// prefix of the gateway's own ([`unique_prefix`]).
    Redis,
}

/// What goes into the gateway's config besides what the harness fixes (listen on port 0, a
/// private data directory, a private plugins directory).
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// Plugin files copied into the gateway's plugins directory.
    pub plugin_files: Vec<PathBuf>,
    /// Extra `[server]` lines.
    pub server: String,
    /// Extra `[plugins]` lines.
    pub plugins: String,
    /// The store: with [`Backend::Redis`] the harness writes the `[storage]` backend, URL and
    /// key prefix itself (and `storage` must not name a backend).
    pub backend: Backend,
    /// Extra `[storage]` lines (e.g. `backend = "redis"` and its `url`, for tests that run
    /// Redis servers of their own).
    pub storage: String,
    /// Everything else: `[sources.*]`, `[[routes]]`...
    pub body: String,
    /// Environment variables for the gateway process (e.g. the admin token).
    pub env: Vec<(String, String)>,
}

/// A running gateway. Killed when dropped; then its whole log is searched for every secret its
/// config holds (see [`Gateway::leaked_secrets`]), so each end-to-end test also checks that no
/// secret reached a log line.
pub struct Gateway {
    binary: PathBuf,
    env: Vec<(String, String)>,
    /// Every secret of the config: source secrets, route signing secrets, secret env values.
    secrets: Vec<String>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    addr: SocketAddr,
    /// The admin listener's address, when the config gives `admin.listen`.
    admin_addr: Option<SocketAddr>,
    client: reqwest::Client,
    /// The value of the admin token variable the gateway was given, if any.
    admin_token: Option<String>,
    /// The Redis server of a [`Backend::Redis`] gateway: kept (and, when private, running)
    /// as long as the gateway.
    _redis: Option<RedisServer>,
}

impl Gateway {
    /// Writes the config, copies the plugins and starts the binary; returns once it listens.
    pub async fn start(binary: &Path, config: GatewayConfig) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugins dir");
        for file in &config.plugin_files {
            std::fs::copy(file, plugins.join(file.file_name().expect("file name")))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        let (redis, storage) = match config.backend {
            Backend::Sqlite => (None, config.storage.clone()),
            Backend::Redis => {
                assert!(
                    !config.storage.contains("backend"),
                    "a Backend::Redis gateway gets its backend from the harness: {}",
                    config.storage
                );
                let redis = RedisServer::shared();
                let storage = format!(
                    "backend = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{}\"\n{}",
                    redis.url(),
                    unique_prefix(),
                    config.storage
                );
                (Some(redis), storage)
            }
        };
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n{}\n\n[storage]\npath = \"data\"\n{}\n\n[plugins]\ndir = \"plugins\"\n{}\n\n{}\n",
            config.server, storage, config.plugins, config.body
        );
        std::fs::write(dir.path().join("hookgate.toml"), &text).expect("write config");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        let secrets = secrets_of(&text, &config.env);
        let admin_token = admin_token_of(&text, &config.env);
        let mut gateway = Gateway {
            binary: binary.to_owned(),
            env: config.env.clone(),
            secrets,
            dir,
            child: None,
            addr: ([127, 0, 0, 1], 0).into(),
            admin_addr: None,
            client,
            admin_token,
            _redis: redis,
        };
        gateway.spawn().await;
        gateway
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log file");
        let mut child = Command::new(&self.binary)
            .args(["serve", "--config"])
            .arg(self.config_path())
            .env("HOOKGATE_LOG", "info")
            .env("NO_COLOR", "1")
            // Only what the test asks for: never an admin token from the caller's environment.
            .env_remove("HOOKGATE_ADMIN_TOKEN")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn hookgate");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                for (prefix, admin) in [
                    ("hookgate listening on http://", false),
                    ("hookgate admin listening on http://", true),
                ] {
                    if let Some(addr) = line.strip_prefix(prefix) {
                        let _ = tx.send((admin, addr.parse::<SocketAddr>().expect("address")));
                    }
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        // The admin line, if any, comes before the main one.
        self.admin_addr = None;
        self.addr = loop {
            match rx.try_recv() {
                Ok((true, addr)) => self.admin_addr = Some(addr),
                Ok((false, addr)) => break addr,
                Err(_) => {}
            }
            if let Some(status) = child.try_wait().expect("wait") {
                panic!(
                    "hookgate exited with {status} before listening:\n{}",
                    self.logs()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "hookgate did not start:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        self.child = Some(child);
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The admin listener's address: `admin.listen`'s, or the main one.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr.unwrap_or(self.addr)
    }

    /// `http://admin-addr{path}`: where the admin API and `/metrics` are served.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr())
    }

    /// A shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The `/metrics` scrape as text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.admin_url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// `POST /webhooks/{source}` with headers and body.
    pub async fn post(
        &self,
        source: &str,
        headers: &[(&str, String)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/webhooks/{source}")))
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.expect("request sent")
    }

    /// The gateway's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The gateway's plugins directory (watched: files dropped here go live).
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("hookgate.toml")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("hookgate.log")
    }

    /// Everything the gateway logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits (up to `limit`) for the process to exit; returns how long it
    /// took, or `None` if it was still running at the limit (then it is killed).
    pub fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        self.sigterm();
        self.wait_for_exit(limit)
    }

    /// Sends SIGTERM and returns at once.
    pub fn sigterm(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
    }

    /// Waits (up to `limit`) for the process to exit; how long it took, or `None` if it was
    /// still running at the limit (then it is killed).
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<Duration> {
        let mut child = self.child.take()?;
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = child.try_wait() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Starts the gateway again on the same directory (new port).
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn().await;
    }
}

/// Largest page `GET /admin/events` serves.
const EVENTS_PAGE: usize = 500;

/// What the store holds, seen the way an operator sees it: through the admin API, so the same
/// test reads a SQLite and a Redis gateway alike. Each needs the gateway to have an admin token
/// (`HOOKGATE_ADMIN_TOKEN`, or the variable `admin.token_env` names, in [`GatewayConfig::env`]).
impl Gateway {
    fn admin_token(&self) -> &str {
        self.admin_token.as_deref().unwrap_or_else(|| {
            panic!(
                "this gateway has no admin token: give it HOOKGATE_ADMIN_TOKEN (or the variable \
                 admin.token_env names) in GatewayConfig::env to read its store"
            )
        })
    }

    /// `GET` an admin path with the gateway's token: the status and the JSON body (`null` when
    /// the body is not JSON).
    pub async fn admin_get(&self, path: &str) -> (u16, serde_json::Value) {
        self.admin_get_query(path, &[]).await
    }

    async fn admin_get_query(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(self.admin_url(path))
            .query(query)
            .bearer_auth(self.admin_token())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// `GET /admin/events/{id}`: the stored event (`event`, the normalized event with its
    /// `payload`; `status`; `error`; `delivery`; `jobs`, in creation order, each with its
    /// attempt `history`), or `None` when the store has no such event.
    pub async fn event(&self, id: &str) -> Option<serde_json::Value> {
        match self.admin_get(&format!("/admin/events/{id}")).await {
            (200, event) => Some(event),
            (404, _) => None,
            (status, body) => panic!("GET /admin/events/{id}: {status} {body}"),
        }
    }

    /// Every stored event, newest first, as `GET /admin/events` lists them (every page): `id`,
    /// `source`, `type`, `status`, `received_at`, and `jobs`, `delivered`, `dead_lettered`
    /// (how many of its jobs are in each state).
    pub async fn events(&self) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let limit = EVENTS_PAGE.to_string();
        loop {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let (status, page) = self.admin_get_query("/admin/events", &query).await;
            assert_eq!(status, 200, "GET /admin/events {query:?}: {page}");
            all.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    /// How many events the store holds.
    pub async fn count_events(&self) -> usize {
        self.events().await.len()
    }
}

impl Gateway {
    /// The configured secrets that appear in the log so far (none, for a sound gateway).
    pub fn leaked_secrets(&self) -> Vec<String> {
        let logs = self.logs();
        self.secrets
            .iter()
            .filter(|s| logs.contains(s.as_str()))
            .cloned()
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            return;
        }
        let leaked = self.leaked_secrets();
        assert!(
            leaked.is_empty(),
            "configured secrets appear in the gateway log: {leaked:?}\n{}",
            self.logs()
        );
    }
}

/// The secrets of a config: every string under `sources.*.secrets` and every route's or
/// schedule's `signing_secret`, plus the values of the environment variables the config refers to
/// with `{ env = "..." }` or names as `admin.token_env` (default `HOOKGATE_ADMIN_TOKEN`).
fn secrets_of(config: &str, env: &[(String, String)]) -> Vec<String> {
    let Ok(doc) = config.parse::<toml::Table>() else {
        return Vec::new(); // a test of a broken config: nothing to look for
    };
    let mut literal = Vec::new();
    let mut env_names = vec!["HOOKGATE_ADMIN_TOKEN".to_owned()];
    let mut take = |value: &toml::Value| match value {
        toml::Value::String(s) => literal.push(s.clone()),
        toml::Value::Table(t) => {
            if let Some(toml::Value::String(name)) = t.get("env") {
                env_names.push(name.clone());
            }
        }
        _ => {}
    };
    if let Some(sources) = doc.get("sources").and_then(toml::Value::as_table) {
        for source in sources.values() {
            for secret in source
                .get("secrets")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
            {
                take(secret);
            }
        }
    }
    for list in ["routes", "schedules"] {
        for entry in doc
            .get(list)
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(secret) = entry.get("signing_secret") {
                take(secret);
            }
        }
    }
    if let Some(name) = doc
        .get("admin")
        .and_then(|a| a.get("token_env"))
        .and_then(toml::Value::as_str)
    {
        env_names.push(name.to_owned());
    }
    literal.extend(
        env.iter()
            .filter(|(name, _)| env_names.contains(name))
            .map(|(_, value)| value.clone()),
    );
    // Very short test secrets would match unrelated text.
    literal.retain(|s| s.len() >= 6);
    literal.sort();
    literal.dedup();
    literal
}

/// The admin token a gateway started with `config` and `env` has: the value of the variable
/// `admin.token_env` names (default `HOOKGATE_ADMIN_TOKEN`), when `env` sets it.
fn admin_token_of(config: &str, env: &[(String, String)]) -> Option<String> {
    let name = config
        .parse::<toml::Table>()
        .ok()
        .and_then(|doc| {
            doc.get("admin")?
                .get("token_env")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "HOOKGATE_ADMIN_TOKEN".to_owned());
    env.iter()
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_read_off_the_config() {
        let config = r#"
[admin]
token_env = "MY_TOKEN"
[sources.a]
plugin = "stripe"
secrets = ["whsec_literal", { env = "A_SECRET" }, { file = "x" }]
[[routes]]
source = "a"
action = "forward"
signing_secret = "whsec_route"
"#;
        let env = vec![
            ("A_SECRET".to_owned(), "from-the-env".to_owned()),
            ("MY_TOKEN".to_owned(), "admin-token".to_owned()),
            (
                "HOOKGATE_LOG_FORMAT".to_owned(),
                "json-not-secret".to_owned(),
            ),
        ];
        assert_eq!(
            secrets_of(config, &env),
            [
                "admin-token",
                "from-the-env",
                "whsec_literal",
                "whsec_route"
            ]
        );
        assert!(secrets_of("not [ toml", &env).is_empty());
    }

    #[test]
    fn the_admin_token_is_the_variable_the_config_names() {
        let env = vec![
            (
                "HOOKGATE_ADMIN_TOKEN".to_owned(),
                "default-token".to_owned(),
            ),
            ("MY_TOKEN".to_owned(), "my-token".to_owned()),
        ];
        assert_eq!(admin_token_of("", &env).as_deref(), Some("default-token"));
        assert_eq!(
            admin_token_of("[admin]\ntoken_env = \"MY_TOKEN\"\n", &env).as_deref(),
            Some("my-token")
        );
        assert_eq!(
            admin_token_of("[admin]\ntoken_env = \"UNSET\"\n", &env),
            None
        );
        assert_eq!(admin_token_of("", &[]), None);
    }
}
