//! `POST /webhooks/{source}`: raw bytes in, plugin verify + normalize, durable write, 202.

use super::body::{BodyRules, IncomingBody};
use super::error::IngestError;
use super::{Ingest, intake};
use crate::model::EventId;
use crate::runtime::{HandshakeResponse, Header, Outcome, Request as PluginRequest, SourceContext};
use crate::store::{Inserted, Receipt};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::SystemTime;

/// Takes a token of the source's `rate_limit`, if it has one: for a verified request only.
async fn spend_rate_limit(
    state: &Ingest,
    source: &super::Source,
    source_name: &str,
) -> Result<(), IngestError> {
    let Some(limit) = source.config.rate_limit else {
        return Ok(());
    };
    match state.cluster.shared() {
        // Several nodes: one bucket for all of them. An unreachable bucket is a store outage
        // (503 + Retry-After), never a 429 the sender could take as final.
        Some(shared) => shared
            .take_token(&crate::model::names::source_bucket(source_name), limit)
            .await
            .inspect_err(|e| {
                tracing::error!(source = %source_name, error = %e, "cannot reach the shared rate limit; answering 503");
            })?
            .granted()
            .map_err(IngestError::RateLimited),
        None => match &source.rate_limit {
            Some(bucket) => bucket.try_acquire().map_err(IngestError::RateLimited),
            None => Ok(()),
        },
    }
}

/// Bodies larger than this are turned into records off the async runtime when a route's
/// `when` condition will read them.
const INLINE_INTAKE_BYTES: usize = 256 * 1024;

/// The ingest handler.
pub async fn ingest(
    State(state): State<Arc<Ingest>>,
    Path(source_name): Path<String>,
    request: Request<Body>,
) -> Response {
    let started = std::time::Instant::now();
    // Only configured names become label values: arbitrary paths must not grow the metrics.
    let label = if state.sources.contains_key(source_name.as_str()) {
        source_name.clone()
    } else {
        "unknown".to_owned()
    };
    let (parts, body) = request.into_parts();
    let expects_continue = parts
        .headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let mut body = IncomingBody::new(body, expects_continue);
    let _in_flight = InFlight::enter();
    let response = handle(state, source_name, parts, &mut body)
        .await
        .into_response();
    // Answered before the body was read (413, 404, 429, 503...): drained, bounded, so the
    // sender reads this answer rather than a reset.
    body.finish(response.status());
    crate::metrics::metrics().ingest(&label, response.status().as_u16(), started.elapsed());
    response
}

/// Counts a request in `hookgate_ingest_in_flight` while it lives, also when hyper drops its
/// handler because the client went away.
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        crate::metrics::metrics().ingest_in_flight.inc();
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        crate::metrics::metrics().ingest_in_flight.dec();
    }
}

