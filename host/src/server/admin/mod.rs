//! The admin API, behind a Bearer token read from the environment at start (`admin.token_env`).
//! Without a token the admin API does not exist (404): an unprotected admin API is never served.
//!
//! One file per resource ([`events`], [`dlq`], [`routes`], [`plugins`]). Handlers stay thin:
//! they read through the store's `Inspection` role or the delivery engine's [`Dlq`], build an
//! answer type of [`crate::server::api`] and return [`AdminError`] with `?`; the mapping to a
//! status lives in [`error`] alone.
//!
//! [`Dlq`]: crate::delivery::Dlq

pub mod dlq;
mod error;
pub mod events;
pub mod plugins;
pub mod routes;
pub mod throttle;

pub use error::AdminError;

use super::state::AppState;
use crate::delivery::Deliverer;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Refuses admin requests without the right Bearer token (compared in constant time), and
/// holds off an address that keeps presenting wrong ones ([`throttle`]).
pub async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.admin_token else {
        return AdminError::Disabled.into_response();
    };
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let now = std::time::Instant::now();
    if let Some(peer) = peer
        && let Err(wait) = state.failed_admin_tokens.check(peer, now)
    {
        return AdminError::TooManyFailures(wait).into_response();
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .unwrap_or("");
    if !hookgate_sdk::crypto::constant_time_eq(presented.as_bytes(), expected.expose()) {
        if let Some(peer) = peer {
            state.failed_admin_tokens.failed(peer, now);
        }
        return AdminError::Unauthorized.into_response();
    }
    if let Some(peer) = peer {
        state.failed_admin_tokens.succeeded(peer);
    }
    next.run(request).await
}

/// The token of an `Authorization: Bearer <token>` value; the scheme is case-insensitive
/// (RFC 9110 section 11.1), and spaces around the token are not part of it.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The delivery engine, which routes and replays need.
fn engine(state: &AppState) -> Result<&Deliverer, AdminError> {
    state.deliverer.as_deref().ok_or(AdminError::EngineOff)
}

/// Largest page of a listing (and of one bulk-replay step).
const MAX_PAGE: usize = 500;

/// A listing's page size: 50 unless asked, within 1..=[`MAX_PAGE`].
fn page_size(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, MAX_PAGE)
}

/// A time filter: RFC 3339, or Unix milliseconds; empty or absent is no filter.
fn instant_ms(field: &str, text: Option<&str>) -> Result<Option<i64>, AdminError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Some(ms));
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
        .map_err(|_| {
            AdminError::BadRequest(format!(
                "{field}: {text:?} is neither RFC 3339 nor Unix milliseconds"
            ))
        })
}

/// A text filter: empty is no filter (a form's blank field).
fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests;
