//! Retention (issue 17 item 13): what background pruning costs ingest, and what one stored
//! event costs the store.
//!
//! - **Ingest while a large prune runs.** One SQLite store is pre-filled with Stripe 2 KB
//!   events, then driven twice at the latency scenario's fixed rate, for the same time, by
//!   gateways started on it in turn: first with `[storage.retention]` at 30 days (nothing to
//!   prune), then at 1 s, which makes everything stored so far prunable at once. Both runs
//!   start on a freshly started gateway over the same data, so the only difference is the
//!   pruner. `hookgate_retention_pruned_events_total` is scraped every half second, at the
//!   instants the measured window opens and closes among them, to show that the prune really
//!   overlapped the window and how much of it did. The sources have no routes: an event no
//!   route matched counts as delivered for retention.
//! - **Bytes per stored event.** `hookgate_store_bytes` before and after a known number of
//!   events, on SQLite and on Redis, per payload shape. Each event is routed (`forward` to a
//!   loopback receiver) and delivered before the figure is read, so it holds what a typical
//!   event leaves behind: envelope, payload, indexes, one job and its attempt.

use crate::load::{self, Mode, Outcome};
use crate::payload::{Generator, Shape, sources_toml};
use crate::scenarios::{self, Settings};
use crate::server::{GatewayDir, Server};
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The counter of events retention deleted.
const PRUNED: &str = "hookgate_retention_pruned_events_total";
/// The store's size.
const STORE_BYTES: &str = "hookgate_store_bytes";
/// How old the store's figures in a scrape may be: the gateway's `SNAPSHOT_MAX_AGE`
/// (`host/src/server/snapshot.rs`). A scrape at least this long after the previous one is
/// sure to make the gateway read the store again.
const STORE_FIGURES_MAX_AGE: Duration = Duration::from_secs(5);
/// The pruned counter is read this often during the fixed-rate runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// The gateways' log filter: warnings and errors, and the pruner's per-pass summary.
const LOG_FILTER: &str = "warn,hookgate::store::pruning=info";

/// Everything the scenario measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RetentionFigures {
    /// Ingest latency with nothing to prune and during a large prune.
    pub prune: PruneLatency,
    /// Bytes per stored event, per backend and payload.
    pub bytes: Vec<StoreBytes>,
    /// Redis keys left under the scenario's prefix per stored event (counted as they were
    /// deleted afterwards), when Redis was measured.
    pub redis_keys_per_event: Option<f64>,
    /// What the gateways logged.
    pub log: GatewayLog,
}

/// The two fixed-rate runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PruneLatency {
    /// Events stored by the closed-loop pre-fill.
    pub prefilled: u64,
    /// Pre-fill rate, events per second.
    pub prefill_per_sec: f64,
    /// Pre-fill requests not answered 2xx.
    pub prefill_errors: u64,
    /// Retention 30 days: nothing to prune.
    pub quiet: Outcome,
    /// Events pruned during that whole run (expected 0).
    pub quiet_pruned: u64,
    /// The share of its core the gateway kept busy during the measured window.
    pub quiet_cpu: f64,
    /// Its gateway's store transactions over the run.
    pub quiet_writes: StoreWrites,
    /// Peak RSS of that gateway, MiB.
    pub quiet_peak_rss_mib: f64,
    /// Events in the store when the pruning gateway started (the pre-fill and the quiet
    /// run's, warm-up included): all older than 1 s, so all prunable.
    pub backlog: u64,
    /// Retention 1 s, started on that backlog.
    pub pruning: Outcome,
    /// Its gateway's store transactions over the run.
    pub pruning_writes: StoreWrites,
    /// Peak RSS of that gateway, MiB.
    pub pruning_peak_rss_mib: f64,
    /// Pruned from the gateway's start to the window's opening (during the warm-up).
    pub pruned_before_window: u64,
    /// Pruned while the window was open.
    pub pruned_in_window: u64,
    /// The share of its core the gateway kept busy during the measured window.
    pub pruning_cpu: f64,
    /// When (seconds from the window's opening) the counter first reached the backlog: the
    /// backlog was gone then, the rest being events of the run itself. `None`: not by the end.
    pub backlog_cleared_at_s: Option<f64>,
    /// Events left in the store once the run was over.
    pub left_after: u64,
    /// The counter during the pruning run.
    pub samples: Vec<PruneSample>,
}

