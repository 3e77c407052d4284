//! The ingest contract beyond signatures: routing, limits, duplicates, slow clients,
//! unnormalizable payloads, missing plugins. What the store decides (one copy of a duplicate,
//! a dead-lettered payload, the jobs of an event) runs on SQLite and on Redis.

use crate::{json, start, start_on, start_with};
use hookgate_testkit::{Backend, GatewayConfig, eventually, now, sign};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STRIPE: &str =
    "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_ingest\"]\nmax_body_bytes = 4096\n";

fn stripe_body(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"event","type":"charge.succeeded","created":1700000000,"data":{{"object":{{"id":"ch_1","object":"charge"}}}}}}"#
    )
}

/// Sends a fresh, genuine Stripe event and expects it acknowledged.
async fn assert_stripe_accepted(gw: &hookgate_testkit::Gateway, id: &str) {
    let body = stripe_body(id);
    let response = gw
        .post("stripe", &stripe_headers(&body), body.clone())
        .await;
    assert_eq!(response.status(), 202, "{id}");
}

fn stripe_headers(body: &str) -> Vec<(&'static str, String)> {
    vec![(
        "stripe-signature",
        sign::stripe(&["whsec_ingest"], now(), body.as_bytes()),
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_source_is_404_and_health_endpoints_answer() {
    let gw = start(&["stripe"], STRIPE).await;
    let response = gw.post("nope", &[], "{}").await;
    assert_eq!(response.status(), 404);
    // GET reaches a plugin only as a handshake; Stripe has none.
    let get = gw
        .client()
        .get(gw.url("/webhooks/stripe"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(
        gw.client()
            .get(gw.url("/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(json(ready).await["ready"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_bodies_get_413_declared_or_chunked() {
    let gw = start(&["stripe"], STRIPE).await;
    let big = format!("{}{}", stripe_body("evt_big"), " ".repeat(5000));
    let response = gw.post("stripe", &stripe_headers(&big), big.clone()).await;
    assert_eq!(response.status(), 413);

    // Chunked, no Content-Length: the limit is enforced while reading.
    let mut stream = tokio::net::TcpStream::connect(gw.addr()).await.unwrap();
    let head = "POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..8 {
        let chunk = "x".repeat(1000);
        let _ = stream
            .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert_eq!(gw.count_events().await, 0);
}

on_both_backends!(
    concurrent_copies_of_one_delivery_are_stored_once,
    verified_but_unnormalizable_payloads_are_dead_lettered_not_dropped,
    acknowledged_events_have_one_job_per_matching_route,
);

async fn concurrent_copies_of_one_delivery_are_stored_once(backend: Backend) {
    let gw = std::sync::Arc::new(start_on(backend, &["stripe"], STRIPE).await);
    let body = stripe_body("evt_dup_1");
    let headers = stripe_headers(&body);
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (gw, body, headers) = (gw.clone(), body.clone(), headers.clone());
            tokio::spawn(async move {
                let response = gw.post("stripe", &headers, body).await;
                (response.status().as_u16(), json(response).await)
            })
        })
        .collect();
    let mut accepted = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, reply) = t.await.unwrap();
        assert!(
            status == 202 || status == 200,
            "every copy gets a 2xx, got {status}"
        );
        accepted += usize::from(reply["status"] == "accepted");
        assert!(reply["status"] == "accepted" || reply["status"] == "duplicate");
        ids.insert(reply["events"][0].as_str().unwrap().to_owned());
    }
    assert_eq!(accepted, 1, "exactly one copy is new");
    assert_eq!(ids.len(), 1, "every copy names the same event");
    assert_eq!(gw.count_events().await, 1);
    // A later redelivery is a duplicate too.
    let again = gw
        .post("stripe", &stripe_headers(&body), body.clone())
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(json(again).await["status"], "duplicate");
}

async fn verified_but_unnormalizable_payloads_are_dead_lettered_not_dropped(backend: Backend) {
    let gw = start_on(backend, &["stripe"], STRIPE).await;
    let body = r#"{"object":"event","note":"no id, no type"}"#;
    let response = gw.post("stripe", &stripe_headers(body), body).await;
    assert_eq!(response.status(), 202);
    let reply = json(response).await;
    let id = reply["dead_lettered"][0]
        .as_str()
        .expect("dead-lettered id")
        .to_owned();
    let stored = gw.event(&id).await.expect("stored");
    assert_eq!(stored["status"], "dead_lettered", "{stored}");
    assert!(
        stored["error"]
            .as_str()
            .unwrap()
            .contains("normalization failed"),
        "{stored}"
    );
    // The admin API shows a JSON payload as JSON (re-serialized), so this compares the
    // document; that the stores keep payload bytes exactly is store::conformance's round_trip.
    assert_eq!(
        stored["event"]["payload"],
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        "the payload is kept"
    );
    // It is in the dead-letter queue, without a route.
    let (status, dlq) = gw.admin_get("/admin/dlq").await;
    assert_eq!(status, 200, "{dlq}");
    assert_eq!(dlq["items"][0]["event_id"], id.as_str(), "{dlq}");
    assert!(dlq["items"][0]["route"].is_null(), "{dlq}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_cut_off() {
    let gw = start_with(GatewayConfig {
        plugin_files: vec![crate::plugin("stripe")],
        server: "header_timeout_ms = 300\nbody_timeout_ms = 300".into(),
        body: STRIPE.into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
        ..Default::default()
    })
    .await;
    // Headers that never finish (slowloris): the connection is closed.
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(gw.addr()).await.unwrap();
    stream
        .write_all(b"POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf))
        .await
        .expect("connection closed by the server");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off after {:?}",
        started.elapsed()
    );

    // A body that stalls half-way: 408, nothing stored.
    let body = stripe_body("evt_slow_body");
    let sig = sign::stripe(&["whsec_ingest"], now(), body.as_bytes());
    let mut stream = tokio::net::TcpStream::connect(gw.addr()).await.unwrap();
    let head = format!(
        "POST /webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nStripe-Signature: {sig}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    let mut reply = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut reply))
        .await
        .expect("answered")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert_eq!(gw.count_events().await, 0);
    // The gateway still serves normal clients.
    assert_stripe_accepted(&gw, "evt_after_slow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_whose_plugin_is_missing_answers_503_and_ready_names_it() {
    let gw = start(
        &["stripe"],
        &format!("{STRIPE}\n[sources.acme]\nplugin = \"acme\"\nsecrets = [\"s\"]\n"),
    )
    .await;
    let response = gw.post("acme", &[], "{}").await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let reply = json(ready).await;
    assert!(
        reply["failing"][0].as_str().unwrap().contains("acme"),
        "{reply}"
    );
    // Other sources are unaffected.
    assert_stripe_accepted(&gw, "evt_other").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_sources_get_429_with_retry_after() {
    let gw = start(
        &["stripe"],
        &format!("{STRIPE}rate_limit = {{ per_second = 1, burst = 2 }}\n"),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let body = stripe_body(&format!("evt_rl_{i}"));
        let response = gw
            .post("stripe", &stripe_headers(&body), body.clone())
            .await;
        if response.status() == 429 {
            assert!(
                response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..2], &[202, 202]);
    assert!(statuses[2..].contains(&429), "{statuses:?}");
    eventually(Duration::from_secs(5), "a token to come back", || async {
        let body = stripe_body("evt_rl_late");
        (gw.post("stripe", &stripe_headers(&body), body.clone())
            .await
            .status()
            == 202)
            .then_some(())
    })
    .await;
}

/// The README's third-party plugin walkthrough, built from `examples/acme-plugin`, serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_sdk_plugin_serves() {
    let gw = start_with(GatewayConfig {
        plugin_files: vec![crate::test_plugin("acme")],
        body: "[sources.acme]\nplugin = \"acme\"\nsecrets = [\"acme-secret\"]\n".into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
        ..Default::default()
    })
    .await;
    let body = r#"{"id":"acme_1","type":"ping"}"#;
    let t = now();
    // X-Acme-Signature uses Stripe's layout, so the Stripe signer produces it.
    let sig = sign::stripe(&["acme-secret"], t, body.as_bytes());
    let response = gw.post("acme", &[("x-acme-signature", sig)], body).await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["events"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(gw.event(&id).await.unwrap()["event"]["type"], "acme.ping");
}

/// A plugin built for the interface before 1.3.0 (separate handshake, verify and normalize
/// calls; `tests/plugins/legacy`, no SDK) keeps serving: it verifies, normalizes, answers its
/// handshake and refuses forgeries; per-source settings, which it cannot read, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_for_1_2_keeps_serving() {
    let source = "[sources.legacy]\nplugin = \"legacy\"\nsecrets = [\"legacy-secret\"]\n";
    let gw = start_with(GatewayConfig {
        plugin_files: vec![crate::test_plugin("legacy")],
        body: source.into(),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
        ..Default::default()
    })
    .await;
    let body = r#"{"id":"old_1","type":"hello"}"#;
    let signature = sign::github("legacy-secret", body.as_bytes())
        .trim_start_matches("sha256=")
        .to_owned();
    let response = gw
        .post("legacy", &[("x-legacy-signature", signature.clone())], body)
        .await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["events"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        gw.event(&id).await.unwrap()["event"]["type"],
        "legacy.hello"
    );
    let tampered = body.replace("hello", "hellO");
    let response = gw
        .post("legacy", &[("x-legacy-signature", signature)], tampered)
        .await;
    assert_eq!(response.status(), 401);
    let challenge = gw
        .client()
        .get(gw.url("/webhooks/legacy?challenge=c-42"))
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), 200);
    assert_eq!(challenge.text().await.unwrap(), "c-42");
    assert_eq!(gw.count_events().await, 1);

    let (code, output) = crate::config::check_with_plugins(
        &format!("{source}config = {{ mode = \"x\" }}\n"),
        &[crate::test_plugin("legacy")],
    );
    assert_ne!(code, 0);
    assert!(
        output.contains("sources.legacy.config is not supported by plugin legacy")
            && output.contains("1.3.0"),
        "{output}"
    );
}

/// An acknowledged event already has its delivery jobs: one per matching route (fan-out),
/// created in the same transaction; a redelivery adds none.
async fn acknowledged_events_have_one_job_per_matching_route(backend: Backend) {
    let routes = r#"
[[routes]]
name = "crm"
source = "stripe"
events = ["charge.*", "payment.*"]
action = "forward"
config = { url = "https://crm.example.com/hooks" }

[[routes]]
name = "audit"
source = "*"
events = ["*"]
action = "forward"
config = { url = "https://audit.example.com/hooks" }

[[routes]]
name = "refunds"
source = "stripe"
events = ["payment.refunded"]
action = "forward"
"#;
    let gw = start_on(backend, &["stripe"], &format!("{STRIPE}{routes}")).await;
    let job_routes = |id: String| {
        let gw = &gw;
        async move {
            let stored = gw.event(&id).await.expect("stored");
            stored["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["route"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let body = stripe_body("evt_routed");
    let reply = json(
        gw.post("stripe", &stripe_headers(&body), body.clone())
            .await,
    )
    .await;
    let id = reply["events"][0].as_str().unwrap().to_owned();
    // charge.succeeded normalizes to stripe.charge.succeeded: only the catch-all matches...
    assert_eq!(job_routes(id).await, ["audit"]);
    let pay = r#"{"id":"evt_paid","type":"payment_intent.succeeded","created":1700000000,"data":{"object":{"id":"pi_1","object":"payment_intent"}}}"#;
    let reply = json(gw.post("stripe", &stripe_headers(pay), pay).await).await;
    let id = reply["events"][0].as_str().unwrap().to_owned();
    // ...while payment.completed fans out to two routes.
    assert_eq!(job_routes(id.clone()).await, ["crm", "audit"]);
    let again = gw.post("stripe", &stripe_headers(pay), pay).await;
    assert_eq!(json(again).await["status"], "duplicate");
    assert_eq!(job_routes(id).await.len(), 2);
}

/// A signature flood: a `Stripe-Signature` with 500 `v1=` entries (each once a full HMAC of
/// the body per secret) is malformed at once, before any MAC is computed; one of 5,000 (a
/// 340 KB head) is answered 431 before the plugin sees it; a genuine header carrying two
/// signatures (a secret being rolled) still verifies (issue 17 item 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_floods_are_refused_before_any_mac_is_computed() {
    const SECRET: &str = "whsec_flood_secret_0123456789";
    let gw = start(
        &["stripe"],
        &format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n"),
    )
    .await;
    let body = format!(
        r#"{{"id":"evt_flood","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_1","object":"payment_intent","amount":100,"currency":"usd","pad":"{}"}}}}}}"#,
        "x".repeat(1000)
    );
    let t = now();
    let forged = |entries: usize| {
        format!(
            "t={t},{}",
            vec!["v1=0000000000000000000000000000000000000000000000000000000000000000"; entries]
                .join(",")
        )
    };
    let flood = gw
        .post("stripe", &[("stripe-signature", forged(500))], body.clone())
        .await;
    assert_eq!(flood.status(), 401);
    let answer = json(flood).await.to_string();
    assert!(answer.contains("more than 16 entries"), "{answer}");
    let huge = gw
        .post(
            "stripe",
            &[("stripe-signature", forged(5000))],
            body.clone(),
        )
        .await;
    assert_eq!(huge.status(), 431, "a head over 64 KiB is not read");

    // Two signatures, the old secret's and the new one's: verified.
    let genuine = sign::stripe(&["whsec_the_old_secret_98765", SECRET], t, body.as_bytes());
    assert_eq!(genuine.matches("v1=").count(), 2, "{genuine}");
    let ok = gw
        .post("stripe", &[("stripe-signature", genuine)], body)
        .await;
    assert_eq!(ok.status(), 202);
}

/// Junk does not spend a platform's rate limit (issue 17 item 3): requests that fail
/// verification meet only the per-address guard (4 × the source's rate and burst), so a
/// burst of forgeries leaves the genuine webhooks that follow their full allowance; the
/// limit itself still holds for verified requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgeries_do_not_spend_the_sources_rate_limit() {
    const SECRET: &str = "whsec_rate_guard_0123456789";
    let gw = start(
        &["stripe"],
        &format!(
            "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\nrate_limit = {{ per_second = 0.01, burst = 2 }}\n"
        ),
    )
    .await;
    let body = |i: usize| {
        format!(
            r#"{{"id":"evt_guard_{i}","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_{i}","object":"payment_intent","amount":100,"currency":"usd"}}}}}}"#
        )
    };
    for i in 0..5 {
        let forged = gw
            .post(
                "stripe",
                &[(
                    "stripe-signature",
                    sign::stripe(&["whsec_not_the_secret"], now(), body(i).as_bytes()),
                )],
                body(i),
            )
            .await;
        assert_eq!(forged.status(), 401, "forgery {i}");
    }
    for i in 10..12 {
        let genuine = gw
            .post(
                "stripe",
                &[(
                    "stripe-signature",
                    sign::stripe(&[SECRET], now(), body(i).as_bytes()),
                )],
                body(i),
            )
            .await;
        assert_eq!(genuine.status(), 202, "genuine {i} after the forgeries");
    }
    let over = gw
        .post(
            "stripe",
            &[(
                "stripe-signature",
                sign::stripe(&[SECRET], now(), body(12).as_bytes()),
            )],
            body(12),
        )
        .await;
    assert_eq!(
        over.status(),
        429,
        "the burst of 2 is spent by verified requests"
    );
    assert!(over.headers().get("retry-after").is_some());
}
