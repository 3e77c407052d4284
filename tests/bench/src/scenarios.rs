//! The scenarios, each starting its own server process(es) on the server core.

use crate::load::{self, Mode, Outcome};
use crate::overhead::{self, Overhead};
use crate::payload::{Generator, Shape, sources_toml};
use crate::server::{GatewayDir, Server, build_gateway};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The core servers are pinned to; the load generator takes the other one.
pub const SERVER_CORE: usize = 0;
/// The load generator's (and the receiver's) core.
pub const LOAD_CORE: usize = 1;
/// Connections of the maximum-throughput runs.
pub(crate) const CLOSED_CONNECTIONS: usize = 64;
/// The fixed rate of the latency runs, and its connections.
pub(crate) const OPEN_RATE: u64 = 2_000;
pub(crate) const OPEN_CONNECTIONS: usize = 64;

/// How long each load run lasts, and which scenarios run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Measured time.
    pub measure: Duration,
    /// Unmeasured warm-up before it.
    pub warmup: Duration,
    /// Only these scenarios (`ingest`, `latency`, `e2e`, `overhead`, `reload`, `startup`,
    /// `retention`); all when empty.
    pub only: Vec<String>,
    /// `--quick`: scenarios sized by event counts rather than by time (retention's pre-fill
    /// and fills) use smaller counts too.
    pub quick: bool,
}

impl Settings {
    fn wants(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }
}

/// One server under one load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadRow {
    /// Scenario name.
    pub scenario: String,
    /// Payload.
    pub payload: &'static str,
    /// `bare`, `durable reference`, `hookgate (sqlite)`, `hookgate (redis)`.
    pub server: String,
    /// What was measured.
    pub outcome: Outcome,
    /// Peak RSS of the server process, MiB.
    pub peak_rss_mib: f64,
}

/// End to end: ingest → delivered to a loopback receiver.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EndToEnd {
    /// Events accepted during the run.
    pub accepted: u64,
    /// Events the receiver got.
    pub delivered: u64,
    /// Delivered per second, first send to last delivery.
    pub delivered_per_sec: f64,
    /// Ingest throughput during the run.
    pub ingest_per_sec: f64,
    /// Peak RSS of the gateway, MiB.
    pub peak_rss_mib: f64,
}

/// Hot reload under load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reload {
    /// Plugin files replaced during the run.
    pub replacements: u64,
    /// The load while they were.
    pub outcome: Outcome,
    /// The same load without replacements, for comparison.
    pub steady: Outcome,
}

/// Start-up times, milliseconds (median of several).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Startup {
    /// First start on an empty data directory: every plugin compiled.
    pub cold_ms: f64,
    /// Restart with the compiled-code cache.
    pub warm_ms: f64,
    /// Plugins loaded.
    pub plugins: usize,
}

/// Everything one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Results {
    /// Machine description.
    pub machine: String,
    /// Seconds per measured load run.
    pub seconds: f64,
    /// Maximum-throughput and latency runs.
    pub loads: Vec<LoadRow>,
    /// End to end.
    pub end_to_end: Option<EndToEnd>,
    /// The same with a templated `http` action instead of `forward`: what templating costs.
    pub end_to_end_http: Option<EndToEnd>,
    /// Plugin overhead.
    pub overhead: Vec<Overhead>,
    /// Hot reload.
    pub reload: Option<Reload>,
    /// Start-up.
    pub startup: Option<Startup>,
    /// Retention: ingest latency while pruning, bytes per stored event.
    pub retention: Option<crate::retention::RetentionFigures>,
}

fn bench_binary() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?)
}

fn bare() -> anyhow::Result<Server> {
    let mut command = Command::new(bench_binary()?);
    command.arg("serve-bare");
    Server::spawn(command, Some(SERVER_CORE))
}

fn durable(dir: &Path) -> anyhow::Result<Server> {
    let mut command = Command::new(bench_binary()?);
    command
        .args(["serve-durable", "--db"])
        .arg(dir.join("reference.db"));
    Server::spawn(command, Some(SERVER_CORE))
}

fn gateway(binary: &Path, dir: &GatewayDir) -> anyhow::Result<Server> {
    Server::spawn(dir.command(binary), Some(SERVER_CORE))
}

/// The Redis server of the Redis scenarios (`REDIS_URL`), when one is set.
pub(crate) fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
}

/// A key prefix of this bench run's own, so that its data never mixes with another run's
/// (or another program's) on a shared Redis; `scope` sets a scenario's data apart too.
pub(crate) fn redis_prefix(scope: &str) -> String {
    format!("hookgate-bench-{}{scope}:", std::process::id())
}

/// The `[storage]` lines of a gateway on Redis at `url` under `prefix`.
pub(crate) fn redis_storage_lines(url: &str, prefix: &str) -> String {
    format!("backend = \"redis\"\nurl = \"{url}\"\nkey_prefix = \"{prefix}\"\n")
}

