//! The command line: `hookgate serve`, `hookgate check`, the admin commands (`hookgate
//! dlq ...`, in [`admin`]) and `hookgate send` (in [`send`]). Errors end here as readable
//! messages and a non-zero exit code (anyhow lives only at this edge).

mod admin;
mod send;

use crate::cluster::Cluster;
use crate::config::{self, Backend, Config};
use crate::egress::Egress;
use crate::pipeline::deliver::Deliverer;
use crate::pipeline::{destinations, scheduler};
use crate::runtime::{Limits, Registry, Runtime, SecretRequirement};
use crate::server::{self, AppState};
use crate::store::{RedisOptions, RedisStore, SqliteStore, Store};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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

/// Loads the plugins; with `cache`, compiled code is kept in (and reused from) the data
/// directory. `check` passes false: validating a config creates no files.
async fn load_plugins(config: &Config, cache: bool) -> anyhow::Result<Arc<Registry>> {
    let runtime = Runtime::new(Limits {
        call_timeout: config.plugins.call_timeout,
        memory_limit_bytes: config.plugins.memory_limit_bytes,
    })?;
    let cache_dir = config.storage.path.join("plugin-cache");
    if cache && let Err(e) = runtime.enable_code_cache(cache_dir.clone()) {
        tracing::warn!(dir = %cache_dir.display(), error = %e, "compiled-code cache unavailable; plugins compile at every start");
    }
    let registry = Arc::new(Registry::new(runtime));
    if let Err(e) = registry.load_dir(&config.plugins.dir).await {
        tracing::error!(dir = %config.plugins.dir.display(), error = %e, "cannot read the plugins directory");
    }
    Ok(registry)
}

/// Problems between sources and their loaded plugins; `missing` lists absent plugins apart,
/// because at serve time they are not fatal (the source answers 503 until the file appears).
fn source_problems(config: &Config, registry: &Registry) -> (Vec<String>, Vec<String>) {
    let (mut problems, mut missing) = (Vec::new(), Vec::new());
    for (name, source) in &config.sources {
        match registry.get(&source.plugin) {
            None => missing.push(format!(
                "sources.{name}.plugin: plugin {:?} is not loaded from {}",
                source.plugin,
                config.plugins.dir.display()
            )),
            Some(p)
                if p.info.secrets == SecretRequirement::Required && source.secrets.is_empty() =>
            {
                problems.push(format!(
                    "sources.{name}.secrets: plugin {:?} requires at least one secret ({})",
                    source.plugin, p.info.description
                ))
            }
            Some(_) => {}
        }
    }
    (problems, missing)
}

