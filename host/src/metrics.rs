//! Every metric hookgate exports, defined once, served at `GET /metrics` in the Prometheus
//! text format. Labels carry only bounded values taken from the configuration (source,
//! route, plugin names), status codes and outcome words — never event ids. Values that are a
//! property of the store (queue depth, oldest due job, dead-letter size) and of live state
//! (circuit breakers) are read when Prometheus scrapes, not tracked incrementally.

use crate::model::AttemptOutcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// `source`, `status`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IngestLabels {
    /// Configured source name (`unknown` for paths that name none).
    pub source: String,
    /// HTTP status answered.
    pub status: u16,
}

/// `source`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    /// Configured source name.
    pub source: String,
}

/// `plugin`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabel {
    /// Plugin name.
    pub plugin: String,
}

/// `plugin`, `kind` (`trap`, `timeout`, `memory`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginFailureLabels {
    /// Plugin name.
    pub plugin: String,
    /// Failure kind.
    pub kind: String,
}

/// `route`, `outcome`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    /// Route name (or `schedule:<name>`).
    pub route: String,
    /// `delivered`, `retryable`, `rate_limited`, `permanent`, `gone`, `refused`.
    pub outcome: String,
}

/// `reused` (`true` or `false`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReusedLabel {
    /// Whether an idle pooled connection served the request.
    pub reused: bool,
}

/// `route`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// Route name.
    pub route: String,
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~100 s, doubling.
    Histogram::new(exponential_buckets(0.0001, 2.0, 21))
}

fn batch_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 12))
}