fn redis_storage() -> Option<String> {
    Some(redis_storage_lines(&redis_url()?, &redis_prefix("")))
}

async fn drive(
    addr: SocketAddr,
    shape: Shape,
    run: &str,
    mode: Mode,
    settings: &Settings,
) -> anyhow::Result<Outcome> {
    let generator = Arc::new(Generator::new(shape, run));
    load::run(addr, generator, mode, settings.warmup, settings.measure).await
}

/// Runs every scenario.
pub async fn run_all(settings: &Settings) -> anyhow::Result<Results> {
    let binary = build_gateway()?;
    let scratch = tempfile::tempdir()?;
    let mut loads = Vec::new();
    let closed = Mode::Closed {
        connections: CLOSED_CONNECTIONS,
    };

    let shapes = if settings.wants("ingest") {
        vec![Shape::Stripe2k, Shape::GitHub15k, Shape::Mix]
    } else {
        Vec::new()
    };
    for shape in shapes {
        eprintln!("ingest, {}: bare axum", shape.label());
        let server = bare()?;
        let outcome = drive(server.addr(), shape, "bare", closed, settings).await?;
        loads.push(row("ingest", shape, "bare axum", outcome, &server));

        eprintln!("ingest, {}: durable reference", shape.label());
        let db_dir = tempfile::tempdir_in(scratch.path())?;
        let server = durable(db_dir.path())?;
        let outcome = drive(server.addr(), shape, "ref", closed, settings).await?;
        loads.push(row("ingest", shape, "durable reference", outcome, &server));

        eprintln!("ingest, {}: hookgate on SQLite", shape.label());
        let dir = GatewayDir::new("", &sources_toml())?;
        let server = gateway(&binary, &dir)?;
        let outcome = drive(server.addr(), shape, "gw", closed, settings).await?;
        loads.push(row("ingest", shape, "hookgate (sqlite)", outcome, &server));

        if let Some(storage) = redis_storage() {
            eprintln!("ingest, {}: hookgate on Redis", shape.label());
            let dir = GatewayDir::new(&storage, &sources_toml())?;
            let server = gateway(&binary, &dir)?;
            let outcome = drive(server.addr(), shape, "gwr", closed, settings).await?;
            loads.push(row("ingest", shape, "hookgate (redis)", outcome, &server));
        }
    }

    let open = Mode::Open {
        rate: OPEN_RATE,
        connections: OPEN_CONNECTIONS,
    };
    if settings.wants("latency") {
        eprintln!("latency at {OPEN_RATE}/s: durable reference");
        let db_dir = tempfile::tempdir_in(scratch.path())?;
        let server = durable(db_dir.path())?;
        let outcome = drive(server.addr(), Shape::Stripe2k, "lref", open, settings).await?;
        loads.push(row(
            "latency",
            Shape::Stripe2k,
            "durable reference",
            outcome,
            &server,
        ));
        eprintln!("latency at {OPEN_RATE}/s: hookgate");
        let dir = GatewayDir::new("", &sources_toml())?;
        let server = gateway(&binary, &dir)?;
        let outcome = drive(server.addr(), Shape::Stripe2k, "lgw", open, settings).await?;
        loads.push(row(
            "latency",
            Shape::Stripe2k,
            "hookgate (sqlite)",
            outcome,
            &server,
        ));
    }
    let (end_to_end, end_to_end_http) = if settings.wants("e2e") {
        eprintln!("end to end (forward)");
        let forward = end_to_end(&binary, settings, FORWARD_ROUTE).await?;
        eprintln!("end to end (templated http)");
        let http = end_to_end(&binary, settings, TEMPLATED_HTTP_ROUTE).await?;
        (Some(forward), Some(http))
    } else {
        (None, None)
    };
    let overhead = if settings.wants("overhead") {
        eprintln!("plugin overhead");
        overhead::measure(&crate::server::target_dir().join("plugins"), 2_000).await?
    } else {
        Vec::new()
    };
    let reload = if settings.wants("reload") {
        eprintln!("hot reload under load");
        Some(reload(&binary, settings).await?)
    } else {
        None
    };
    let startup = if settings.wants("startup") {
        eprintln!("start-up");
        Some(startup(&binary)?)
    } else {
        None
    };
    let retention = if settings.wants("retention") {
        Some(crate::retention::measure(&binary, settings).await?)
    } else {
        None
    };
    Ok(Results {
        machine: machine(),
        seconds: settings.measure.as_secs_f64(),
        loads,
        end_to_end,
        end_to_end_http,
        overhead,
        reload,
        startup,
        retention,
    })
}

fn row(scenario: &str, shape: Shape, server: &str, outcome: Outcome, process: &Server) -> LoadRow {
    LoadRow {
        scenario: scenario.into(),
        payload: shape.label(),
        server: server.into(),
        outcome,
        peak_rss_mib: process.peak_rss_mib(),
    }
}