/// Problems between routes/schedules and their action plugins: a config the action refuses
/// is an error; an absent action plugin is listed apart (its deliveries wait in the store).
async fn action_problems(config: &Config, registry: &Registry) -> (Vec<String>, Vec<String>) {
    let (mut problems, mut missing) = (Vec::new(), Vec::new());
    let targets = config
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("routes[{i}]"), &r.action, &r.config))
        .chain(
            config
                .schedules
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("schedules[{i}]"), &s.action, &s.config)),
        );
    for (path, action, action_config) in targets {
        let Some(plugin) = registry.action(action) else {
            missing.push(format!(
                "{path}.action: action plugin {action:?} is not loaded from {}",
                config.plugins.dir.display()
            ));
            continue;
        };
        match plugin
            .check_config(registry.runtime(), &action_config.to_string())
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(message)) => problems.push(format!("{path}.config: {message}")),
            Err(fault) => {
                problems.push(format!("{path}.config: the action plugin failed: {fault}"))
            }
        }
    }
    (problems, missing)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let registry = load_plugins(&config, true).await?;
    let (mut problems, missing) = source_problems(&config, &registry);
    let (action_problems, missing_actions) = action_problems(&config, &registry).await;
    problems.extend(action_problems);
    if !problems.is_empty() {
        bail!(
            "{}: invalid config:\n  - {}",
            config.file.display(),
            problems.join("\n  - ")
        );
    }
    for m in missing {
        tracing::error!(
            "{m}; the source answers 503 until the plugin is added and hookgate restarted"
        );
    }
    for m in missing_actions {
        tracing::error!("{m}; its deliveries wait in the store until the plugin is added");
    }
    let egress = Egress::new(&config.egress).map_err(|e| anyhow::anyhow!("[egress]: {e}"))?;
    // Kept alive until the gateway stops: plugins dropped into the directory go live.
    let _watch = match crate::runtime::watch(registry.clone(), config.plugins.dir.clone()) {
        Ok(watch) => Some(watch),
        Err(e) => {
            tracing::error!(dir = %config.plugins.dir.display(), error = %e, "cannot watch the plugins directory; plugins load only at start");
            None
        }
    };
    // The port first: a second gateway started by mistake on the same config fails here,
    // before it touches the store.
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    // Redis is shared by several nodes, so they also share rate limits and holds through it.
    let (store, cluster): (Arc<dyn Store>, Cluster) = match &config.storage.backend {
        Backend::Sqlite => (
            Arc::new(SqliteStore::open(&config.storage.path).context("opening the event store")?),
            Cluster::Local,
        ),
        Backend::Redis { url } => {
            let store = RedisStore::open(RedisOptions {
                dedupe_window: config.storage.dedupe_window,
                require_durable: config.storage.require_durable,
                prefix: config.storage.key_prefix.clone(),
                ..RedisOptions::new(url.clone())
            })
            .await
            .context("opening the event store")?;
            let shared = Cluster::Shared(Arc::new(store.shared_state()));
            (Arc::new(store), shared)
        }
    };
    let addr = listener.local_addr()?;
    tracing::info!(%addr, sources = config.sources.len(), plugins = registry.list().len(), "hookgate listening");
    // One line on stdout for scripts and tests that start the gateway on port 0.
    println!("hookgate listening on http://{addr}");
    let deliverer = Deliverer::new(
        store.clone(),
        registry.clone(),
        egress,
        destinations::from_config(&config),
        crate::pipeline::router::Router::new(&config.routes),
        cluster.clone(),
    )
    .await
    .context("starting the delivery engine")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let deadline = config.server.shutdown_timeout;
    let engine = tokio::spawn(deliverer.clone().run(stopped.clone(), deadline));
    scheduler::start(&config.schedules, store.clone(), deliverer.clone(), stopped);
    let state = Arc::new(
        AppState::new(config.clone(), registry, store)
            .with_deliverer(deliverer)
            .with_cluster(cluster),
    );
    // On SIGTERM/SIGINT: /ready fails at once; after `shutdown_delay` (load balancers notice)
    // the listener closes, and requests and deliveries in flight get the same deadline to
    // finish, side by side.
    let delay = config.server.shutdown_delay;
    let signal = {
        let state = state.clone();
        async move {
            shutdown_signal().await;
            state
                .shutting_down
                .store(true, std::sync::atomic::Ordering::Relaxed);
            if !delay.is_zero() {
                tracing::info!(
                    delay_ms = delay.as_millis() as u64,
                    "/ready fails; still accepting while load balancers notice"
                );
                tokio::time::sleep(delay).await;
            }
            let _ = stop.send(true);
        }
    };
    server::serve(
        listener,
        server::app(state),
        config.server.header_timeout,
        deadline,
        signal,
    )
    .await?;
    let _ = engine.await;
    tracing::info!("hookgate stopped");
    Ok(())
}

async fn check(config: Config) -> anyhow::Result<()> {
    let registry = load_plugins(&config, false).await?;
    for p in registry.list() {
        println!(
            "plugin {} {} (wit {}) from {}",
            p.info.name,
            p.info.version,
            p.info.wit_version,
            p.info.file.display()
        );
    }
    for a in registry.actions() {
        println!(
            "action plugin {} {} (wit {}) from {}",
            a.info.name,
            a.info.version,
            a.info.wit_version,
            a.info.file.display()
        );
    }
    let (mut problems, missing) = source_problems(&config, &registry);
    problems.extend(missing);
    let (action_problems, missing_actions) = action_problems(&config, &registry).await;
    problems.extend(action_problems);
    problems.extend(missing_actions);
    if let Err(e) = Egress::new(&config.egress) {
        problems.push(format!("egress: {e}"));
    }
    problems.extend(
        registry
            .errors()
            .into_iter()
            .map(|(file, e)| format!("{}: {e}", file.display())),
    );
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
