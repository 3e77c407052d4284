//! Two gateway processes on one redis-server (same `storage.key_prefix`) behave as one
//! gateway: a route's rate limit and a source's are one budget for both, a 410 on one node
//! disables the route on the other (and re-enabling it anywhere re-enables it everywhere), a
//! circuit opened on one node holds the other off, and a schedule run by both fires once per
//! tick.
//!
//! The nodes' configs differ only in their routes' URLs (`/a` on node A, `/b` on node B; same
//! route names, so the jobs are shared): the receiver then tells which node delivered what,
//! and can fail one node's deliveries while the other's would succeed.

use crate::delivery::{TOKEN, admin, admin_post, job_with_status, send};
use crate::{plugin, start_with};
use hookgate_testkit::redis::{Persistence, RedisServer, unique_prefix};
use hookgate_testkit::{Gateway, GatewayConfig, Receiver, Reply, eventually, now, sign};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The secret `delivery::send` signs with.
const SECRET: &str = "whsec_delivery";
const WAIT: Duration = Duration::from_secs(20);

/// Node A and node B on `redis` under one fresh prefix; `body(path)` is each node's
/// sources/routes TOML, given its receiver path (`/a` or `/b`).
async fn two_nodes(redis: &RedisServer, body: impl Fn(&str) -> String) -> (Gateway, Gateway) {
    let storage = format!(
        "backend = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{}\"\n",
        redis.url(),
        unique_prefix()
    );
    let node = |path: &str| {
        start_with(GatewayConfig {
            plugin_files: vec![plugin("stripe"), plugin("forward-action")],
            storage: storage.clone(),
            body: format!(
                "[egress]\nallow_private = [\"127.0.0.1/32\"]\ntimeout_ms = 5000\n\n{}",
                body(path)
            ),
            env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
            ..Default::default()
        })
    };
    let a = node("/a").await;
    let b = node("/b").await;
    (a, b)
}

fn stripe_source(extra: &str) -> String {
    format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n{extra}\n")
}

fn crm_route(url: &str, extra: &str) -> String {
    format!(
        "[[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
         config = {{ url = \"{url}\" }}\n{extra}\n"
    )
}

/// The `crm` entry of a node's `GET /admin/routes`.
async fn crm_status(gw: &Gateway) -> serde_json::Value {
    let routes = admin(gw, "/admin/routes").await;
    routes["routes"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["name"] == "crm").cloned())
        .unwrap_or_else(|| panic!("no crm route in {routes}"))
}

/// Sends events to `gw`, one every `every`, until `done` answers true; returns the ids sent.
/// `done` is polled in between (by [`eventually`]), so the wait ends as soon as it holds; the
/// pacing is the scenario's (which node leases a shared job is up to chance, so each event is
/// one more chance), not a wait for anything.
async fn send_until<F, Fut>(gw: &Gateway, tag: &str, every: Duration, done: F) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let sent = std::sync::Mutex::new(Vec::new());
    let last_sent = std::sync::Mutex::new(None::<Instant>);
    eventually(
        WAIT,
        &format!("{tag}: the condition sending waits for"),
        || async {
            if done().await {
                return Some(());
            }
            let due = last_sent
                .lock()
                .unwrap()
                .is_none_or(|at| at.elapsed() >= every);
            if due {
                *last_sent.lock().unwrap() = Some(Instant::now());
                let n = sent.lock().unwrap().len();
                let id = send(gw, &format!("evt_{tag}_{n}")).await;
                sent.lock().unwrap().push(id);
            }
            None
        },
    )
    .await;
    sent.into_inner().unwrap()
}

