//! The gateway on the Redis backend, against a real redis-server of the test's own: webhooks
//! are acknowledged only once Redis has them, a Redis outage answers 503 + Retry-After and
//! fails `/ready`, the gateway recovers by itself when Redis returns, and several gateway
//! processes on one Redis share the load: every event delivered, a duplicate stored once, a
//! killed node's jobs finished by another.

use crate::delivery::{TOKEN, admin, send};
use crate::{plugin, start_with};
use hookgate_testkit::redis::{Persistence, RedisServer, unique_prefix};
use hookgate_testkit::{Gateway, GatewayConfig, Receiver, Reply, eventually, now, sign};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_delivery";

fn redis_storage(redis: &RedisServer) -> String {
    storage_with_prefix(redis, &unique_prefix())
}

fn storage_with_prefix(redis: &RedisServer, prefix: &str) -> String {
    format!(
        "backend = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n",
        redis.url()
    )
}

/// `nodes` gateways on one Redis and one key prefix (one cluster), Stripe in, `forward` to
/// `rx`'s `/hook` out. A short egress timeout keeps the lease (how long a dead node's jobs
/// wait) at about 12 s.
async fn cluster(redis: &RedisServer, rx: &Receiver, nodes: usize) -> Vec<Gateway> {
    let prefix = unique_prefix();
    let mut gateways = Vec::new();
    for _ in 0..nodes {
        gateways.push(
            start_with(GatewayConfig {
                plugin_files: vec![plugin("stripe"), plugin("forward-action")],
                storage: storage_with_prefix(redis, &prefix),
                body: format!(
                    "[egress]\nallow_private = [\"127.0.0.1/32\"]\ntimeout_ms = 1000\n\n\
                     [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n\n\
                     [[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
                     config = {{ url = \"{}\" }}\n",
                    rx.url("/hook")
                ),
                env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
                ..Default::default()
            })
            .await,
        );
    }
    gateways
}

/// How many times each idempotency key reached the receiver.
fn deliveries(rx: &Receiver) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in rx.received("/hook") {
        if let Some(key) = r.header("idempotency-key") {
            *counts.entry(key.to_owned()).or_default() += 1;
        }
    }
    counts
}

/// Waits until every id of `acked` reached the receiver at least once.
async fn all_delivered(rx: &Receiver, acked: &[String], within: Duration) {
    eventually(within, "every acknowledged event delivered", || async {
        let counts = deliveries(rx);
        acked.iter().all(|id| counts.contains_key(id)).then_some(())
    })
    .await;
}

/// Attempts a node recorded as delivered, from its `/metrics`.
async fn delivered_by(gw: &Gateway) -> f64 {
    gw.metrics()
        .await
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"hookgate_delivery_attempts_total{route="crm",outcome="delivered"} "#)
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn post(gw: &hookgate_testkit::Gateway, stripe_id: &str) -> reqwest::Response {
    let body = format!(
        r#"{{"id":"{stripe_id}","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_1","object":"payment_intent","amount":1250,"currency":"usd"}}}}}}"#
    );
    let signature = sign::stripe(&[SECRET], now(), body.as_bytes());
    gw.post("stripe", &[("stripe-signature", signature)], body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_answers_503_and_recovers_without_a_restart() {
    let mut redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    let nodes = cluster(&redis, &rx, 1).await;
    let gw = &nodes[0];
    let before = send(gw, "evt_redis_before").await;
    eventually(Duration::from_secs(20), "the first delivery", || async {
        (rx.received("/hook").len() == 1).then_some(())
    })
    .await;

    redis.kill();
    let refused = eventually(
        Duration::from_secs(20),
        "503 while Redis is down",
        || async {
            let r = post(gw, "evt_redis_during").await;
            (r.status() == 503).then_some(r)
        },
    )
    .await;
    assert!(refused.headers().contains_key("retry-after"));
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let failing = ready.text().await.unwrap();
    assert!(failing.contains("store"), "{failing}");

    redis.restart();
    let after = eventually(Duration::from_secs(30), "accepted again", || async {
        let r = post(gw, "evt_redis_after").await;
        if r.status() != 202 {
            return None;
        }
        let answer: serde_json::Value = r.json().await.ok()?;
        answer["events"][0].as_str().map(str::to_owned)
    })
    .await;
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    // What was acknowledged before the outage is still there (Redis's AOF), and the new event
    // is delivered by the same, never restarted, gateway.
    let detail = admin(gw, &format!("/admin/events/{before}")).await;
    assert_eq!(detail["delivery"], "delivered", "{detail}");
    eventually(
        Duration::from_secs(20),
        "the delivery after recovery",
        || async {
            rx.received("/hook")
                .iter()
                .any(|r| r.header("idempotency-key") == Some(after.as_str()))
                .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_could_lose_acks_is_refused_at_start() {
    let redis = RedisServer::private(Persistence::InMemory);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\npath = \"data\"\n{}\n[plugins]\ndir = \"plugins\"\n",
            redis_storage(&redis)
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    let out = crate::run_to_exit(vec!["serve".into(), "--config".into(), config.into()]).await;
    assert!(!out.status.success(), "started on a Redis without AOF");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("appendonly"), "{stderr}");
}

/// A Redis that hides `CONFIG` (as managed services do) before 7.2 (no `WAITAOF`): nothing
/// shows an ack would survive a crash, so `require_durable` (the default) refuses it as it
/// refuses one known to lose acks, naming the setting that accepts the risk (issue 17 item
/// 11). From 7.2 on, WAITAOF makes every insert durable, and there is nothing to refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_hiding_its_settings_without_waitaof_is_refused() {
    let redis = RedisServer::private(Persistence::ConfigHidden);
    let version = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let has_waitaof = version
        .split("v=")
        .nth(1)
        .and_then(|v| {
            let mut parts = v.split('.').map(|p| p.trim().parse::<u32>().unwrap_or(0));
            Some((parts.next()?, parts.next()?))
        })
        .is_some_and(|v| v >= (7, 2));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    let config = dir.path().join("hookgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\npath = \"data\"\n{}\n[plugins]\ndir = \"plugins\"\n",
            redis_storage(&redis)
        ),
    )
    .unwrap();
    if has_waitaof {
        eprintln!(
            "redis-server {version} has WAITAOF: inserts are made durable; nothing to refuse"
        );
        return;
    }
    let out = crate::run_to_exit(vec!["serve".into(), "--config".into(), config.into()]).await;
    assert!(
        !out.status.success(),
        "started on a Redis whose durability it cannot see"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CONFIG"), "{stderr}");
    assert!(
        stderr.contains("require_durable"),
        "the way out is named: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_the_load_and_deliver_every_event_once() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    // Slow enough that one node's 16 delivery slots cannot keep up with the sending alone:
    // with a fast destination, whichever node leases first may take every job, and "both
    // took part" would depend on scheduling (it failed so on a loaded machine).
    rx.set_default(
        "/hook",
        Reply::status(200).delay(Duration::from_millis(100)),
    );
    let nodes = cluster(&redis, &rx, 2).await;
    let mut acked = Vec::new();
    for i in 0..200 {
        acked.push(send(&nodes[i % 2], &format!("evt_share_{i}")).await);
    }
    all_delivered(&rx, &acked, Duration::from_secs(60)).await;
    let counts = deliveries(&rx);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(counts.len(), 200);
    // Both nodes took part, and between them they made exactly one attempt per event.
    // The receiver records a request on arrival; the nodes count it once the (delayed)
    // answer is back.
    let (a, b) = eventually(Duration::from_secs(10), "200 recorded attempts", || async {
        let (a, b) = (delivered_by(&nodes[0]).await, delivered_by(&nodes[1]).await);
        (a + b >= 200.0).then_some((a, b))
    })
    .await;
    assert!(a > 0.0 && b > 0.0, "node A delivered {a}, node B {b}");
    assert_eq!(a + b, 200.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_sent_to_both_nodes_at_once_is_stored_and_delivered_once() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    let nodes = cluster(&redis, &rx, 2).await;
    let mut ids = HashSet::new();
    for round in 0..20 {
        let stripe_id = format!("evt_both_{round}");
        let (a, b) = tokio::join!(post(&nodes[0], &stripe_id), post(&nodes[1], &stripe_id));
        let (a, b): (serde_json::Value, serde_json::Value) =
            (a.json().await.unwrap(), b.json().await.unwrap());
        let mut statuses = [a["status"].to_string(), b["status"].to_string()];
        statuses.sort();
        assert_eq!(
            statuses,
            ["\"accepted\"", "\"duplicate\""],
            "round {round}: {a} / {b}"
        );
        assert_eq!(a["events"], b["events"], "one event id for both copies");
        ids.insert(a["events"][0].as_str().unwrap().to_owned());
    }
    eventually(Duration::from_secs(30), "twenty deliveries", || async {
        (deliveries(&rx).len() == 20).then_some(())
    })
    .await;
    let counts = deliveries(&rx);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(counts.keys().cloned().collect::<HashSet<_>>(), ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_load_has_its_leased_jobs_finished_by_the_other() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    // Slow enough that node A holds leases when it dies.
    rx.set_default(
        "/hook",
        Reply::status(200).delay(Duration::from_millis(200)),
    );
    let mut nodes = cluster(&redis, &rx, 2).await;
    let mut acked = Vec::new();
    for i in 0..120 {
        acked.push(send(&nodes[0], &format!("evt_kill_{i}")).await);
    }
    eventually(Duration::from_secs(20), "node A delivering", || async {
        (delivered_by(&nodes[0]).await >= 5.0).then_some(())
    })
    .await;
    nodes[0].kill9();
    let killed_at = Instant::now();
    all_delivered(&rx, &acked, Duration::from_secs(90)).await;
    // At-least-once: only what A had in flight when it died (at most its 16 slots) may have
    // reached the receiver twice.
    let counts = deliveries(&rx);
    let twice = counts.values().filter(|n| **n > 1).count();
    assert!(twice <= 16, "{twice} events delivered twice");
    println!(
        "node B finished node A's work {:.1?} after the kill ({twice} redelivered)",
        killed_at.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_load_loses_no_acknowledged_event() {
    let mut redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    let nodes = cluster(&redis, &rx, 1).await;
    let gw = &nodes[0];
    let stop = Arc::new(AtomicBool::new(false));
    // What the senders meet, as it happens: how many answers were 503, and per sender since
    // when its current request has been waiting (ms after `base`, plus one; 0 when none is).
    let refused = Arc::new(AtomicUsize::new(0));
    let base = Instant::now();
    let waiting: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let since_base = move || base.elapsed().as_millis() as u64 + 1;
    let senders: Vec<_> = (0..4)
        .map(|w| {
            let (client, url, stop, refused, waiting) = (
                gw.client().clone(),
                gw.url("/webhooks/stripe"),
                stop.clone(),
                refused.clone(),
                waiting.clone(),
            );
            tokio::spawn(async move {
                let (mut acked, mut slowest) = (Vec::new(), Duration::ZERO);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = format!(
                        r#"{{"id":"evt_rr_{w}_{i}","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_1","object":"payment_intent","amount":5,"currency":"usd"}}}}}}"#
                    );
                    let signature = sign::stripe(&[SECRET], now(), body.as_bytes());
                    let sent = Instant::now();
                    waiting[w].store(since_base(), Ordering::Relaxed);
                    let answer = client
                        .post(&url)
                        .header("stripe-signature", signature)
                        .body(body)
                        .send()
                        .await;
                    waiting[w].store(0, Ordering::Relaxed);
                    let Ok(r) = answer else {
                        continue;
                    };
                    slowest = slowest.max(sent.elapsed());
                    match r.status().as_u16() {
                        202 => {
                            let answer: serde_json::Value = r.json().await.unwrap();
                            acked.push(answer["events"][0].as_str().unwrap().to_owned());
                        }
                        503 => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("unexpected status {other}"),
                    }
                }
                (acked, slowest)
            })
        })
        .collect();
    eventually(Duration::from_secs(20), "load flowing", || async {
        (rx.received("/hook").len() >= 50).then_some(())
    })
    .await;
    redis.kill();
    // Redis comes back once the senders have met the outage: a request refused with 503, or
    // one waiting a second for Redis (the two ways the gateway may meet it, asserted below).
    eventually(
        Duration::from_secs(20),
        "the senders to meet the outage",
        || async {
            let now = since_base();
            let stalled = waiting.iter().any(|w| {
                let since = w.load(Ordering::Relaxed);
                since != 0 && now.saturating_sub(since) >= 1000
            });
            (refused.load(Ordering::Relaxed) > 0 || stalled).then_some(())
        },
    )
    .await;
    redis.restart();
    let before = rx.received("/hook").len();
    eventually(Duration::from_secs(30), "load flowing again", || async {
        (rx.received("/hook").len() >= before + 50).then_some(())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let (mut acked, mut slowest) = (Vec::new(), Duration::ZERO);
    for s in senders {
        let (a, slow) = s.await.unwrap();
        acked.extend(a);
        slowest = slowest.max(slow);
    }
    let refused = refused.load(Ordering::Relaxed);
    // Requests during the outage were refused with 503, or waited for Redis to come back.
    assert!(
        refused > 0 || slowest >= Duration::from_millis(1000),
        "the outage went unnoticed: no 503, slowest answer {slowest:?}"
    );
    all_delivered(&rx, &acked, Duration::from_secs(60)).await;
    println!(
        "{} acknowledged, {refused} refused with 503 during the restart (slowest answer {slowest:?}), all delivered",
        acked.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_started_while_redis_is_down_serves_once_it_is_up() {
    let mut redis = RedisServer::private(Persistence::Durable);
    redis.kill();
    let rx = Receiver::start().await;
    let nodes = cluster(&redis, &rx, 1).await;
    let gw = &nodes[0];
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let r = post(gw, "evt_down_at_start").await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    redis.restart();
    eventually(
        Duration::from_secs(30),
        "ready once Redis answers",
        || async {
            let r = gw.client().get(gw.url("/ready")).send().await.ok()?;
            (r.status() == 200).then_some(())
        },
    )
    .await;
    let id = send(gw, "evt_up_after_start").await;
    eventually(Duration::from_secs(20), "delivered", || async {
        deliveries(&rx).contains_key(&id).then_some(())
    })
    .await;
}

/// `rediss://` with an ACL user (issue 17 item 19): against a redis-server speaking TLS on
/// certificates generated for the test, verified with `storage.tls_ca_file`, webhooks are
/// acknowledged and stored; a wrong password is refused at start without the password in the
/// message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_with_an_acl_user() {
    let redis = RedisServer::private_tls("hookgate", "acl-pass-4417");
    let ca = redis.ca_file();
    let storage = |url: &str, ca: Option<&std::path::Path>| {
        let ca = ca.map_or(String::new(), |ca| {
            format!("tls_ca_file = \"{}\"\n", ca.display())
        });
        format!(
            "backend = \"redis\"\nurl = \"{url}\"\nkey_prefix = \"{}\"\n{ca}",
            unique_prefix()
        )
    };
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe")],
        storage: storage(redis.url(), Some(&ca)),
        body: format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n"),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    let response = post(&gw, "evt_tls_1").await;
    assert_eq!(response.status(), 202);
    assert_eq!(gw.count_events().await, 1);
    drop(gw);

    let refused = |storage: String| async move {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hookgate.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\npath = \"data\"\n{storage}\n[plugins]\ndir = \"plugins\"\n"
            ),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            crate::run_to_exit(vec!["serve".into(), "--config".into(), config.into()]),
        )
        .await;
        out.ok().map(|out| {
            assert!(!out.status.success(), "started");
            String::from_utf8_lossy(&out.stderr).into_owned()
        })
    };
    let wrong = redis.url().replace("acl-pass-4417", "not-the-password");
    let stderr = refused(storage(&wrong, Some(&ca)))
        .await
        .expect("a wrong password is refused at start");
    assert!(!stderr.contains("not-the-password"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("password") || stderr.contains("WRONGPASS"),
        "{stderr}"
    );
}
