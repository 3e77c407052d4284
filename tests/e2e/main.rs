//! End-to-end tests: the real `hookgate` binary, the real plugins, real HTTP on loopback.
//! One test binary (faster to build and link), one module per capability.

mod admin;
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
mod sandbox;

use hookgate_testkit::{Gateway, GatewayConfig};
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

/// Starts a gateway with the given plugins and config body, and the admin API on (token
/// [`delivery::TOKEN`]) so the test can read what it stored.
pub async fn start(plugins: &[&str], body: &str) -> Gateway {
    start_with(GatewayConfig {
        plugin_files: plugins.iter().map(|p| plugin(p)).collect(),
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
