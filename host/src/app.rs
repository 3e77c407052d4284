//! The composition root: the one place that wires the gateway together, so its start-up and
//! shutdown read in one file, and tests (or an embedding program) can start the whole gateway
//! as a library.
//!
//! Start-up, in order: load the plugins (compiled-code cache in the data directory) and check
//! every source and route against them; build the egress client; watch the plugins directory;
//! open the store (on Redis also the cluster's shared state); build the ingest side and the
//! delivery engine over the same store and route table. [`Gateway::serve`] then starts the
//! engine, the shared-state follower and the scheduler beside the HTTP listener.
//!
//! Shutdown (SIGTERM or Ctrl-C, or the future given to `serve`): `/ready` fails at once; after
//! `server.shutdown_delay` the listener closes; requests and deliveries in flight get
//! `server.shutdown_timeout` to finish, side by side.

use crate::cluster::Cluster;
use crate::config::{Backend, Config};
use crate::delivery::destinations;
use crate::delivery::{Deliverer, scheduler};
use crate::egress::Egress;
use crate::ingest::{Ingest, RouteTable};
use crate::model::SystemClock;
use crate::runtime::{Limits, PluginWatch, Registry, Runtime, SecretRequirement};
use crate::server::{self, AppState};
use crate::store::{RedisOptions, RedisStore, SqliteStore, Store};
use anyhow::{Context, bail};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;

/// A gateway built from a config, ready to serve.
#[derive(Debug)]
pub struct Gateway {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    deliverer: Arc<Deliverer>,
    state: Arc<AppState>,
    /// Kept alive while the gateway runs: plugins dropped into the directory go live.
    _watch: Option<PluginWatch>,
}

impl Gateway {
    /// Loads the plugins, refuses a config they reject, opens the store and builds the ingest
    /// side and the delivery engine. Absent plugins are not fatal: their sources answer 503
    /// and their deliveries wait in the store until the file appears.
    pub async fn build(config: Config) -> anyhow::Result<Gateway> {
        let config = Arc::new(config);
        let registry = load_plugins(&config, true).await?;
        let (mut problems, missing) = source_problems(&config, &registry).await;
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
        let watch = match crate::runtime::watch(registry.clone(), config.plugins.dir.clone()) {
            Ok(watch) => Some(watch),
            Err(e) => {
                tracing::error!(dir = %config.plugins.dir.display(), error = %e, "cannot watch the plugins directory; plugins load only at start");
                None
            }
        };
        let (store, cluster) = open_store(&config).await?;
        let routes = RouteTable::new(&config.routes);
        let deliverer = Deliverer::new(
            store.clone(),
            registry.clone(),
            egress,
            destinations::from_config(&config),
            routes,
            cluster.clone(),
            Arc::new(SystemClock),
        )
        .await
        .context("starting the delivery engine")?;
        let ingest = Ingest::new(config.clone(), registry, store.clone())
            .with_cluster(cluster)
            .waking(deliverer.waker());
        let state = Arc::new(
            AppState::new(Arc::new(ingest), store.clone()).with_deliverer(deliverer.clone()),
        );
        Ok(Gateway {
            config,
            store,
            deliverer,
            state,
            _watch: watch,
        })
    }

