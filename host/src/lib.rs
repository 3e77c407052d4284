//! # hookgate
//!
//! A self-hosted webhook gateway. Platforms POST webhooks; hookgate verifies each one with the
//! platform's WebAssembly plugin, normalizes it into one event schema, and stores it durably
//! *before* acknowledging it.
//!
//! ```text
//! platform ──POST /webhooks/{source}──▶ server::ingest (axum, raw bytes, size + time limits)
//!     │   rate limit (429) · unknown source (404) · body over limit (413)
//!     ▼
//! runtime::platform — fresh wasm instance per request, CPU deadline + memory cap:
//!     handshake? ─▶ answered directly, nothing stored
//!     verify(secrets, now) ─▶ 401, nothing stored
//!     normalize ─▶ events (or the error: stored dead-lettered, never dropped)
//!     ▼
//! store — idempotent insert keyed by (source, platform event id), group-committed
//!     ▼
//! 202 {"status":"accepted","events":[…]}  — built only from a store receipt
//! ```
//!
//! Invariants: no 2xx without a committed write (the 202 can only be built from a
//! [`store::Receipt`], which only a backend creates after its commit, from a
//! [`runtime::Verified`] request, which only the plugin runtime creates after verification);
//! the body is verified exactly as received; a plugin's fault costs only its own request
//! a 503; no secret or signature reaches a log line.
// Only the compiled-code cache needs `unsafe` (deserializing machine code); it says why.
#![deny(unsafe_code)]

pub mod cli;
pub mod cluster;
pub mod config;
pub mod egress;
pub mod event;
pub mod metrics;
pub mod pipeline;
pub mod ratelimit;
pub mod runtime;
pub mod server;
pub mod store;