impl PruneLatency {
    /// p99 while pruning over p99 with nothing to prune.
    pub fn p99_ratio(&self) -> f64 {
        self.pruning.p99_ms / self.quiet.p99_ms
    }

    /// The same for p50.
    pub fn p50_ratio(&self) -> f64 {
        self.pruning.p50_ms / self.quiet.p50_ms
    }
}

/// A gateway's SQLite transactions from its start (the run, warm-up included), from its
/// `/metrics` histograms: where the time of an acknowledgement goes when a prune shares the
/// writer's group commits.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct StoreWrites {
    /// Transactions (group commits).
    pub transactions: u64,
    /// Their mean time, fsync included, ms.
    pub mean_ms: f64,
    /// Writes per transaction, mean (webhooks, prune batches).
    pub mean_batch: f64,
    /// Transactions longer than 12.8 ms (a histogram bucket's bound): those that hold a
    /// webhook's acknowledgement long enough to show in a p99 of a few milliseconds.
    pub over_12_8_ms: u64,
    /// Longer than 51.2 ms.
    pub over_51_2_ms: u64,
    /// Background WAL checkpoints.
    pub checkpoints: u64,
    /// Their mean time, ms.
    pub checkpoint_mean_ms: f64,
}

impl StoreWrites {
    fn read(text: &str) -> StoreWrites {
        let count = |name: &str| value(text, &format!("{name}_count")).unwrap_or(0.0);
        let mean = |name: &str| {
            let n = count(name);
            if n > 0.0 {
                value(text, &format!("{name}_sum")).unwrap_or(0.0) / n
            } else {
                0.0
            }
        };
        let over = |le: &str| {
            let within = value(
                text,
                &format!("hookgate_store_write_latency_seconds_bucket{{le=\"{le}\"}}"),
            );
            (count("hookgate_store_write_latency_seconds") - within.unwrap_or(0.0)).max(0.0) as u64
        };
        StoreWrites {
            transactions: count("hookgate_store_write_latency_seconds") as u64,
            over_12_8_ms: over("0.0128"),
            over_51_2_ms: over("0.0512"),
            mean_ms: mean("hookgate_store_write_latency_seconds") * 1000.0,
            mean_batch: mean("hookgate_store_batch_size"),
            checkpoints: count("hookgate_store_checkpoint_latency_seconds") as u64,
            checkpoint_mean_ms: mean("hookgate_store_checkpoint_latency_seconds") * 1000.0,
        }
    }
}

/// One reading of the pruned counter.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PruneSample {
    /// Seconds from the measured window's opening (negative: during the warm-up).
    pub at_s: f64,
    /// The counter.
    pub pruned: u64,
    /// CPU seconds the gateway had used by then.
    pub cpu_s: f64,
}

/// Over the measured window of `samples` (`measured` seconds long): the counter's growth
/// and the share of its core the gateway kept busy.
fn window(samples: &[PruneSample], measured: f64) -> (PruneSample, u64, f64) {
    let at = |t: f64| {
        samples
            .iter()
            .min_by(|a, b| (a.at_s - t).abs().total_cmp(&(b.at_s - t).abs()))
            .copied()
            .unwrap_or(PruneSample {
                at_s: t,
                pruned: 0,
                cpu_s: 0.0,
            })
    };
    let (opened, closed) = (at(0.0), at(measured));
    let busy = (closed.cpu_s - opened.cpu_s) / (closed.at_s - opened.at_s).max(1e-9);
    (opened, closed.pruned.saturating_sub(opened.pruned), busy)
}

