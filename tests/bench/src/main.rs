//! `hookgate-bench`: hookgate's throughput, latency and memory, each next to baselines measured
//! in the same run by the same load generator on the same cores, so every figure is also a
//! ratio (absolute numbers on a shared 2-core machine drift; ratios do not).
//!
//! ```text
//! cargo run --release -p hookgate-bench -- [--quick] [--json FILE]
//! ```
//!
//! The servers (the gateway, a bare axum handler, a durable SQLite reference) run pinned to
//! one core, the load generator (and the loopback receiver of the end-to-end scenario) to the
//! other. Scenarios: ingest at maximum throughput (Stripe-like 2 KB, GitHub-like 15 KB, a mix)
//! on SQLite, and on Redis when `REDIS_URL` is set; acknowledgement latency at a fixed rate;
//! end to end to a loopback receiver; plugin call overhead against the same code run
//! natively; hot reload under load; cold and warm start; retention (ingest latency while a
//! large prune runs, against the same run with nothing to prune; bytes per stored event).
//! Peak RSS of every server.
//!
//! `HOOKGATE_BENCH_BEFORE_PLUGINS=DIR` adds DIR's `stripe.wasm` and `github.wasm` (for example
//! built from an earlier commit, for an earlier plugin interface) to the overhead scenario,
//! timed in the same rounds as the current plugins, so an interface change is an A/B in one run.

mod baseline;
mod load;
mod overhead;
mod payload;
mod redis_keys;
mod report;
mod retention;
mod scenarios;
mod server;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "hookgate-bench", about = "hookgate's benchmark suite")]
struct Cli {
    #[command(subcommand)]
    command: Option<Internal>,
    /// Seconds measured per load run (after the warm-up).
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Warm-up seconds per load run, not measured.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// A quick pass: 3 s runs, 1 s warm-up (for checking the tool, not for figures).
    #[arg(long)]
    quick: bool,
    /// Run only these scenarios (comma-separated: ingest, latency, e2e, overhead, reload,
    /// startup, retention).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
}

/// The baselines are served by this same binary, in a child process.
#[derive(Subcommand)]
enum Internal {
    /// Serve the bare axum baseline (internal).
    #[command(hide = true)]
    ServeBare,
    /// Serve the durable reference (internal).
    #[command(hide = true)]
    ServeDurable {
        /// SQLite file.
        #[arg(long)]
        db: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.command.is_none() {
        // Before the runtime's threads exist, so every one of them inherits the core.
        pin_self(scenarios::LOAD_CORE);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Some(command) => runtime.block_on(serve(command)),
        None => {
            let (seconds, warmup) = if cli.quick {
                (3, 1)
            } else {
                (cli.seconds, cli.warmup)
            };
            let settings = scenarios::Settings {
                measure: std::time::Duration::from_secs(seconds),
                warmup: std::time::Duration::from_secs(warmup),
                only: cli.only,
                quick: cli.quick,
            };
            let results = runtime.block_on(scenarios::run_all(&settings))?;
            let markdown = report::markdown(&results);
            println!("{markdown}");
            if let Some(dir) = cli.json.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&cli.json, serde_json::to_string_pretty(&results)?)?;
            eprintln!("JSON written to {}", cli.json.display());
            Ok(())
        }
    }
}

/// Pins this process to `core` with `taskset` (servers get the other core), when the machine
/// has more than one.
fn pin_self(core: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        eprintln!("one core only: the load generator and the servers share it");
        return;
    }
    let pinned = std::process::Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !pinned {
        eprintln!("taskset failed: the load generator is not pinned");
    }
}

async fn serve(command: Internal) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    match command {
        Internal::ServeBare => baseline::serve_bare(listener).await,
        Internal::ServeDurable { db } => baseline::serve_durable(listener, db).await,
    }
}