/// The metrics.
pub struct Metrics {
    registry: Registry,
    /// Webhook requests answered, by source and status.
    pub ingest_requests: Family<IngestLabels, Counter>,
    /// Time from request to answer, by source.
    pub ingest_latency: Family<SourceLabel, Histogram, fn() -> Histogram>,
    /// Plugin calls (one per request or delivery attempt), by plugin.
    pub plugin_calls: Family<PluginLabel, Counter>,
    /// Wall time of plugin calls, by plugin.
    pub plugin_latency: Family<PluginLabel, Histogram, fn() -> Histogram>,
    /// Plugin faults, by plugin and kind.
    pub plugin_failures: Family<PluginFailureLabels, Counter>,
    /// Time of one store transaction including its fsync.
    pub store_write_latency: Histogram,
    /// Requests group-committed per store transaction.
    pub store_batch_size: Histogram,
    /// Time of one background WAL checkpoint (SQLite), its fsync included.
    pub store_checkpoint_latency: Histogram,
    /// WAL pages not yet copied into the database file after the last checkpoint (SQLite).
    pub store_wal_backlog_pages: Gauge,
    /// Request-body bytes held by requests in flight (charged as they arrive).
    pub ingest_body_bytes: Gauge,
    /// Webhook requests being handled now (body, plugin, store write).
    pub ingest_in_flight: Gauge,
    /// Connections open on the listeners.
    pub http_connections: Gauge,
    /// Pending delivery jobs (due now or later).
    pub queue_depth: Gauge,
    /// Bytes the store takes (SQLite: its files; Redis: the server's used memory).
    pub store_bytes: Gauge,
    /// Events deleted by retention, with their jobs and attempts.
    pub retention_pruned_events: Counter,
    /// Age of the oldest job that is due and not yet delivered, seconds.
    pub queue_oldest_due_seconds: Gauge<f64, AtomicU64>,
    /// Dead letters (deliveries that gave up plus payloads that could not be normalized).
    pub dead_letters: Gauge,
    /// Delivery attempts, by route and outcome.
    pub delivery_attempts: Family<AttemptLabels, Counter>,
    /// Wall time of delivery attempts, by route.
    pub delivery_latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    /// Circuit state per route: 0 closed, 1 half-open, 2 open.
    pub breaker_state: Family<RouteLabel, Gauge>,
    /// Routes disabled by a 410 (1) or not (0).
    pub route_disabled: Family<RouteLabel, Gauge>,
    /// Seconds left of a cluster-wide hold per route (0 when not held).
    pub route_held_seconds: Family<RouteLabel, Gauge<f64, AtomicU64>>,
    /// Outbound connections of deliveries, by whether a pooled one was reused.
    pub egress_connections: Family<ReusedLabel, Counter>,
    /// Plugin files (re)loaded successfully while running.
    pub plugin_reloads: Counter,
    /// Plugin files rejected (at start or on reload).
    pub plugin_reload_failures: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("hookgate");
        let m = Metrics {
            ingest_requests: Family::default(),
            ingest_latency: Family::new_with_constructor(latency_histogram),
            plugin_calls: Family::default(),
            plugin_latency: Family::new_with_constructor(latency_histogram),
            plugin_failures: Family::default(),
            store_write_latency: latency_histogram(),
            store_batch_size: batch_histogram(),
            store_checkpoint_latency: latency_histogram(),
            store_wal_backlog_pages: Gauge::default(),
            ingest_body_bytes: Gauge::default(),
            ingest_in_flight: Gauge::default(),
            http_connections: Gauge::default(),
            queue_depth: Gauge::default(),
            store_bytes: Gauge::default(),
            retention_pruned_events: Counter::default(),
            queue_oldest_due_seconds: Gauge::default(),
            dead_letters: Gauge::default(),
            delivery_attempts: Family::default(),
            delivery_latency: Family::new_with_constructor(latency_histogram),
            breaker_state: Family::default(),
            route_disabled: Family::default(),
            route_held_seconds: Family::default(),
            egress_connections: Family::default(),
            plugin_reloads: Counter::default(),
            plugin_reload_failures: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "ingest_requests",
            "Webhook requests answered, by source and HTTP status",
            m.ingest_requests.clone(),
        );
        registry.register(
            "ingest_latency_seconds",
            "Time from a webhook request to its answer",
            m.ingest_latency.clone(),
        );
        registry.register(
            "plugin_calls",
            "Plugin calls (a request or a delivery attempt each)",
            m.plugin_calls.clone(),
        );
        registry.register(
            "plugin_latency_seconds",
            "Wall time of plugin calls",
            m.plugin_latency.clone(),
        );
        registry.register(
            "plugin_failures",
            "Plugin faults by kind (trap, timeout, memory)",
            m.plugin_failures.clone(),
        );
        registry.register(
            "store_write_latency_seconds",
            "Time of one store transaction, fsync included",
            m.store_write_latency.clone(),
        );
        registry.register(
            "store_batch_size",
            "Writes group-committed per store transaction",
            m.store_batch_size.clone(),
        );
        registry.register(
            "store_checkpoint_latency_seconds",
            "Time of one background WAL checkpoint (SQLite), fsync included",
            m.store_checkpoint_latency.clone(),
        );
        registry.register(
            "store_wal_backlog_pages",
            "WAL pages not yet checkpointed into the database file (SQLite)",
            m.store_wal_backlog_pages.clone(),
        );
        registry.register(
            "ingest_body_bytes",
            "Request-body bytes held by webhook requests in flight",
            m.ingest_body_bytes.clone(),
        );
        registry.register(
            "ingest_in_flight",
            "Webhook requests being handled (reading the body, in the plugin, or being stored)",
            m.ingest_in_flight.clone(),
        );
        registry.register(
            "http_connections",
            "Connections open on the listeners (bounded by server.max_connections)",
            m.http_connections.clone(),
        );
        registry.register(
            "store_bytes",
            "Bytes the store takes: SQLite its database and WAL files, Redis the server's used memory",
            m.store_bytes.clone(),
        );
        registry.register(
            "retention_pruned_events",
            "Events deleted by [storage.retention], with their jobs and attempts",
            m.retention_pruned_events.clone(),
        );
        registry.register(
            "queue_depth",
            "Pending delivery jobs",
            m.queue_depth.clone(),
        );
        registry.register(
            "queue_oldest_due_seconds",
            "Age of the oldest due, undelivered job",
            m.queue_oldest_due_seconds.clone(),
        );
        registry.register(
            "dead_letters",
            "Dead letters: deliveries that gave up and payloads that could not be normalized",
            m.dead_letters.clone(),
        );
        registry.register(
            "delivery_attempts",
            "Delivery attempts by route and outcome",
            m.delivery_attempts.clone(),
        );
        registry.register(
            "delivery_latency_seconds",
            "Wall time of delivery attempts",
            m.delivery_latency.clone(),
        );
        registry.register(
            "breaker_state",
            "Circuit state per route: 0 closed, 1 half-open, 2 open",
            m.breaker_state.clone(),
        );
        registry.register(
            "route_disabled",
            "1 while a route is disabled (its destination answered 410)",
            m.route_disabled.clone(),
        );
        registry.register(
            "route_held_seconds",
            "Seconds left of a cluster-wide hold on the route (some node's circuit opened or it got a 429)",
            m.route_held_seconds.clone(),
        );
        registry.register(
            "egress_connections",
            "Outbound connections of deliveries, by whether an idle pooled one was reused",
            m.egress_connections.clone(),
        );
        registry.register(
            "plugin_reloads",
            "Plugin files loaded while running",
            m.plugin_reloads.clone(),
        );
        registry.register(
            "plugin_reload_failures",
            "Plugin files rejected",
            m.plugin_reload_failures.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// Records one answered webhook request.
    pub fn ingest(&self, source: &str, status: u16, elapsed: Duration) {
        self.ingest_requests
            .get_or_create(&IngestLabels {
                source: source.to_owned(),
                status,
            })
            .inc();
        self.ingest_latency
            .get_or_create(&SourceLabel {
                source: source.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one plugin call (and its fault, if any).
    pub fn plugin_call(&self, plugin: &str, elapsed: Duration, fault: Option<&str>) {
        let label = PluginLabel {
            plugin: plugin.to_owned(),
        };
        self.plugin_calls.get_or_create(&label).inc();
        self.plugin_latency
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
        if let Some(kind) = fault {
            self.plugin_failures
                .get_or_create(&PluginFailureLabels {
                    plugin: plugin.to_owned(),
                    kind: kind.to_owned(),
                })
                .inc();
        }
    }

    /// Records one outbound connection taken for a delivery's request.
    pub fn egress_connection(&self, reused: bool) {
        self.egress_connections
            .get_or_create(&ReusedLabel { reused })
            .inc();
    }

    /// Records one delivery attempt.
    pub fn attempt(&self, route: &str, outcome: AttemptOutcome, elapsed: Duration) {
        self.delivery_attempts
            .get_or_create(&AttemptLabels {
                route: route.to_owned(),
                outcome: outcome.as_str().to_owned(),
            })
            .inc();
        self.delivery_latency
            .get_or_create(&RouteLabel {
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// The process's metrics (one gateway per process; tests that run several in one process
/// share the counters, which only ever grow).
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_lists_every_metric_with_its_labels() {
        let m = Metrics::new();
        m.ingest("stripe", 202, Duration::from_millis(2));
        m.plugin_call("stripe", Duration::from_micros(50), Some("trap"));
        m.attempt("crm", AttemptOutcome::Delivered, Duration::from_millis(3));
        let text = m.render();
        assert!(
            text.contains(r#"hookgate_ingest_requests_total{source="stripe",status="202"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"hookgate_plugin_failures_total{plugin="stripe",kind="trap"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"hookgate_delivery_attempts_total{route="crm",outcome="delivered"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("# TYPE hookgate_ingest_latency_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("hookgate_queue_depth 0"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
