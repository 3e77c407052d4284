//! The load generator: HTTP/1.1 keep-alive connections on loopback, one request in flight per
//! connection, in two modes.
//!
//! - **Closed loop** (`fixed concurrency`): each connection sends its next request as soon as
//!   the previous answer arrives; the total rate is the server's maximum.
//! - **Open loop** (`fixed rate`): request `i` is due at `start + i / rate`, whatever the
//!   server does; connection `k` owns requests `i ≡ k (mod connections)`. A latency is measured
//!   from the request's *due* time, not from when it could finally be sent, so a stalled server
//!   shows up in the percentiles instead of silently slowing the generator down (no coordinated
//!   omission).
//!
//! Every request is built fresh (unique id, current timestamp, HMAC) so the server does the
//! same work it would for real traffic.

use crate::payload::Generator;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How the load is offered.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// This many connections, back to back.
    Closed {
        /// Connections.
        connections: usize,
    },
    /// This many requests per second over `connections` connections.
    Open {
        /// Requests per second.
        rate: u64,
        /// Connections (enough that one slow answer does not hold the schedule up).
        connections: usize,
    },
}

/// What one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// Requests answered 2xx.
    pub ok: u64,
    /// Requests answered otherwise, or failed.
    pub errors: u64,
    /// Measured seconds (after the warm-up).
    pub seconds: f64,
    /// 2xx per second.
    pub throughput: f64,
    /// Latency percentiles in milliseconds: p50, p99, p99.9.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
}

/// Runs `mode` against `addr` for `warmup + duration`; only requests due after the warm-up are
/// counted.
pub async fn run(
    addr: SocketAddr,
    generator: Arc<Generator>,
    mode: Mode,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let start = Instant::now() + Duration::from_millis(50);
    run_at(addr, generator, mode, start, warmup, duration).await
}

/// [`run`] from a `start` the caller chose (at least a few milliseconds ahead, for the
/// connections to open), so that it can observe the server at the very instants the
/// measured window opens and closes (`start + warmup`, `start + warmup + duration`).
pub async fn run_at(
    addr: SocketAddr,
    generator: Arc<Generator>,
    mode: Mode,
    start: Instant,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let connections = match mode {
        Mode::Closed { connections } | Mode::Open { connections, .. } => connections,
    };
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for k in 0..connections {
        let (generator, next) = (generator.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            connection(addr, generator, mode, k, start, measure_from, end, next).await
        }));
    }
    let (mut ok, mut errors, mut latencies) = (0, 0, Vec::new());
    for t in tasks {
        let part = t.await??;
        ok += part.ok;
        errors += part.errors;
        latencies.extend(part.latencies_us);
    }
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i] as f64 / 1000.0
    };
    let seconds = duration.as_secs_f64();
    Ok(Outcome {
        ok,
        errors,
        seconds,
        throughput: ok as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
    })
}

/// What a [`fill`] did.
#[derive(Debug, Clone, Copy)]
pub struct Filled {
    /// Requests answered 2xx: events stored.
    pub ok: u64,
    /// Requests answered otherwise, or failed.
    pub errors: u64,
    /// Wall-clock seconds, first request to last answer.
    pub seconds: f64,
}

/// Sends exactly `count` webhooks (`generator`'s numbers `0..count`) over `connections`
/// connections in a closed loop and waits for every answer. Scenarios that need a known
/// number of stored events (a store to pre-fill, bytes per event) use this rather than a
/// timed run, whose count depends on how fast the machine happens to be.
pub async fn fill(
    addr: SocketAddr,
    generator: Arc<Generator>,
    connections: usize,
    count: u64,
) -> anyhow::Result<Filled> {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (generator, next) = (generator.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            let (mut ok, mut errors) = (0u64, 0u64);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                if exchange(&mut sender, addr, &generator, n).await? {
                    ok += 1;
                } else {
                    errors += 1;
                    sender = connect(addr).await?;
                }
            }
            anyhow::Ok((ok, errors))
        }));
    }
    let (mut ok, mut errors) = (0, 0);
    for t in tasks {
        let (o, e) = t.await??;
        ok += o;
        errors += e;
    }
    Ok(Filled {
        ok,
        errors,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Sends webhook `n` on `sender` (reconnecting first if the server closed it) and reads the
/// whole answer; true when it was a 2xx. After a false the caller replaces the connection,
/// which a failed exchange may have broken, once it has taken its timing.
async fn exchange(
    sender: &mut Sender,
    addr: SocketAddr,
    generator: &Generator,
    n: u64,
) -> anyhow::Result<bool> {
    let hook = generator.webhook(n);
    let mut request = hyper::Request::post(hook.path).header("host", addr.to_string());
    for (name, value) in &hook.headers {
        request = request.header(*name, value);
    }
    let request = request.body(Full::new(hook.body))?;
    if sender.ready().await.is_err() {
        *sender = connect(addr).await?;
    }
    let result = match sender.send_request(request).await {
        Ok(response) => {
            let status = response.status();
            // Read the whole answer: the next request reuses the connection.
            let drained = response.into_body().collect().await.is_ok();
            status.is_success() && drained
        }
        Err(_) => false,
    };
    Ok(result)
}

struct Part {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

/// One HTTP/1.1 connection's request side.
pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Opens a keep-alive HTTP/1.1 connection to `addr` (no Nagle: requests are small and
/// latency is what is measured).
pub async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    addr: SocketAddr,
    generator: Arc<Generator>,
    mode: Mode,
    k: usize,
    start: Instant,
    measure_from: Instant,
    end: Instant,
    next: Arc<AtomicU64>,
) -> anyhow::Result<Part> {
    let mut sender = connect(addr).await?;
    let mut part = Part {
        ok: 0,
        errors: 0,
        latencies_us: Vec::new(),
    };
    let mut slot = k as u64;
    loop {
        let (n, due) = match mode {
            Mode::Closed { .. } => (next.fetch_add(1, Ordering::Relaxed), None),
            Mode::Open { rate, connections } => {
                let due = start + Duration::from_secs_f64(slot as f64 / rate as f64);
                slot += connections as u64;
                (slot, Some(due))
            }
        };
        if let Some(due) = due {
            if due >= end {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        let sent = Instant::now();
        if due.is_none() && sent >= end {
            break;
        }
        let result = exchange(&mut sender, addr, &generator, n).await?;
        let origin = due.unwrap_or(sent);
        if origin >= measure_from {
            if result {
                part.ok += 1;
            } else {
                part.errors += 1;
            }
            let us = origin.elapsed().as_micros().min(u32::MAX as u128) as u32;
            part.latencies_us.push(us);
        }
        if !result {
            // A failed exchange may have broken the connection.
            sender = connect(addr).await?;
        }
    }
    Ok(part)
}