/// How often [`send_until`] sends while waiting for a delivery by a given node.
const PACE: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_rate_limit_is_one_budget_for_all_nodes() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    let (a, b) = two_nodes(&redis, |path| {
        format!(
            "{}{}",
            stripe_source(""),
            crm_route(&rx.url(path), "rate_limit = { per_second = 4, burst = 1 }")
        )
    })
    .await;
    let n = 12;
    for i in 0..n {
        let node = if i % 2 == 0 { &a } else { &b };
        send(node, &format!("evt_rate_{i}")).await;
    }
    eventually(WAIT, "every event delivered", || async {
        (rx.received("/a").len() + rx.received("/b").len() == n).then_some(())
    })
    .await;
    let (by_a, by_b) = (rx.received("/a").len(), rx.received("/b").len());
    assert!(
        by_a > 0 && by_b > 0,
        "both nodes delivered: {by_a} + {by_b}"
    );
    let mut at: Vec<Instant> = rx
        .received("/a")
        .into_iter()
        .chain(rx.received("/b"))
        .map(|r| r.at)
        .collect();
    at.sort();
    // Over any stretch of deliveries, at most burst + rate × its length (plus 60 ms for the
    // spread between taking a token and the request arriving). Two nodes with a bucket each
    // would deliver two at once at the start, and at 8/s after.
    for i in 0..at.len() {
        for j in i + 1..at.len() {
            let span = (at[j] - at[i]).as_secs_f64();
            let count = (j - i + 1) as f64;
            assert!(
                count <= 1.0 + 4.0 * (span + 0.06),
                "{count} deliveries within {span:.3} s at 4/s, burst 1 (A {by_a}, B {by_b})"
            );
        }
    }
}

