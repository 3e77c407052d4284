//! The ingest half of the pipeline: `POST /webhooks/{source}` ([`handler`]) — limits, the
//! source's platform plugin, [`intake`] (a verified request becomes records, each with the
//! routes of the [`routes`] table it matches), the durable insert, and the 2xx built from its
//! receipt.

pub mod body;
mod error;
pub mod guard;
pub mod handler;
pub mod intake;
pub mod memory;
pub mod routes;

#[cfg(test)]
pub(crate) mod tests;

pub use error::IngestError;
pub use intake::intake;
pub use routes::RouteTable;

use crate::cluster::{Cluster, TokenBucket};
use crate::config::{Config, Secret, SourceConfig};
use crate::runtime::Registry;
use crate::store::EventLog;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// A configured source with what the hot path needs precomputed.
#[derive(Debug)]
pub struct Source {
    /// Its place in the per-source ledgers ([`memory::BodyMemory`]).
    pub slot: usize,
    /// Its configuration.
    pub config: SourceConfig,
    /// Its secrets in the form handed to plugins, newest first (the one secret type: `Debug`
    /// never shows them).
    pub secrets: Vec<Secret>,
    /// Its rate limiter, if limited (unused in a cluster, whose bucket is shared): spent by
    /// verified requests only.
    pub rate_limit: Option<TokenBucket>,
    /// The per-address check before verification, if limited.
    pub guard: Option<guard::PeerGuard>,
}

/// Everything the ingest handler needs, built once from the config.
#[derive(Debug)]
pub struct Ingest {
    /// The configuration.
    pub config: Arc<Config>,
    /// Loaded plugins.
    pub registry: Arc<Registry>,
    /// The event log the webhooks go to.
    pub store: Arc<dyn EventLog>,
    /// Sources by name.
    pub sources: HashMap<String, Source>,
    /// The configured routes, compiled.
    pub routes: RouteTable,
    /// Request-body memory, charged as bytes arrive, per source and per sender address.
    pub body_memory: memory::BodyMemory,
    /// Alone, or one of several nodes sharing rate limits (see [`crate::cluster`]).
    pub cluster: Cluster,
    /// Notified after new jobs were stored (the delivery engine waits on it); none when
    /// ingest runs alone, in tests.
    pub jobs_stored: Option<Arc<Notify>>,
}

impl Ingest {
    /// Builds the ingest side from a validated config.
    pub fn new(config: Arc<Config>, registry: Arc<Registry>, store: Arc<dyn EventLog>) -> Self {
        let sources: HashMap<String, Source> = config
            .sources
            .iter()
            .enumerate()
            .map(|(slot, (name, s))| {
                let source = Source {
                    slot,
                    config: s.clone(),
                    secrets: s.secrets.clone(),
                    rate_limit: s
                        .rate_limit
                        .map(|r| TokenBucket::new(r.per_second, r.burst)),
                    guard: s.rate_limit.map(guard::PeerGuard::new),
                };
                (name.clone(), source)
            })
            .collect();
        // A plugin may suggest a larger limit than the server's default; the ledgers are sized
        // for the configured limits, and a body past a share is shed with a 503 either way.
        let mut limits = vec![config.server.max_body_bytes; sources.len()];
        for source in sources.values() {
            limits[source.slot] = source
                .config
                .max_body_bytes
                .unwrap_or(config.server.max_body_bytes);
        }
        let body_memory = memory::BodyMemory::new(&limits);
        let routes = RouteTable::new(&config.routes);
        Ingest {
            config,
            registry,
            store,
            sources,
            routes,
            body_memory,
            cluster: Cluster::Local,
            jobs_stored: None,
        }
    }

    /// Joins a cluster: source rate limits are taken from its shared buckets.
    pub fn with_cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = cluster;
        self
    }

    /// Notifies `wake` whenever an insert stored new jobs.
    pub fn waking(mut self, wake: Arc<Notify>) -> Self {
        self.jobs_stored = Some(wake);
        self
    }
}
