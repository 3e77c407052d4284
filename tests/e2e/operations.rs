//! What operators see: `/metrics` counting exactly what happened, JSON logs that parse and
//! carry event ids, and no secret in any log line.

use crate::delivery::{TOKEN, send};
use crate::{plugin, start_with};
use hookgate_testkit::{GatewayConfig, Receiver, eventually, now, sign};
use std::time::Duration;

const SECRET: &str = "whsec_delivery";

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_happened_and_json_logs_carry_event_ids() {
    let rx = Receiver::start().await;
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin("forward")],
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
             [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n\n\
             [[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
             config = {{ url = \"{}\" }}\nsigning_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
            rx.url("/hook")
        ),
        env: vec![
            ("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into()),
            ("HOOKGATE_LOG_FORMAT".into(), "json".into()),
        ],
        ..Default::default()
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(send(&gw, &format!("evt_metrics_{i}")).await);
    }
    let body = r#"{"id":"evt_forged","type":"charge.succeeded","created":1700000000,"data":{"object":{}}}"#;
    for _ in 0..2 {
        let forged = sign::stripe(&["whsec_not_the_secret"], now(), body.as_bytes());
        let r = gw
            .post("stripe", &[("stripe-signature", forged)], body)
            .await;
        assert_eq!(r.status(), 401);
    }
    let r = gw.post("nowhere", &[], "{}").await;
    assert_eq!(r.status(), 404);
    eventually(Duration::from_secs(20), "five deliveries", || async {
        (rx.received("/hook").len() == 5).then_some(())
    })
    .await;

    let scrape = gw.client().get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(scrape.status(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = scrape.text().await.unwrap();
    let count = |series: &str| metric(&text, series);
    assert_eq!(
        count(r#"hookgate_ingest_requests_total{source="stripe",status="202"}"#),
        5.0
    );
    assert_eq!(
        count(r#"hookgate_ingest_requests_total{source="stripe",status="401"}"#),
        2.0
    );
    assert_eq!(
        count(r#"hookgate_ingest_requests_total{source="unknown",status="404"}"#),
        1.0
    );
    assert_eq!(
        count(r#"hookgate_ingest_latency_seconds_count{source="stripe"}"#),
        7.0
    );
    assert_eq!(
        count(r#"hookgate_plugin_calls_total{plugin="stripe"}"#),
        7.0
    );
    // Attempts are counted just before they are recorded; the receiver may be a hair ahead.
    eventually(Duration::from_secs(5), "five attempts counted", || async {
        let text = gw
            .client()
            .get(gw.url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (metric(
            &text,
            r#"hookgate_delivery_attempts_total{route="crm",outcome="delivered"}"#,
        ) == 5.0)
            .then_some(())
    })
    .await;
    assert_eq!(count(r#"hookgate_breaker_state{route="crm"}"#), 0.0);
    assert_eq!(count("hookgate_dead_letters"), 0.0);
    assert!(count("hookgate_store_batch_size_count") >= 1.0);
    assert!(!text.contains("evt_"), "labels never carry event ids");

    // Every log line is JSON; lines about a webhook or a delivery carry its event id.
    let logs = gw.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for id in &ids {
        let stored = lines
            .iter()
            .any(|l| l["message"] == "webhook stored" && l["event_id"] == id.as_str());
        let delivered = lines
            .iter()
            .any(|l| l["message"] == "delivered" && l["event_id"] == id.as_str());
        assert!(stored && delivered, "log lines for {id}");
    }
    for secret in [
        SECRET,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        TOKEN,
        "whsec_not_the_secret",
    ] {
        assert!(!logs.contains(secret), "a secret reached the log");
    }
}
