//! # hookgate
//!
//! A self-hosted webhook gateway. Platforms POST webhooks; hookgate verifies each one with the
//! platform's WebAssembly plugin, normalizes it into one event schema, stores it durably
//! *before* acknowledging it, then delivers it along every matching route.
//!
//! The folders follow the webhook, and depend only downwards (a test in [`layers`] pins it):
//!
//! ```text
//! ── ingest half ────────────────────────────────────────────────────────────────────────────
//! platform ──POST /webhooks/{source}──▶ ingest::handler (raw bytes, size + time limits)
//!     │   rate limit (429, cluster:: buckets) · unknown source (404) · body over limit (413)
//!     ▼
//! runtime — the source's platform plugin, fresh wasm instance, CPU deadline + memory cap:
//!     handshake? ─▶ answered directly, nothing stored
//!     verify(secrets, now) ─▶ 401, nothing stored
//!     normalize ─▶ events (or the error: stored dead-lettered, never dropped)
//!     ▼
//! ingest::intake — records (model::event), each with the routes it matches (ingest::routes,
//!     `when` conditions: template::Condition)
//!     ▼
//! store — idempotent insert + one job per route, one transaction, group-committed
//!     (store::batch: one batcher for SQLite, Redis and the attempt recorder)
//!     ▼
//! 202 {"status":"accepted","events":[…]}  — built only from a store receipt
//!
//! ── delivery half ──────────────────────────────────────────────────────────────────────────
//! delivery::engine — lease due jobs (skipping paused routes: delivery::destinations)
//!     ▼ the route's config rendered for this event (config::ActionConfig, template)
//! runtime — the route's action plugin ─▶ egress (host-policed HTTP)
//!     ▼
//! delivered · retry later (delivery::retry, Retry-After) · dead-lettered ─▶ delivery::dlq
//!     (attempts recorded in batches: delivery::recorder; cron ticks: delivery::scheduler)
//! ```
//!
//! Layers, lowest first: [`model`] (the event, ids, names, time) and [`fsmode`] (private
//! files and directories) ← [`template`] (route
//! templates and conditions) ← [`config`], [`metrics`] ←
//! [`store`], [`egress`] ← [`runtime`], [`cluster`] ← [`ingest`] ← [`delivery`] ← [`server`]
//! ← [`app`] (the composition root) ← [`cli`].
//!
//! Invariants: no 2xx without a committed write (the 202 can only be built from a
//! [`store::Receipt`], which only a backend creates after its commit, from records that
//! [`ingest::intake`] built from a [`runtime::Verified`] request, which only the plugin runtime
//! creates after verification); the body is verified exactly as received; a plugin's fault
//! costs only its own request a 503; no secret or signature reaches a log line.
// Only the compiled-code cache needs `unsafe` (deserializing machine code); it says why.
#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod delivery;
pub mod egress;
pub mod fsmode;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod runtime;
pub mod server;
pub mod store;
pub mod template;

#[cfg(test)]
mod layers;
