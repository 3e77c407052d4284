//! What the HTTP handlers share: the ingest side, the delivery engine and the admin token.

use crate::config::{Config, Secret};
use crate::delivery::Deliverer;
use crate::ingest::Ingest;
use crate::runtime::Registry;
use crate::store::Store;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Everything request handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Loaded plugins.
    pub registry: Arc<Registry>,
    /// The event store.
    pub store: Arc<dyn Store>,
    /// The ingest side (`/webhooks/{source}`).
    pub ingest: Arc<Ingest>,
    /// The admin API's Bearer token; the admin API is off without one.
    pub admin_token: Option<Secret>,
    /// Wrong admin tokens per client address, to throttle guessing.
    pub failed_admin_tokens: super::admin::throttle::FailedTokens,
    /// The delivery engine (absent in tests of the ingest alone).
    pub deliverer: Option<Arc<Deliverer>>,
    /// The store's figures for `/metrics`, read at most every few seconds.
    pub store_snapshot: super::snapshot::StoreSnapshot,
    /// Set when a graceful shutdown began: `/ready` fails so load balancers stop sending.
    pub shutting_down: AtomicBool,
}

impl AppState {
    /// The state of a gateway whose ingest side is `ingest`, on `store`.
    pub fn new(ingest: Arc<Ingest>, store: Arc<dyn Store>) -> Self {
        // Read once at start: the admin API is on exactly when the variable is set and non-empty.
        let admin_token = std::env::var(&ingest.config.admin.token_env)
            .ok()
            .filter(|t| !t.is_empty())
            .map(Secret::new);
        AppState {
            config: ingest.config.clone(),
            registry: ingest.registry.clone(),
            store,
            ingest,
            admin_token,
            failed_admin_tokens: Default::default(),
            deliverer: None,
            store_snapshot: Default::default(),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Attaches the delivery engine: the admin API reports and replays through it.
    pub fn with_deliverer(mut self, deliverer: Arc<Deliverer>) -> Self {
        self.deliverer = Some(deliverer);
        self
    }
}
