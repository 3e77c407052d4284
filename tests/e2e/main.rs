//! End-to-end tests: the real `hookgate` binary, the real plugins, real HTTP on loopback.
//! One test binary (faster to build and link), one module per capability.

/// Runs each `async fn name(backend: Backend)` named as two tests, `name::sqlite` and
/// `name::redis`: for behaviour both storage backends share (delivery, retries, the DLQ and
/// replay, duplicates, listing). The Redis one uses `REDIS_URL`'s server, or starts one of its
/// own like the other Redis tests (and fails loudly when redis-server cannot be had).
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(hookgate_testkit::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$name(hookgate_testkit::Backend::Redis).await;
            }
        }
    )+};
}

mod actions;
mod admin;
mod attacks;
mod catalog;
mod cluster;
mod config;
mod delivery;
mod durability;
mod ingest;
mod lifecycle;
mod operations;
mod platforms;
mod recovery;
mod redis;
mod retention;
mod sandbox;
mod templates;
mod workflow;

use hookgate_testkit::{Backend, Gateway, GatewayConfig};
use std::path::{Path, PathBuf};

/// The gateway binary cargo built for this test run.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hookgate"))
}

/// A first-party plugin built by the host's build script.
pub fn plugin(name: &str) -> PathBuf {
    Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR")).join(format!("{name}.wasm"))
}

/// A test-only plugin.
pub fn test_plugin(name: &str) -> PathBuf {
    Path::new(env!("HOOKGATE_BUILT_TEST_PLUGINS_DIR")).join(format!("{name}.wasm"))
}

/// Starts a gateway on SQLite with the given plugins and config body, and the admin API on
/// (token [`delivery::TOKEN`]) so the test can read what it stored.
pub async fn start(plugins: &[&str], body: &str) -> Gateway {
    start_on(Backend::Sqlite, plugins, body).await
}

/// [`start`] on `backend`.
pub async fn start_on(backend: Backend, plugins: &[&str], body: &str) -> Gateway {
    start_with(GatewayConfig {
        plugin_files: plugins.iter().map(|p| plugin(p)).collect(),
        backend,
        body: body.into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), delivery::TOKEN.into())],
        ..Default::default()
    })
    .await
}

/// Starts a gateway from a full harness config.
pub async fn start_with(config: GatewayConfig) -> Gateway {
    Gateway::start(&binary(), config).await
}

/// The JSON body of a response.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON response")
}

/// Runs the gateway binary with `args` to completion, off the async runtime: for commands that
/// end by themselves (`send`, `check`, a `serve` that must refuse to start).
pub async fn run_to_exit(args: Vec<std::ffi::OsString>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(binary())
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run hookgate")
    })
    .await
    .expect("the CLI task")
}
