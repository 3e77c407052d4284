//! The command line: `hookgate serve`, `hookgate check`, the admin commands (`hookgate
//! dlq ...`, in [`admin`], printing [`tables`]) and `hookgate send` (in [`send`]). Errors end
//! here as readable messages and a non-zero exit code (anyhow lives only at this edge).

mod admin;
mod send;
mod tables;

use crate::app::{self, Gateway};
use crate::config::{self, Config};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Self-hosted webhook gateway: verified, normalized, durably stored webhooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        env = "HOOKGATE_LOG_FORMAT",
        default_value = "human"
    )]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve(ConfigArg),
    /// Validate the config and the plugins without serving; exits non-zero listing every problem.
    Check(ConfigArg),
    /// Inspect and replay the dead-letter queue of a running gateway (through its admin API).
    Dlq(admin::DlqArgs),
    /// The plugins a running gateway has loaded (through its admin API).
    Plugins(admin::PluginsArgs),
    /// Stored events of a running gateway (through its admin API).
    Events(admin::EventsArgs),
    /// Sign a payload with a source's configured secret (through its plugin) and post it to
    /// the running gateway: tests a source and its routes end to end without the platform.
    Send {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        args: send::SendArgs,
    },
}

#[derive(Args)]
struct ConfigArg {
    /// Config file (default: ./hookgate.toml).
    #[arg(long, short)]
    config: Option<PathBuf>,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The gateway logs its life; one-shot commands only what went wrong (their output is the
    // answer, on stdout).
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logging(cli.log_format, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hookgate")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hookgate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(arg) => serve(load_config(arg)?).await,
            Command::Check(arg) => check(load_config(arg)?).await,
            Command::Dlq(args) => admin::dlq(args).await,
            Command::Plugins(args) => admin::plugins(args).await,
            Command::Events(args) => admin::events(args).await,
            Command::Send { config, args } => send::send(load_config(config)?, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookgate: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HOOKGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn load_config(arg: ConfigArg) -> anyhow::Result<Config> {
    let path = match arg.config {
        Some(path) => path,
        None => {
            let default = PathBuf::from(config::DEFAULT_PATH);
            if !default.exists() {
                bail!(
                    "no config file: pass --config FILE, or create ./{} (a commented example is examples/hookgate.toml)",
                    config::DEFAULT_PATH
                );
            }
            default
        }
    };
    Ok(Config::load(&path)?)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    // The port first: a second gateway started by mistake on the same config fails here,
    // before it touches the store.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let operator = match config.admin.listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (admin.listen)"))?,
        ),
        None => None,
    };
    let gateway = Gateway::build(config).await?;
    // One line per listener on stdout for scripts and tests that start the gateway on port 0;
    // the admin one first, so a reader that stops at the main one has seen both.
    if let Some(operator) = &operator {
        println!(
            "hookgate admin listening on http://{}",
            operator.local_addr()?
        );
    }
    println!("hookgate listening on http://{}", listener.local_addr()?);
    gateway
        .serve(
            app::Listeners {
                public: listener,
                operator,
            },
            shutdown_signal(),
        )
        .await
}

async fn check(config: Config) -> anyhow::Result<()> {
    let problems = app::check(&config).await?;
    if problems.is_empty() {
        println!(
            "{}: ok ({} sources)",
            config.file.display(),
            config.sources.len()
        );
        Ok(())
    } else {
        bail!(
            "{}: {} problem(s):\n  - {}",
            config.file.display(),
            problems.len(),
            problems.join("\n  - ")
        )
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
