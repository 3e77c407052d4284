//! The HTTP side: the router (a plain function of the app state, so tests can drive the real
//! stack without a socket) and the listener loop with slow-client protection.

mod admin;
mod error;
mod health;
mod ingest;
mod metrics;

pub use error::IngestError;

use crate::config::{Config, SourceConfig};
use crate::ratelimit::TokenBucket;
use crate::runtime::Registry;
use crate::store::Store;
use axum::Router;
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A configured source with what the hot path needs precomputed.
pub struct Source {
    /// Its configuration.
    pub config: SourceConfig,
    /// Secret bytes in the form handed to plugins, newest first.
    pub secrets: Vec<Vec<u8>>,
    /// Its rate limiter, if limited (unused in a cluster, whose bucket is shared).
    pub rate_limit: Option<TokenBucket>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `secrets` holds raw secret bytes: never printed.
        f.debug_struct("Source")
            .field("config", &self.config)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

/// Everything request handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Loaded plugins.
    pub registry: Arc<Registry>,
    /// The event store.
    pub store: Arc<dyn Store>,
    /// Sources by name.
    pub sources: HashMap<String, Source>,
    /// The admin API's Bearer token; the admin API is off without one.
    pub admin_token: Option<crate::config::Secret>,
    /// The configured routes, compiled.
    pub router: crate::pipeline::router::Router,
    /// Budget of request-body memory (in KiB permits): every request reserves its body's size
    /// before reading it, so many large concurrent bodies get 503s instead of exhausting memory.
    pub body_budget: tokio::sync::Semaphore,
    /// The delivery engine (absent in tests of the ingest alone).
    pub deliverer: Option<Arc<crate::pipeline::deliver::Deliverer>>,
    /// Set when a graceful shutdown began: `/ready` fails so load balancers stop sending.
    pub shutting_down: std::sync::atomic::AtomicBool,
    /// Alone, or one of several nodes sharing rate limits (see [`crate::cluster`]).
    pub cluster: crate::cluster::Cluster,
}

/// Request-body memory all in-flight requests may hold together, unless one source's body
/// limit is larger (then that limit).
pub const BODY_BUDGET_BYTES: u64 = 512 << 20;

impl AppState {
    /// Builds the state from a validated config.
    pub fn new(config: Arc<Config>, registry: Arc<Registry>, store: Arc<dyn Store>) -> Self {
        let sources = config
            .sources
            .iter()
            .map(|(name, s)| {
                let source = Source {
                    config: s.clone(),
                    secrets: s.secrets.iter().map(|k| k.expose().to_vec()).collect(),
                    rate_limit: s
                        .rate_limit
                        .map(|r| TokenBucket::new(r.per_second, r.burst)),
                };
                (name.clone(), source)
            })
            .collect();
        let largest = config
            .sources
            .values()
            .filter_map(|s| s.max_body_bytes)
            .max()
            .unwrap_or(0);
        let budget_kib = BODY_BUDGET_BYTES
            .max(largest)
            .max(config.server.max_body_bytes)
            / 1024;
        let body_budget =
            tokio::sync::Semaphore::new(usize::try_from(budget_kib).unwrap_or(usize::MAX));
        let router = crate::pipeline::router::Router::new(&config.routes);
        // Read once at start: the admin API is on exactly when the variable is set and non-empty.
        let admin_token = std::env::var(&config.admin.token_env)
            .ok()
            .filter(|t| !t.is_empty())
            .map(crate::config::Secret::new);
        AppState {
            config,
            registry,
            store,
            sources,
            admin_token,
            router,
            body_budget,
            deliverer: None,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
            cluster: crate::cluster::Cluster::Local,
        }
    }

    /// Joins a cluster: source rate limits are taken from its shared buckets.
    pub fn with_cluster(mut self, cluster: crate::cluster::Cluster) -> Self {
        self.cluster = cluster;
        self
    }

    /// Attaches the delivery engine: ingests wake it, the admin API reports and replays
    /// through it.
    pub fn with_deliverer(mut self, deliverer: Arc<crate::pipeline::deliver::Deliverer>) -> Self {
        self.deliverer = Some(deliverer);
        self
    }
}

/// The router: webhooks, health and readiness.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        // GET reaches the plugin only as a handshake (Meta's hub.challenge and the like).
        .route(
            "/webhooks/{source}",
            post(ingest::ingest).get(ingest::ingest),
        )
        .nest("/admin", admin_routes(state.clone()))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .with_state(state)
}

/// The admin API's description, served at `/admin/openapi.json`. A test checks that it lists
/// exactly [`ADMIN_ENDPOINTS`] and that the router serves each of them.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every admin endpoint (method, path under `/admin`), as routed below.
pub const ADMIN_ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/events"),
    ("GET", "/events/{id}"),
    ("GET", "/dlq"),
    ("POST", "/dlq/replay"),
    ("POST", "/dlq/{id}/replay"),
    ("GET", "/routes"),
    ("POST", "/routes/{name}/enable"),
    ("GET", "/plugins"),
    ("GET", "/openapi.json"),
];

/// The admin API: every route behind the Bearer-token check.
fn admin_routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        .route("/events", get(admin::events))
        .route("/events/{id}", get(admin::event))
        .route("/dlq", get(admin::dlq_list))
        .route("/dlq/replay", post(admin::dlq_replay_bulk))
        .route("/dlq/{id}/replay", post(admin::dlq_replay))
        .route("/routes", get(admin::routes))
        .route("/plugins", get(admin::plugins))
        .route("/routes/{name}/enable", post(admin::enable_route))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            admin::require_token,
        ))
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish
/// (bounded by `drain`). Clients get `header_timeout` to send a request head; a silent or
/// slow client is disconnected (slowloris).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are client-side (reset, timeout, malformed request): nothing to do.
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain deadline; closing them");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
