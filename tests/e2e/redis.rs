//! The gateway on the Redis backend, against a real redis-server of the test's own: webhooks
//! are acknowledged only once Redis has them, a Redis outage answers 503 + Retry-After and
//! fails `/ready`, and the gateway recovers by itself when Redis returns.

use crate::delivery::{TOKEN, admin, send};
use crate::{plugin, start_with};
use hookgate_testkit::redis::{Persistence, RedisServer, unique_prefix};
use hookgate_testkit::{GatewayConfig, Receiver, eventually, now, sign};
use std::time::Duration;

const SECRET: &str = "whsec_delivery";

fn redis_storage(redis: &RedisServer) -> String {
    format!(
        "backend = \"redis\"\nurl = \"{}\"\nkey_prefix = \"{}\"\n",
        redis.url(),
        unique_prefix()
    )
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
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin("forward")],
        storage: redis_storage(&redis),
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
             [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n\n\
             [[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
             config = {{ url = \"{}\" }}\n",
            rx.url("/hook")
        ),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    let before = send(&gw, "evt_redis_before").await;
    eventually(Duration::from_secs(20), "the first delivery", || async {
        (rx.received("/hook").len() == 1).then_some(())
    })
    .await;

    redis.kill();
    let refused = eventually(
        Duration::from_secs(20),
        "503 while Redis is down",
        || async {
            let r = post(&gw, "evt_redis_during").await;
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
        let r = post(&gw, "evt_redis_after").await;
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
    let detail = admin(&gw, &format!("/admin/events/{before}")).await;
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
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(crate::binary())
            .args(["serve", "--config"])
            .arg(&config)
            .output()
            .expect("run hookgate")
    })
    .await
    .unwrap();
    assert!(!out.status.success(), "started on a Redis without AOF");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("appendonly"), "{stderr}");
}