/// One backend and payload's bytes per event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreBytes {
    /// `sqlite` or `redis`.
    pub backend: &'static str,
    /// Payload label.
    pub payload: &'static str,
    /// Body bytes of one webhook.
    pub body_bytes: usize,
    /// Events stored (requests answered 2xx).
    pub events: u64,
    /// Requests not answered 2xx.
    pub errors: u64,
    /// `hookgate_store_bytes` before.
    pub before: u64,
    /// And after, once it had stopped moving.
    pub after: u64,
    /// SQLite: the WAL file's size at those two readings (part of the figure, and
    /// independent of how many events the database holds).
    pub wal_before: Option<u64>,
    /// See `wal_before`.
    pub wal_after: Option<u64>,
    /// Whether two readings in a row agreed (else the last one is reported).
    pub settled: bool,
}

impl StoreBytes {
    /// (after − before) / events.
    pub fn per_event(&self) -> f64 {
        (self.after as f64 - self.before as f64) / self.events.max(1) as f64
    }

    /// The WAL file's growth per event (SQLite). The WAL grows to its high-water mark (the
    /// writer's checkpoint threshold) and stays there however many events follow, so this
    /// part of the figure depends on when it was read, not on the events.
    pub fn wal_per_event(&self) -> Option<f64> {
        let grown = self.wal_after? as f64 - self.wal_before? as f64;
        Some(grown / self.events.max(1) as f64)
    }

    /// Bytes per event over the body: envelope, indexes, job and attempt (the WAL's growth
    /// left out).
    pub fn overhead_per_event(&self) -> f64 {
        self.per_event() - self.wal_per_event().unwrap_or(0.0) - self.body_bytes as f64
    }
}

/// What the scenario's gateways logged at warning level and above, and the pruner's passes.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GatewayLog {
    /// Warnings and errors (and any line that is not the JSON log: a panic, a fatal error).
    pub problems: u64,
    /// The first few of them, as logged.
    pub first_problems: Vec<String>,
    /// Passes that pruned something ("retention: pruned events past their retention").
    pub passes: u64,
    /// Events those passes reported.
    pub passes_pruned: u64,
}

impl GatewayLog {
    /// Adds what the log at `path` holds.
    fn read(&mut self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let entry = serde_json::from_str::<serde_json::Value>(line).ok();
            let level = entry.as_ref().and_then(|e| e["level"].as_str());
            let message = entry.as_ref().and_then(|e| e["message"].as_str());
            if message.is_some_and(|m| m.starts_with("retention: pruned events")) {
                self.passes += 1;
                self.passes_pruned += entry
                    .as_ref()
                    .and_then(|e| e["events"].as_u64())
                    .unwrap_or(0);
            } else if matches!(level, Some("WARN" | "ERROR")) || entry.is_none() {
                self.problems += 1;
                if self.first_problems.len() < 5 {
                    self.first_problems.push(line.chars().take(400).collect());
                }
            }
        }
    }
}

/// The counts the scenario uses: `--quick` shrinks them with the run times.
struct Counts {
    prefill: u64,
    stripe: u64,
    github: u64,
}

impl Counts {
    fn of(settings: &Settings) -> Counts {
        if settings.quick {
            Counts {
                prefill: 10_000,
                stripe: 4_000,
                github: 1_000,
            }
        } else {
            // 60,000 Stripe events take about 5 s to store on the 2-core machine. With the
            // quiet run's 20,000 they outlast the pruning run at the pruner's pace (measured
            // there: about 6,000 a second with batches of 200, about 2,100 with batches of
            // 50), so the whole measured window overlaps the prune of the backlog. 5,000
            // GitHub events are 75 MB of payload, enough to see the per-event cost.
            Counts {
                prefill: 60_000,
                stripe: 20_000,
                github: 5_000,
            }
        }
    }
}

