//! A quick closed-loop load run against a running gateway's Stripe source: N unique, correctly
//! signed ~2 KB Stripe-like events at fixed concurrency; prints throughput and acknowledgement
//! latency percentiles. (The full benchmark suite with baselines is its own tool.)
//!
//! `cargo run --release -p hookgate-testkit --example ingest_load -- URL SECRET [REQUESTS] [CONCURRENCY]`

use hookgate_testkit::{now, sign};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080/webhooks/stripe".into());
    let secret = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "whsec_quickstart_example_secret".into());
    let total: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(32);
    let run = std::process::id();
    let padding = "x".repeat(1650);
    let requests: Arc<Vec<(String, String)>> = Arc::new(
        (0..total)
            .map(|i| {
                let body = format!(
                    r#"{{"id":"evt_load_{run}_{i}","object":"event","type":"payment_intent.succeeded","created":1719847200,"livemode":false,"data":{{"object":{{"id":"pi_{i}","object":"payment_intent","amount":2000,"currency":"usd","customer":"cus_1","description":"{padding}"}}}}}}"#
                );
                let sig = sign::stripe(&[&secret], now(), body.as_bytes());
                (body, sig)
            })
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, requests, next) =
                (client.clone(), url.clone(), requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((body, sig)) = requests.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let ok = match client
                        .post(&url)
                        .header("stripe-signature", sig)
                        .body(body.clone())
                        .send()
                        .await
                    {
                        Ok(r) => r.status() == 202 && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    latencies.push(t.elapsed().as_micros() as u64);
                    failures += usize::from(!ok);
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    for w in workers {
        let (l, f) = w.await.unwrap();
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64 / 1000.0
    };
    println!(
        "{total} requests, concurrency {concurrency}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, failures {failures}",
        total as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(0.999)
    );
}