async fn handle(
    state: Arc<Ingest>,
    source_name: String,
    parts: axum::http::request::Parts,
    body: &mut IncomingBody,
) -> Result<Response, IngestError> {
    let received_at = SystemTime::now();
    let source = state
        .sources
        .get(source_name.as_str())
        .ok_or(IngestError::UnknownSource)?;
    // The cheap check before the plugin runs, per client address; the source's own limit is
    // spent after verification, so junk cannot use up a platform's share (see `guard`).
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if let (Some(guard), Some(peer)) = (&source.guard, peer) {
        guard.try_acquire(peer).map_err(IngestError::RateLimited)?;
    }
    let plugin = state
        .registry
        .get(&source.config.plugin)
        .ok_or_else(|| IngestError::PluginNotLoaded(source.config.plugin.clone()))?;
    if parts.method == Method::GET && !plugin.info.has_handshake {
        return Err(IngestError::MethodNotAllowed);
    }
    let limit = state
        .config
        .body_limit(&source.config, plugin.info.suggested_max_body_bytes);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(IngestError::TooLarge(limit));
    }
    // Memory is charged as the bytes arrive: an announced body that never comes holds none.
    let mut charge = state.body_memory.charge(source.slot, peer);
    let rules = BodyRules {
        limit,
        timeout: state.config.server.body_timeout,
        min_bytes_per_sec: state.config.server.min_body_bytes_per_sec,
    };
    let body = body.read(rules, &mut charge).await.inspect_err(|e| {
        if matches!(e, IngestError::Busy) {
            tracing::warn!(source = %source_name, "request-body memory share used up (all requests, this source, or this address); answering 503");
        }
    })?;

    // From here to the insert the request only needs CPU (the plugin's checks).
    let incoming = state.store.incoming();
    let url = match &source.config.public_url {
        Some(url) => public_url(url, parts.uri.query()),
        None => reconstruct_url(&parts.headers, &parts.uri),
    };
    let plugin_request = PluginRequest {
        method: parts.method.as_str().to_owned(),
        url,
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| Header {
                name: name.as_str().to_owned(),
                value: value.as_bytes().to_vec(),
            })
            .collect(),
        body,
    };
    let body_len = plugin_request.body.len();
    let context = SourceContext {
        secrets: source.secrets.iter().map(|s| s.expose().to_vec()).collect(),
        tolerance_secs: source.config.tolerance_secs,
        now_unix_secs: crate::model::unix_ms(received_at) / 1000,
        config: source.config.settings.json().to_owned(),
    };

    let runtime = state.registry.runtime();
    let outcome = plugin.process(runtime, plugin_request, &context).await.inspect_err(|fault| {
        tracing::error!(source = %source_name, plugin = %plugin.info.name, kind = %fault.kind(), error = %fault, "plugin failed; answering 503");
    })?;
    match outcome {
        Outcome::Handshake(answer) => {
            tracing::info!(source = %source_name, status = answer.status, "handshake answered");
            Ok(plugin_response(answer))
        }
        Outcome::Refused(reason) => {
            let error = IngestError::from(reason);
            if matches!(error, IngestError::NoSecret) {
                // The operator's to fix, not the sender's: a secret that is missing or does
                // not decode (a whsec_ secret that is not whsec_<base64>). Answered 503, so the
                // sender retries once it is fixed.
                tracing::error!(source = %source_name, plugin = %plugin.info.name, "webhook refused: the source has no usable secret (missing, or not in the form its plugin reads); answering 503 until the config is fixed");
            } else {
                tracing::info!(source = %source_name, reason = %error, "webhook refused");
            }
            Err(error)
        }
        Outcome::Verified(mut verified) => {
            spend_rate_limit(&state, source, &source_name).await?;
            let answer = verified.take_answer();
            let events = if body_len > INLINE_INTAKE_BYTES
                && state.routes.has_conditions_for(&source_name)
            {
                // A `when` condition parses the whole payload (tens of milliseconds for a
                // 25 MB GitHub push): on a blocking thread, not on a worker serving requests.
                let (state, source, plugin) =
                    (state.clone(), source_name.clone(), plugin.info.name.clone());
                tokio::task::spawn_blocking(move || {
                    intake(&source, &plugin, verified, received_at, &state.routes)
                })
                .await
                .map_err(|_| IngestError::Busy)?
            } else {
                intake(
                    &source_name,
                    &plugin.info.name,
                    verified,
                    received_at,
                    &state.routes,
                )
            };
            let dead: Vec<EventId> = events
                .records()
                .iter()
                .filter(|r| r.error.is_some())
                .map(|r| r.id.clone())
                .collect();
            let has_jobs = events.with_routes().any(|(_, routes)| !routes.is_empty());
            let receipt = state.store.insert(incoming, events).await.inspect_err(|e| {
                tracing::error!(source = %source_name, error = %e, "store write failed; answering 503");
            })?;
            if has_jobs
                && !receipt.all_duplicates()
                && let Some(wake) = &state.jobs_stored
            {
                wake.notify_one();
            }
            for (id, inserted) in receipt.events() {
                tracing::info!(source = %source_name, event_id = %id, duplicate = (*inserted == Inserted::Duplicate), "webhook stored");
            }
            for id in &dead {
                tracing::warn!(source = %source_name, event_id = %id, "verified payload could not be normalized; stored dead-lettered");
            }
            Ok(accepted(&receipt, &dead, answer))
        }
    }
}

/// The only way to a 2xx for a webhook: from a store receipt, i.e. after the commit. The
/// answer is hookgate's JSON, or the one the platform requires when its plugin gave one.
fn accepted(
    receipt: &Receipt,
    dead_lettered: &[EventId],
    answer: Option<HandshakeResponse>,
) -> Response {
    if let Some(answer) = answer {
        return plugin_response(answer);
    }
    let ids: Vec<&str> = receipt.events().iter().map(|(id, _)| id.as_str()).collect();
    let (status, label) = if receipt.all_duplicates() {
        (StatusCode::OK, "duplicate")
    } else {
        (StatusCode::ACCEPTED, "accepted")
    };
    let mut body = serde_json::json!({ "status": label, "events": ids });
    if !dead_lettered.is_empty() {
        body["dead_lettered"] = serde_json::json!(dead_lettered);
    }
    (status, Json(body)).into_response()
}

/// A plugin's answer: to a handshake, or to an accepted webhook (then always a 2xx).
fn plugin_response(answer: HandshakeResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    for (name, value) in answer.headers {
        // Plugin-supplied headers are checked like any untrusted input; invalid ones are dropped.
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The configured public URL with the request's query string: platforms that sign the URL
/// sign the one they called, parameters included (Twilio), and handshakes carry their
/// parameters there (Meta's `hub.challenge`). A public URL that names a query keeps it alone.
pub(super) fn public_url(configured: &str, query: Option<&str>) -> String {
    match query {
        Some(query) if !query.is_empty() && !configured.contains('?') => {
            format!("{configured}?{query}")
        }
        _ => configured.to_owned(),
    }
}

/// `http://{Host}{path?query}` — what the platform addressed, as far as the request shows it.
/// Sources whose platform signs the URL should configure `public_url` instead.
fn reconstruct_url(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    format!("http://{host}{path}")
}
