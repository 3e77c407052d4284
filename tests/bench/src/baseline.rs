//! The two baselines every result is a ratio to, served by this same binary in a child
//! process (so they are pinned and measured exactly like the gateway):
//!
//! - **bare**: an axum handler that reads the body and answers 202. The ceiling of HTTP on
//!   this machine.
//! - **durable**: a plain axum handler that verifies the HMAC natively (Stripe's `t.body`
//!   scheme, or GitHub's/Shopify's body HMAC) and inserts the body into SQLite (WAL,
//!   `synchronous=FULL`) through a single writer thread with group commit, answering after the
//!   commit: what a careful hand-written durable receiver costs.

use crate::payload::SECRET;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Writes waiting beyond this are refused with 503, like the gateway's own writer.
const QUEUE: usize = 8192;
/// Requests per transaction at most.
const MAX_BATCH: usize = 1024;

type Write = (String, Bytes, oneshot::Sender<bool>);

/// Serves the bare handler on `listener` forever.
pub async fn serve_bare(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/webhooks/{source}",
        axum::routing::post(|body: Bytes| async move {
            std::hint::black_box(body.len());
            StatusCode::ACCEPTED
        }),
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// Serves the durable reference on `listener`, storing into `db`, forever.
pub async fn serve_durable(
    listener: tokio::net::TcpListener,
    db: std::path::PathBuf,
) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(&db)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, body BLOB NOT NULL);",
    )?;
    let (tx, rx) = mpsc::sync_channel::<Write>(QUEUE);
    std::thread::spawn(move || writer(conn, rx));
    let app = axum::Router::new().route(
        "/webhooks/{source}",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let Some(id) = verify(&headers, &body) else {
                    return StatusCode::UNAUTHORIZED;
                };
                let (reply, committed) = oneshot::channel();
                if tx.try_send((id, body, reply)).is_err() {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                match committed.await {
                    Ok(true) => StatusCode::ACCEPTED,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    axum::serve(listener, app).await?;
    Ok(())
}

/// One transaction for everything that queued while the previous commit ran.
fn writer(mut conn: rusqlite::Connection, rx: mpsc::Receiver<Write>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut insert =
                    tx.prepare_cached("INSERT OR IGNORE INTO events (id, body) VALUES (?1, ?2)")?;
                for (id, body, _) in &batch {
                    insert.execute(rusqlite::params![id, body.as_ref()])?;
                }
            }
            tx.commit()
        })();
        for (_, _, reply) in batch {
            let _ = reply.send(result.is_ok());
        }
    }
}

fn mac(parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac
}

/// Verifies the request's HMAC (constant time) and returns an id to store it under.
fn verify(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(sig) = header("stripe-signature") {
        let (mut t, mut v1) = (None, None);
        for part in sig.split(',') {
            match part.split_once('=') {
                Some(("t", value)) => t = Some(value),
                Some(("v1", value)) => v1 = hex::decode(value).ok(),
                _ => {}
            }
        }
        let (t, v1) = (t?, v1?);
        mac(&[t.as_bytes(), b".", body]).verify_slice(&v1).ok()?;
        return Some(format!("stripe:{}", hex::encode(&v1[..8])));
    }
    if let Some(sig) = header("x-hub-signature-256") {
        let expected = hex::decode(sig.strip_prefix("sha256=")?).ok()?;
        mac(&[body]).verify_slice(&expected).ok()?;
        return Some(format!("github:{}", header("x-github-delivery")?));
    }
    if let Some(sig) = header("x-shopify-hmac-sha256") {
        let expected = hookgate_sdk::encoding::base64_decode(sig).ok()?;
        mac(&[body]).verify_slice(&expected).ok()?;
        return Some(format!("shopify:{}", header("x-shopify-webhook-id")?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{Generator, Shape};

    #[test]
    fn the_reference_verifies_what_the_generator_signs() {
        let g = Generator::new(Shape::Mix, "t");
        for n in 0..3 {
            let hook = g.webhook(n);
            let mut headers = HeaderMap::new();
            for (name, value) in &hook.headers {
                headers.insert(*name, value.parse().unwrap());
            }
            assert!(verify(&headers, &hook.body).is_some(), "{}", hook.path);
            let mut tampered = hook.body.to_vec();
            tampered[5] ^= 1;
            assert!(verify(&headers, &tampered).is_none());
        }
    }
}