async fn post_stripe(gw: &Gateway, id: &str) -> reqwest::Response {
    let body = format!(
        r#"{{"id":"{id}","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_{id}","object":"payment_intent","amount":1250,"currency":"usd"}}}}}}"#
    );
    let signature = sign::stripe(&[SECRET], now(), body.as_bytes());
    gw.post("stripe", &[("stripe-signature", signature)], body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_rate_limit_is_one_budget_for_all_nodes() {
    let redis = RedisServer::private(Persistence::Durable);
    // One token every 10 s after a burst of 2: the test never sees a refill.
    let (a, b) = two_nodes(&redis, |_| {
        stripe_source("rate_limit = { per_second = 0.1, burst = 2 }")
    })
    .await;
    assert_eq!(post_stripe(&a, "evt_in_1").await.status(), 202);
    assert_eq!(post_stripe(&b, "evt_in_2").await.status(), 202);
    // Each node alone would still have a token left.
    for (node, id) in [(&a, "evt_in_3"), (&b, "evt_in_4")] {
        let refused = post_stripe(node, id).await;
        assert_eq!(refused.status(), 429);
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_on_one_node_disables_the_route_on_every_node_until_enabled_on_any() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    rx.set_default("/a", Reply::status(410));
    let (a, b) = two_nodes(&redis, |path| {
        format!("{}{}", stripe_source(""), crm_route(&rx.url(path), ""))
    })
    .await;
    // Until node A has delivered one (and got its 410).
    send_until(&a, "gone", PACE, || async { !rx.received("/a").is_empty() }).await;
    let disabled = eventually(Duration::from_secs(5), "B to see crm disabled", || async {
        let crm = crm_status(&b).await;
        crm["disabled"].as_str().map(str::to_owned)
    })
    .await;
    assert!(disabled.contains("410"), "{disabled}");
    assert!(crm_status(&a).await["disabled"].is_string());
    // A job for the disabled route waits in the store.
    let waiting = send(&b, "evt_gone_waiting").await;

    rx.set_default("/a", Reply::status(200));
    let (status, answer) = admin_post(&b, "/admin/routes/crm/enable", serde_json::json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["was_disabled"], true, "{answer}");
    eventually(Duration::from_secs(5), "A to see crm enabled", || async {
        crm_status(&a).await["disabled"].is_null().then_some(())
    })
    .await;
    job_with_status(&b, &waiting, "crm", "delivered").await;
    // And node A delivers again (its first request was the 410).
    send_until(&a, "back", PACE, || async { rx.received("/a").len() >= 2 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_opened_on_one_node_holds_every_node_off() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    // A's deliveries fail, B's would succeed: only a shared hold keeps B off the route.
    rx.set_default("/a", Reply::status(503));
    let retry = "retry = { schedule = [\"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\", \
                 \"100ms\", \"100ms\", \"100ms\", \"100ms\", \"100ms\"] }\n\
                 breaker = { failures = 2, cooldown = \"4s\" }";
    let (a, b) = two_nodes(&redis, |path| {
        format!("{}{}", stripe_source(""), crm_route(&rx.url(path), retry))
    })
    .await;
    // Until A's circuit opens: it takes two failures on A, and B may lease some of the jobs.
    send_until(&a, "fail", Duration::from_millis(100), || async {
        crm_status(&a).await["circuit"] == "open"
    })
    .await;
    let held_ms = eventually(Duration::from_secs(3), "B to see the hold", || async {
        crm_status(&b).await["held_for_ms"].as_u64()
    })
    .await;
    let seen = Instant::now();
    let hold_end = seen + Duration::from_millis(held_ms);
    assert!(
        held_ms > 1000,
        "B learned of the hold late: {held_ms} ms left"
    );
    assert_eq!(
        crm_status(&b).await["circuit"],
        "closed",
        "B's own breaker saw no failure"
    );
    // Healthy again, but the hold lasts: A's probe comes after its cooldown.
    rx.set_default("/a", Reply::status(200));
    let mut during = Vec::new();
    for i in 0..3 {
        during.push(send(&b, &format!("evt_held_{i}")).await);
    }
    for id in &during {
        job_with_status(&b, id, "crm", "delivered").await;
    }
    // Sent after B knew of the hold: delivered (by either node) only once it ended.
    let early: Vec<Duration> = rx
        .received("/a")
        .into_iter()
        .chain(rx.received("/b"))
        .filter(|r| {
            r.header("idempotency-key")
                .is_some_and(|k| during.iter().any(|id| id == k))
        })
        .filter(|r| r.at + Duration::from_millis(150) < hold_end)
        .map(|r| hold_end - r.at)
        .collect();
    assert!(
        early.is_empty(),
        "delivered {early:?} before the hold ended ({held_ms} ms after B saw it)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_run_by_every_node_fires_once_per_tick() {
    let redis = RedisServer::private(Persistence::Durable);
    let rx = Receiver::start().await;
    let (a, b) = two_nodes(&redis, |path| {
        format!(
            "[[schedules]]\nname = \"heartbeat\"\ncron = \"* * * * * *\"\naction = \"forward\"\n\
             config = {{ url = \"{}\" }}\n",
            rx.url(&format!("/tick{path}"))
        )
    })
    .await;
    let ticks = || {
        let mut all = rx.received("/tick/a");
        all.extend(rx.received("/tick/b"));
        all
    };
    eventually(Duration::from_secs(15), "eight ticks", || async {
        (ticks().len() >= 8).then_some(())
    })
    .await;
    for node in [&a, &b] {
        assert!(node.logs().contains("schedule running"), "{}", node.logs());
    }
    // Per tick instant: the requests and the distinct event ids (Idempotency-Key).
    let mut by_tick: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tick in ticks() {
        let event = tick.json();
        assert_eq!(event["source"], "schedule:heartbeat");
        by_tick
            .entry(event["occurred_at"].as_str().unwrap().to_owned())
            .or_default()
            .push(tick.header("idempotency-key").unwrap().to_owned());
    }
    for (at, keys) in &by_tick {
        assert_eq!(
            keys.len(),
            1,
            "tick {at} was delivered {} times: {keys:?}",
            keys.len()
        );
    }
    let mut ids: Vec<&String> = by_tick.values().flatten().collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), by_tick.len(), "one event per tick");
}