/// A loopback receiver that counts what arrives. It reads each body, as a real endpoint
/// does (a server that answers before reading may close the connection instead).
pub(crate) async fn receiver()
-> anyhow::Result<(SocketAddr, Arc<AtomicU64>, Arc<std::sync::Mutex<Instant>>)> {
    let count = Arc::new(AtomicU64::new(0));
    let last = Arc::new(std::sync::Mutex::new(Instant::now()));
    let (c, l) = (count.clone(), last.clone());
    let app = axum::Router::new().route(
        "/sink",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let (c, l) = (c.clone(), l.clone());
            async move {
                c.fetch_add(1, Ordering::Relaxed);
                *l.lock().expect("lock") = Instant::now();
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, count, last))
}

/// The end-to-end route: `forward` sends the normalized event as it is.
pub(crate) const FORWARD_ROUTE: &str =
    "action = \"forward\"\nconfig = { url = \"http://ADDR/sink\" }";

/// The same route as an `http` action whose body is rendered per event: typed values, filters,
/// a default, as an operator's integration would have them.
const TEMPLATED_HTTP_ROUTE: &str = "action = \"http\"\nconfig = { url = \"http://ADDR/sink\", \
    body = { id = \"{{ event.id }}\", kind = \"{{ event.type }}\", cents = \"{{ event.amount }}\", \
    total = \"{{ event.amount | money(event.currency) }}\", at = \"{{ event.occurred_at | date('%Y-%m-%d %H:%M') }}\", \
    customer = \"{{ event.payload.data.object.receipt_email | default('unknown') }}\", \
    object = \"{{ event.payload.data.object }}\" } }";

async fn end_to_end(binary: &Path, settings: &Settings, route: &str) -> anyhow::Result<EndToEnd> {
    let (addr, count, last) = receiver().await?;
    let body = format!(
        "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n{}\n\
         [[routes]]\nname = \"sink\"\nsource = \"*\"\n{}\nmax_in_flight = 64\n",
        sources_toml(),
        route.replace("ADDR", &addr.to_string())
    );
    let dir = GatewayDir::new("", &body)?;
    let server = gateway(binary, &dir)?;
    let started = Instant::now();
    // No warm-up: every accepted event is waited for.
    let generator = Arc::new(Generator::new(Shape::Stripe2k, "e2e"));
    let outcome = load::run(
        server.addr(),
        generator,
        Mode::Closed { connections: 32 },
        Duration::ZERO,
        settings.measure,
    )
    .await?;
    let accepted = outcome.ok;
    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::Relaxed) < accepted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered = count.load(Ordering::Relaxed);
    let span = last.lock().expect("lock").duration_since(started);
    Ok(EndToEnd {
        accepted,
        delivered,
        delivered_per_sec: delivered as f64 / span.as_secs_f64(),
        ingest_per_sec: outcome.throughput,
        peak_rss_mib: server.peak_rss_mib(),
    })
}

async fn reload(binary: &Path, settings: &Settings) -> anyhow::Result<Reload> {
    let dir = GatewayDir::new("", &sources_toml())?;
    let server = gateway(binary, &dir)?;
    let closed = Mode::Closed {
        connections: CLOSED_CONNECTIONS,
    };
    let steady = drive(server.addr(), Shape::Stripe2k, "steady", closed, settings).await?;
    let original = std::fs::read(dir.plugins().join("stripe.wasm")).context("stripe.wasm")?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, plugins) = (stop.clone(), swaps.clone(), dir.plugins());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let n = swaps.fetch_add(1, Ordering::Relaxed);
                let build = hookgate_testkit::plugin::rebuilt(&original, &format!("b{n}"));
                let tmp = plugins.join(".stripe.wasm.tmp");
                if std::fs::write(&tmp, build).is_ok() {
                    let _ = std::fs::rename(&tmp, plugins.join("stripe.wasm"));
                }
            }
        })
    };
    let outcome = drive(server.addr(), Shape::Stripe2k, "reload", closed, settings).await?;
    stop.store(true, Ordering::Relaxed);
    swapper.await?;
    Ok(Reload {
        replacements: swaps.load(Ordering::Relaxed),
        outcome,
        steady,
    })
}

fn startup(binary: &Path) -> anyhow::Result<Startup> {
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    let mut plugins = 0;
    for _ in 0..3 {
        let dir = GatewayDir::new("", &sources_toml())?;
        plugins = std::fs::read_dir(dir.plugins())?.count();
        cold.push(gateway(binary, &dir)?.started_in);
        warm.push(gateway(binary, &dir)?.started_in);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    Ok(Startup {
        cold_ms: median(cold),
        warm_ms: median(warm),
        plugins,
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    // Counted from /proc/cpuinfo: this process is pinned, so it sees one core itself.
    let cores = std::fs::read_to_string("/proc/cpuinfo").map_or(0, |c| {
        c.lines().filter(|l| l.starts_with("processor")).count()
    });
    format!(
        "{cores} cores, {cpu}; server pinned to core {SERVER_CORE}, load generator to core {LOAD_CORE}"
    )
}
