//! The HTTP side: the router (a plain function of the app state, so tests can drive the real
//! stack without a socket) and the listener loop with slow-client protection.

mod admin;
pub mod api;
pub mod connections;
mod health;
mod metrics;
mod snapshot;
mod state;

pub use state::AppState;

use crate::ingest::handler as ingest;
use axum::Router;
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The router of a gateway with one listener: webhooks, health and readiness, the admin API
/// and `/metrics`.
pub fn app(state: Arc<AppState>) -> Router {
    public(state.clone()).merge(operator(state))
}

/// What platforms and load balancers reach: webhooks, `/health`, `/ready`.
pub fn public(state: Arc<AppState>) -> Router {
    let webhooks = Router::new()
        // GET reaches the plugin only as a handshake (Meta's hub.challenge and the like).
        .route(
            "/webhooks/{source}",
            post(ingest::ingest).get(ingest::ingest),
        )
        .with_state(state.ingest.clone());
    Router::new()
        .merge(webhooks)
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .with_state(state)
}

/// What operators reach, on `admin.listen` when it is set: the admin API and `/metrics`
/// (and `/health`, so the listener can be probed on its own).
pub fn operator(state: Arc<AppState>) -> Router {
    Router::new()
        .nest("/admin", admin_routes(state.clone()))
        .route("/metrics", get(metrics::scrape))
        .with_state(state)
}

/// [`operator`] on a listener of its own: with `/health` too.
pub fn operator_alone(state: Arc<AppState>) -> Router {
    operator(state).route("/health", get(health::health))
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
        .route("/events", get(admin::events::list))
        .route("/events/{id}", get(admin::events::show))
        .route("/dlq", get(admin::dlq::list))
        .route("/dlq/replay", post(admin::dlq::replay_bulk))
        .route("/dlq/{id}/replay", post(admin::dlq::replay))
        .route("/routes", get(admin::routes::list))
        .route("/plugins", get(admin::plugins::list))
        .route("/routes/{name}/enable", post(admin::routes::enable))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            admin::require_token,
        ))
}

/// The largest request head (request line and headers) a connection reads, in bytes.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How a listener treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Time a client has to send a request head.
    pub header_timeout: Duration,
    /// After shutdown, how long open connections may take to finish.
    pub drain: Duration,
    /// Connections held at once (see [`connections`]).
    pub max_connections: u32,
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish
/// (bounded by `drain`). Clients get `header_timeout` to send a request head; a silent or
/// slow client is disconnected (slowloris); connections are bounded in number, in all and per
/// client address.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let limits = connections::ConnectionLimits::new(options.max_connections);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        // A request head larger than this is answered 431 before it is parsed further: no
        // platform's head comes near it (nginx's default is 32 KiB), while a 400 KB header of
        // fake signatures costs a plugin call's worth of copying for nothing.
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer, permit) = tokio::select! {
            accepted = async {
                let permit = limits.free_slot().await;
                (listener.accept().await, permit)
            } => match accepted {
                (Ok((stream, peer)), permit) => (stream, peer, permit),
                (Err(e), _) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over its address's share: closed at once (the others' slots stay free).
        let Some(slot) = limits.admit(peer.ip(), permit) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        // The client's address, for handlers that judge per client (the admin throttle).
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are client-side (reset, timeout, malformed request): nothing to do.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(options.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain deadline; closing them");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