/// Runs the scenario.
pub async fn measure(binary: &Path, settings: &Settings) -> anyhow::Result<RetentionFigures> {
    let started = Instant::now();
    let counts = Counts::of(settings);
    let mut log = GatewayLog::default();
    let prune = prune_latency(binary, settings, &counts, &mut log).await?;
    // Bytes are not timings: both backends are measured at once, which halves the time
    // spent waiting for the store figures to refresh. Redis's figure is the whole server's
    // memory and SQLite's its own files, so neither sees the other's writes.
    eprintln!("retention: bytes per stored event");
    let shapes = [
        (Shape::Stripe2k, counts.stripe),
        (Shape::GitHub15k, counts.github),
    ];
    let sqlite = store_bytes(binary, Backend::Sqlite, &shapes);
    let redis = async {
        match scenarios::redis_url() {
            Some(url) => store_bytes(binary, Backend::Redis(url), &shapes)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    // Both run to their end (and clean up after themselves) even when one fails.
    let (sqlite, redis) = tokio::join!(sqlite, redis);
    let (sqlite, redis) = (sqlite?, redis?);
    let mut bytes = Vec::new();
    let mut redis_keys_per_event = None;
    for measured in std::iter::once(sqlite).chain(redis) {
        log.read(&measured.log);
        let stored: u64 = measured.rows.iter().map(|r| r.events).sum();
        if let Some(keys) = measured.keys {
            redis_keys_per_event = Some(keys as f64 / stored.max(1) as f64);
        }
        bytes.extend(measured.rows);
    }
    eprintln!(
        "retention: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(RetentionFigures {
        prune,
        bytes,
        redis_keys_per_event,
        log,
    })
}

/// `[storage.retention]` with both retentions at `keep`.
fn retention_lines(keep: &str) -> String {
    format!("[storage.retention]\ndelivered = \"{keep}\"\ndead_lettered = \"{keep}\"\n")
}

/// Starts the gateway of `dir`, its log (JSON, so that it can be read back) appended to
/// `dir/gateway.log`.
fn gateway(binary: &Path, dir: &GatewayDir) -> anyhow::Result<Server> {
    let mut command = dir.command(binary);
    command
        .env("HOOKGATE_LOG", LOG_FILTER)
        .env("HOOKGATE_LOG_FORMAT", "json");
    Server::spawn_logged(command, Some(scenarios::SERVER_CORE), &log_path(dir))
}

/// A gateway directory for this scenario: `storage` and `body` lines, and only the plugins of
/// the benchmark's sources and of the `forward` action (what is measured here does not
/// depend on how many are loaded).
fn gateway_dir(storage: &str, body: &str) -> anyhow::Result<GatewayDir> {
    let dir = GatewayDir::new(storage, body)?;
    dir.keep_plugins(&["stripe", "github", "shopify", "forward-action"])?;
    Ok(dir)
}

fn log_path(dir: &GatewayDir) -> PathBuf {
    dir.dir.path().join("gateway.log")
}

/// Events in a SQLite store whose gateway has stopped.
fn stored_events(db: &Path) -> anyhow::Result<u64> {
    let conn = rusqlite::Connection::open(db).with_context(|| db.display().to_string())?;
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

async fn prune_latency(
    binary: &Path,
    settings: &Settings,
    counts: &Counts,
    log: &mut GatewayLog,
) -> anyhow::Result<PruneLatency> {
    let dir = gateway_dir(&retention_lines("30d"), &sources_toml())?;
    eprintln!(
        "retention: pre-filling SQLite with {} Stripe 2 KB events",
        counts.prefill
    );
    let filled = {
        let server = gateway(binary, &dir)?;
        let generator = Arc::new(Generator::new(Shape::Stripe2k, "rfill"));
        load::fill(
            server.addr(),
            generator,
            scenarios::CLOSED_CONNECTIONS,
            counts.prefill,
        )
        .await?
    };
    // Counted with every gateway stopped, before each run alike (opening the database after
    // a gateway's end also folds its WAL back in, so both runs start from the same state).
    let prefilled = stored_events(&dir.database())?;

    eprintln!(
        "retention: ingest at {}/s, nothing to prune",
        scenarios::OPEN_RATE
    );
    let (quiet, quiet_samples, quiet_writes, quiet_peak_rss_mib) = {
        let server = gateway(binary, &dir)?;
        let (outcome, samples) = observed_run(&server, "rquiet", settings).await?;
        let writes = StoreWrites::read(&scrape(server.addr()).await?);
        (outcome, samples, writes, server.peak_rss_mib())
    };
    let backlog = stored_events(&dir.database())?;

    eprintln!(
        "retention: ingest at {}/s while pruning {backlog} events",
        scenarios::OPEN_RATE
    );
    dir.configure(&retention_lines("1s"), &sources_toml())?;
    let (pruning, samples, pruning_writes, pruning_peak_rss_mib) = {
        let server = gateway(binary, &dir)?;
        let (outcome, samples) = observed_run(&server, "rprune", settings).await?;
        let writes = StoreWrites::read(&scrape(server.addr()).await?);
        (outcome, samples, writes, server.peak_rss_mib())
    };
    let left_after = stored_events(&dir.database())?;
    log.read(&log_path(&dir));

    let measured = settings.measure.as_secs_f64();
    let (_, _, quiet_cpu) = window(&quiet_samples, measured);
    let (opened, pruned_in_window, pruning_cpu) = window(&samples, measured);
    Ok(PruneLatency {
        prefilled,
        prefill_per_sec: filled.ok as f64 / filled.seconds,
        prefill_errors: filled.errors,
        quiet,
        quiet_pruned: quiet_samples.last().map_or(0, |s| s.pruned),
        quiet_cpu,
        quiet_writes,
        quiet_peak_rss_mib,
        backlog,
        pruning,
        pruning_writes,
        pruning_peak_rss_mib,
        pruned_before_window: opened.pruned,
        pruned_in_window,
        pruning_cpu,
        backlog_cleared_at_s: samples.iter().find(|s| s.pruned >= backlog).map(|s| s.at_s),
        left_after,
        samples,
    })
}

/// One fixed-rate Stripe 2 KB run (the latency scenario's rate, connections, warm-up and
/// length) against `server`, with the pruned counter read every [`SAMPLE_EVERY`] from the
/// run's start to its end; the window's opening and closing are among those instants. The
/// scrapes are the same small extra load in both runs.
async fn observed_run(
    server: &Server,
    run: &str,
    settings: &Settings,
) -> anyhow::Result<(Outcome, Vec<PruneSample>)> {
    let (addr, pid) = (server.addr(), server.pid());
    let start = Instant::now() + Duration::from_millis(50);
    let opens = start + settings.warmup;
    let closes = opens + settings.measure;
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut at = start;
        while at <= closes {
            tokio::time::sleep_until(at.into()).await;
            let text = scrape(addr).await?;
            let pruned = value(&text, PRUNED).with_context(|| format!("no {PRUNED}"))?;
            let at_s = if at >= opens {
                (at - opens).as_secs_f64()
            } else {
                -(opens - at).as_secs_f64()
            };
            samples.push(PruneSample {
                at_s,
                pruned: pruned as u64,
                cpu_s: crate::server::cpu_seconds(pid).unwrap_or(0.0),
            });
            at += SAMPLE_EVERY;
        }
        anyhow::Ok(samples)
    });
    let mode = Mode::Open {
        rate: scenarios::OPEN_RATE,
        connections: scenarios::OPEN_CONNECTIONS,
    };
    let generator = Arc::new(Generator::new(Shape::Stripe2k, run));
    let outcome = load::run_at(
        addr,
        generator,
        mode,
        start,
        settings.warmup,
        settings.measure,
    )
    .await?;
    let samples = sampler.await??;
    Ok((outcome, samples))
}

