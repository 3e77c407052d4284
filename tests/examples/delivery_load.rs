//! End-to-end delivery throughput and latency: starts the release gateway (Stripe in,
//! `forward` out) and a loopback receiver, sends N unique signed ~2 KB events at a fixed
//! concurrency, and waits until the receiver has every one. Prints ingest throughput,
//! end-to-end throughput (first send → last delivery) and the latency from sending a webhook
//! to its arrival at the receiver.
//!
//! `cargo run --release -p hookgate-testkit --example delivery_load -- [EVENTS] [CONCURRENCY]
//! [sqlite|redis] [NODES]` (build the gateway first: `cargo build --release`). With `redis`, NODES
//! gateways share one Redis (`REDIS_URL`, or a private durable redis-server) and the senders
//! spread over them.

use hookgate_testkit::redis::{RedisServer, unique_prefix};
use hookgate_testkit::{Gateway, GatewayConfig, Receiver, now, sign};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_load";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let redis = match args.get(3).map(String::as_str) {
        None | Some("sqlite") => None,
        Some("redis") => Some(RedisServer::shared()),
        Some(other) => panic!("backend {other:?}: sqlite or redis"),
    };
    let nodes: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/hookgate");
    let plugins = root.join("target/plugins");

    let receiver = Receiver::start().await;
    let storage = redis.as_ref().map_or_else(String::new, |r| {
        format!(
            "backend = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{}\"\n",
            r.url(),
            unique_prefix()
        )
    });
    let mut gateways = Vec::new();
    for _ in 0..nodes {
        gateways.push(
            Gateway::start(
                &binary,
                GatewayConfig {
                    plugin_files: vec![
                        plugins.join("stripe.wasm"),
                        plugins.join("forward-action.wasm"),
                    ],
                    storage: storage.clone(),
                    body: format!(
                        "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
                         [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n\n\
                         [[routes]]\nname = \"sink\"\nsource = \"stripe\"\naction = \"forward\"\n\
                         config = {{ url = \"{}\" }}\n",
                        receiver.url("/sink")
                    ),
                    ..Default::default()
                },
            )
            .await,
        );
    }

    let padding = "x".repeat(1650);
    let urls: Vec<String> = gateways.iter().map(|g| g.url("/webhooks/stripe")).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, url, next, padding) = (
                client.clone(),
                urls[w % urls.len()].clone(),
                next.clone(),
                padding.clone(),
            );
            tokio::spawn(async move {
                let mut sent = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let body = format!(
                        r#"{{"id":"evt_dl_{i}","object":"event","type":"payment_intent.succeeded","created":1719847200,"data":{{"object":{{"id":"pi_{i}","object":"payment_intent","amount":2000,"currency":"usd","description":"{padding}"}}}}}}"#
                    );
                    let sig = sign::stripe(&[SECRET], now(), body.as_bytes());
                    let at = Instant::now();
                    let response = client
                        .post(&url)
                        .header("stripe-signature", sig)
                        .body(body)
                        .send()
                        .await
                        .expect("send");
                    assert_eq!(response.status(), 202);
                    let reply: serde_json::Value = response.json().await.unwrap();
                    sent.push((reply["events"][0].as_str().unwrap().to_owned(), at));
                }
                sent
            })
        })
        .collect();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    for w in workers {
        sent_at.extend(w.await.unwrap());
    }
    let ingest_elapsed = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if receiver.received("/sink").len() >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let received = receiver.received("/sink");
    let last = received.iter().map(|r| r.at).max().unwrap_or(started);
    let mut latencies: Vec<Duration> = received
        .iter()
        .filter_map(|r| {
            let key = r.header("idempotency-key")?;
            Some(r.at - *sent_at.get(key)?)
        })
        .collect();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let e2e = last - started;
    println!(
        "{} x{nodes}, events {total}, concurrency {concurrency}: ingest {:.0}/s ({:.2?}); delivered {} in {:.2?} end to end = {:.0}/s",
        if redis.is_some() { "redis" } else { "sqlite" },
        total as f64 / ingest_elapsed.as_secs_f64(),
        ingest_elapsed,
        received.len(),
        e2e,
        received.len() as f64 / e2e.as_secs_f64()
    );
    println!(
        "webhook sent → arrived at the receiver: p50 {:.2?}, p90 {:.2?}, p99 {:.2?}, max {:.2?}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
}