    /// Serves on `listeners` until `shutdown` resolves, then drains (see the module docs).
    pub async fn serve(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let config = &self.config;
        let addr = listeners.public.local_addr()?;
        tracing::info!(%addr, sources = config.sources.len(), plugins = self.state.registry.list().len(), "hookgate listening");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let deadline = config.server.shutdown_timeout;
        let engine = tokio::spawn(self.deliverer.clone().run(stopped.clone(), deadline));
        tokio::spawn(self.deliverer.clone().follow_shared_state(stopped.clone()));
        scheduler::start(
            &config.schedules,
            self.store.clone(),
            self.deliverer.waker(),
            self.deliverer.clock(),
            stopped.clone(),
        );
        // Retention: every node prunes (on Redis each pass is atomic per batch, so nodes
        // pruning at once only share the work).
        tokio::spawn(crate::store::pruning::run(
            self.store.clone(),
            config.storage.retention,
            config.storage.dedupe_window,
            stopped,
        ));
        let delay = config.server.shutdown_delay;
        let signal = {
            let state = self.state.clone();
            async move {
                shutdown.await;
                state.shutting_down.store(true, Ordering::Relaxed);
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
        // One signal closes every listener.
        let (close, closed) = tokio::sync::watch::channel(false);
        let signal = async move {
            signal.await;
            let _ = close.send(true);
        };
        let options = server::ServeOptions {
            header_timeout: config.server.header_timeout,
            drain: deadline,
            max_connections: config.server.max_connections,
        };
        let closing = |mut closed: tokio::sync::watch::Receiver<bool>| async move {
            let _ = closed.wait_for(|c| *c).await;
        };
        let (public_app, operator) = match listeners.operator {
            Some(listener) => {
                tracing::info!(addr = %listener.local_addr()?, "admin API, console and /metrics listening on their own address");
                (
                    server::public(self.state.clone()),
                    Some((listener, server::operator_alone(self.state.clone()))),
                )
            }
            None => (server::app(self.state.clone()), None),
        };
        let public = server::serve(
            listeners.public,
            public_app,
            options,
            closing(closed.clone()),
        );
        let operator = async {
            match operator {
                Some((listener, app)) => {
                    server::serve(listener, app, options, closing(closed)).await
                }
                None => Ok(()),
            }
        };
        let (public, operator, ()) = tokio::join!(public, operator, signal);
        public?;
        operator?;
        let _ = engine.await;
        tracing::info!("hookgate stopped");
        Ok(())
    }
}

/// The sockets a gateway serves on, bound by the caller (so it can print the ports first).
#[derive(Debug)]
pub struct Listeners {
    /// `server.listen`: webhooks, `/health`, `/ready`, and everything else unless `operator`.
    pub public: TcpListener,
    /// `admin.listen`, when set: the admin API, the console and `/metrics`.
    pub operator: Option<TcpListener>,
}

/// Opens the configured store; Redis is shared by several nodes, so they also share rate
/// limits and holds through it.
async fn open_store(config: &Config) -> anyhow::Result<(Arc<dyn Store>, Cluster)> {
    Ok(match &config.storage.backend {
        Backend::Sqlite => (
            Arc::new(SqliteStore::open(&config.storage.path).context("opening the event store")?),
            Cluster::Local,
        ),
        Backend::Redis {
            url,
            require_durable,
            key_prefix,
            tls_ca_file,
        } => {
            let tls_ca = match tls_ca_file {
                Some(file) => Some(std::fs::read(file).with_context(|| {
                    format!("storage.tls_ca_file: cannot read {}", file.display())
                })?),
                None => None,
            };
            let store = RedisStore::open(RedisOptions {
                dedupe_window: config.storage.dedupe_window,
                require_durable: *require_durable,
                prefix: key_prefix.clone(),
                tls_ca,
                ..RedisOptions::new(url.clone())
            })
            .await
            .context("opening the event store")?;
            let shared = Cluster::Shared(Arc::new(store.shared_state()));
            (Arc::new(store), shared)
        }
    })
}

/// `hookgate check`: the config against its plugins, without serving and without creating
/// files. Returns every problem found (empty: the config is good) after printing what loaded.
pub async fn check(config: &Config) -> anyhow::Result<Vec<String>> {
    let registry = load_plugins(config, false).await?;
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
    let (mut problems, missing) = source_problems(config, &registry).await;
    problems.extend(missing);
    let (action_problems, missing_actions) = action_problems(config, &registry).await;
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
    Ok(problems)
}

/// Loads the plugins; with `cache`, compiled code is kept in (and reused from) the data
/// directory, which is then made private (0700) and gets the cache's key (see
/// `runtime::cache`). Only the service passes true: `check` passes false because validating a
/// config creates no files, and `send` because an operator's command must not run code from,
/// or write code into, the service's cache.
pub async fn load_plugins(config: &Config, cache: bool) -> anyhow::Result<Arc<Registry>> {
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
async fn source_problems(config: &Config, registry: &Registry) -> (Vec<String>, Vec<String>) {
    let (mut problems, mut missing) = (Vec::new(), Vec::new());
    for (name, source) in &config.sources {
        let Some(plugin) = registry.get(&source.plugin) else {
            missing.push(format!(
                "sources.{name}.plugin: plugin {:?} is not loaded from {}",
                source.plugin,
                config.plugins.dir.display()
            ));
            continue;
        };
        if plugin.info.secrets == SecretRequirement::Required && source.secrets.is_empty() {
            problems.push(format!(
                "sources.{name}.secrets: plugin {:?} requires at least one secret ({})",
                source.plugin, plugin.info.description
            ));
        }
        match plugin
            .check_config(registry.runtime(), source.settings.json())
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(refusal)) if refusal.key.is_empty() => {
                problems.push(format!("sources.{name}.config {}", refusal.message));
            }
            Ok(Err(refusal)) => problems.push(format!(
                "sources.{name}.config.{} {}",
                refusal.key, refusal.message
            )),
            Err(fault) => problems.push(format!(
                "sources.{name}.config: the platform plugin failed: {fault}"
            )),
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
            .check_config(registry.runtime(), &action_config.check_json())
            .await
        {
            Ok(Ok(())) => {}
            // The action may quote what it refused; a credential is not printed with it.
            Ok(Err(message)) => {
                problems.push(format!("{path}.config: {}", action_config.redact(&message)))
            }
            Err(fault) => {
                problems.push(format!("{path}.config: the action plugin failed: {fault}"))
            }
        }
    }
    (problems, missing)
}
