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
        plugin_files: vec![plugin("stripe"), plugin("forward-action")],
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

    // Every log line is JSON; lines about a webhook or a delivery carry its event id. The
    // "delivered" line is written after the attempt is recorded: poll for it.
    let parsed = |logs: &str| -> Vec<serde_json::Value> {
        logs.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    };
    let logged = |lines: &[serde_json::Value], message: &str, id: &str| {
        lines
            .iter()
            .any(|l| l["message"] == message && l["event_id"] == id)
    };
    eventually(
        Duration::from_secs(5),
        "log lines for every event",
        || async {
            let lines = parsed(&gw.logs());
            ids.iter()
                .all(|id| logged(&lines, "webhook stored", id) && logged(&lines, "delivered", id))
                .then_some(())
        },
    )
    .await;
    let logs = gw.logs();
    parsed(&logs);
    for secret in [
        SECRET,
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        TOKEN,
        "whsec_not_the_secret",
    ] {
        assert!(!logs.contains(secret), "a secret reached the log");
    }
}

/// Runs the CLI to completion: (exit code, stdout, stderr).
async fn cli(args: Vec<String>) -> (i32, String, String) {
    let out = crate::run_to_exit(args.into_iter().map(Into::into).collect()).await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(plugin: &str, file: &str) -> String {
    format!(
        "{}/../plugins/{plugin}/fixtures/{file}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_signs_through_the_plugin_and_drives_an_event_end_to_end() {
    let rx = Receiver::start().await;
    let gw = start_with(GatewayConfig {
        plugin_files: vec![
            plugin("stripe"),
            plugin("github"),
            plugin("forward-action"),
            crate::test_plugin("acme"),
        ],
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
             [sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\", \"whsec_older\"]\n\n\
             [sources.github]\nplugin = \"github\"\nsecrets = [\"gh-send-secret\"]\n\n\
             [sources.acme]\nplugin = \"acme\"\nsecrets = [\"acme-send-secret\"]\n\n\
             [[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
             config = {{ url = \"{}\" }}\n",
            rx.url("/hook")
        ),
        ..Default::default()
    })
    .await;
    let send = |source: &str, file: String, extra: &[&str]| {
        let mut args: Vec<String> = [
            "send",
            source,
            "--file",
            &file,
            "--json",
            "--url",
            &gw.url(""),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(["--config".into(), gw.config_path().display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        cli(args)
    };

    // Stripe: signed with the first configured secret, stored, routed, delivered.
    let stripe_fixture = fixture("stripe", "payment_intent.succeeded.json");
    let (code, out, err) = send("stripe", stripe_fixture.clone(), &[]).await;
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let answer: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON answer");
    assert_eq!(answer["status"], "accepted", "{answer}");
    let id = answer["events"][0].as_str().expect("event id").to_owned();
    let delivered = eventually(Duration::from_secs(20), "the delivery", || async {
        rx.received("/hook").into_iter().next()
    })
    .await;
    assert_eq!(delivered.header("idempotency-key"), Some(id.as_str()));
    let event: serde_json::Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(event["type"], "payment.completed");
    // The fixture carries a fixed Stripe event id: sending it again is a duplicate.
    let (code, out, _) = send("stripe", stripe_fixture.clone(), &[]).await;
    assert_eq!(code, 0);
    assert!(out.contains("duplicate"), "{out}");

    // GitHub names the event in a header: without it the plugin says what to pass.
    let gh_fixture = fixture("github", "pull_request.opened.json");
    let (code, _, err) = send("github", gh_fixture.clone(), &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("X-GitHub-Event"), "{err}");
    let (code, out, err) = send(
        "github",
        gh_fixture,
        &["--header", "X-GitHub-Event: pull_request"],
    )
    .await;
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("accepted"), "{out}");

    // A plugin without a signer (the example plugin) cannot sign: a clear error, nothing sent.
    let (code, _, err) = send("acme", stripe_fixture.clone(), &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("cannot sign test requests"), "{err}");
    // An unknown source names the ones there are.
    let (code, _, err) = send("nowhere", stripe_fixture.clone(), &[]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("no source named \"nowhere\"") && err.contains("stripe"),
        "{err}"
    );

    let metrics = gw.client().get(gw.url("/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    assert_eq!(
        metric(
            &text,
            r#"hookgate_ingest_requests_total{source="github",status="202"}"#
        ),
        1.0
    );
    assert!(
        !text.contains(r#"source="acme""#),
        "nothing reached the gateway for acme"
    );
}