/// `GET /metrics` on a connection of its own (the main listener serves it when
/// `admin.listen` is not set, without a token).
async fn scrape(addr: SocketAddr) -> anyhow::Result<String> {
    let mut sender = load::connect(addr).await?;
    let request = hyper::Request::get("/metrics")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(
        response.status().is_success(),
        "/metrics answered {}",
        response.status()
    );
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The value of the label-less sample `name` in a scrape.
fn value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

/// Where the bytes are measured.
enum Backend {
    Sqlite,
    /// At this URL, under a prefix of the scenario's own.
    Redis(String),
}

/// One backend's rows, its gateway's log, and (Redis) the keys it left.
struct Measured {
    rows: Vec<StoreBytes>,
    log: PathBuf,
    keys: Option<u64>,
    /// Kept until the log has been read.
    _dir: GatewayDir,
}

/// `hookgate_store_bytes` as the store reports it now, with the WAL file's size (SQLite).
#[derive(Debug, Clone, Copy)]
struct Reading {
    bytes: u64,
    wal: Option<u64>,
}

/// Reads the store's size through `/metrics` so that every reading is a fresh one: the
/// gateway reads the store for a scrape only when its last figures are
/// [`STORE_FIGURES_MAX_AGE`] old, so readings are spaced at least that far apart (and
/// nothing else scrapes this gateway).
struct Probe {
    addr: SocketAddr,
    wal: Option<PathBuf>,
    last: Option<Instant>,
}

impl Probe {
    async fn read(&mut self) -> anyhow::Result<Reading> {
        if let Some(last) = self.last {
            let due = last + STORE_FIGURES_MAX_AGE + Duration::from_millis(200);
            tokio::time::sleep_until(due.into()).await;
        }
        let text = scrape(self.addr).await?;
        // Taken after the answer, so later than the gateway's own reading time.
        self.last = Some(Instant::now());
        let bytes = value(&text, STORE_BYTES).with_context(|| format!("no {STORE_BYTES}"))?;
        let wal = self
            .wal
            .as_ref()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()));
        Ok(Reading {
            bytes: bytes as u64,
            wal,
        })
    }

    /// Reads until two readings in a row agree (the writes are all in, SQLite's checkpoint
    /// has caught up, Redis has settled), within 64 KiB or 0.5 % of the growth since
    /// `reference`; after five readings the last one is taken, marked unsettled.
    async fn settled(&mut self, reference: u64) -> anyhow::Result<(Reading, bool)> {
        let mut last = self.read().await?;
        for _ in 0..4 {
            let next = self.read().await?;
            let grown = next.bytes.abs_diff(reference);
            if next.bytes.abs_diff(last.bytes) <= (grown / 200).max(64 << 10) {
                return Ok((next, true));
            }
            last = next;
        }
        Ok((last, false))
    }
}

/// Stores `shapes`' events in turn on a fresh gateway on `backend` (retention 30 days, one
/// `forward` route to a loopback receiver), each shape's measured from the previous reading.
async fn store_bytes(
    binary: &Path,
    backend: Backend,
    shapes: &[(Shape, u64)],
) -> anyhow::Result<Measured> {
    let (sink, delivered, _) = scenarios::receiver().await?;
    let body = format!(
        "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n{}\n\
         [[routes]]\nname = \"sink\"\nsource = \"*\"\n{}\nmax_in_flight = 64\n",
        sources_toml(),
        scenarios::FORWARD_ROUTE.replace("ADDR", &sink.to_string())
    );
    let (label, storage, redis) = match &backend {
        Backend::Sqlite => ("sqlite", String::new(), None),
        Backend::Redis(url) => {
            let prefix = scenarios::redis_prefix("-bytes");
            let lines = scenarios::redis_storage_lines(url, &prefix);
            ("redis", lines, Some((url.clone(), prefix)))
        }
    };
    let dir = gateway_dir(&format!("{storage}{}", retention_lines("30d")), &body)?;
    let rows = fill_and_read(binary, &dir, label, shapes, &delivered).await;
    // Deleted whether the measurement worked or not: a failed run leaves as many keys.
    let keys = match redis {
        Some((url, prefix)) => {
            let deleted = tokio::task::spawn_blocking(move || {
                crate::redis_keys::delete_prefix(&url, &prefix)
            })
            .await?;
            match deleted {
                Ok(n) => Some(n),
                Err(e) => {
                    eprintln!("retention: could not delete the Redis keys: {e:#}");
                    None
                }
            }
        }
        None => None,
    };
    let rows = rows.map_err(|e| {
        // What the gateway said is usually the reason (a plugin missing, the store refusing).
        let mut log = GatewayLog::default();
        log.read(&log_path(&dir));
        e.context(format!(
            "{label} gateway's warnings and errors: {}",
            log.first_problems.join(" / ")
        ))
    })?;
    Ok(Measured {
        rows,
        log: log_path(&dir),
        keys,
        _dir: dir,
    })
}

/// The measurement of [`store_bytes`] on the gateway of `dir`; `delivered` counts what the
/// route's receiver got.
async fn fill_and_read(
    binary: &Path,
    dir: &GatewayDir,
    label: &'static str,
    shapes: &[(Shape, u64)],
    delivered: &AtomicU64,
) -> anyhow::Result<Vec<StoreBytes>> {
    let server = gateway(binary, dir)?;
    let mut probe = Probe {
        addr: server.addr(),
        wal: (label == "sqlite").then(|| dir.database().with_extension("db-wal")),
        last: None,
    };
    // The first scrape reads the store: nothing has cached its figures yet.
    let mut before = probe.read().await?;
    let mut rows = Vec::new();
    let mut sent = 0;
    for &(shape, count) in shapes {
        let generator = Arc::new(Generator::new(shape, &format!("bytes-{label}")));
        let body_bytes = generator.webhook(0).body.len();
        let filled = load::fill(
            server.addr(),
            generator,
            scenarios::CLOSED_CONNECTIONS,
            count,
        )
        .await?;
        sent += filled.ok;
        eprintln!(
            "retention: {label}, {} {} events stored in {:.1} s",
            filled.ok,
            shape.label(),
            filled.seconds
        );
        let deadline = Instant::now() + Duration::from_secs(120);
        while delivered.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::ensure!(
            delivered.load(Ordering::Relaxed) >= sent,
            "{label}: {} of {sent} events delivered after 120 s",
            delivered.load(Ordering::Relaxed)
        );
        let (after, settled) = probe.settled(before.bytes).await?;
        rows.push(StoreBytes {
            backend: label,
            payload: shape.label(),
            body_bytes,
            events: filled.ok,
            errors: filled.errors,
            before: before.bytes,
            after: after.bytes,
            wal_before: before.wal,
            wal_after: after.wal,
            settled,
        });
        before = after;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrape_values_are_found_by_exact_name() {
        let text = "# TYPE hookgate_store_bytes gauge\nhookgate_store_bytes 143824\n\
                    hookgate_retention_pruned_events_total 7\n";
        assert_eq!(value(text, STORE_BYTES), Some(143_824.0));
        assert_eq!(value(text, PRUNED), Some(7.0));
        assert_eq!(value(text, "hookgate_store"), None);
    }

    #[test]
    fn the_log_counts_passes_apart_from_problems() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(
            &path,
            "{\"level\":\"INFO\",\"message\":\"retention: pruned events past their retention\",\"events\":200}\n\
             {\"level\":\"WARN\",\"message\":\"retention: pruning failed\"}\n\
             thread 'main' panicked\n",
        )
        .unwrap();
        let mut log = GatewayLog::default();
        log.read(&path);
        assert_eq!((log.passes, log.passes_pruned, log.problems), (1, 200, 2));
    }
}
