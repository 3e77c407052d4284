//! The admin API: off without a token, Bearer-protected with one, and showing a stored event
//! with its payload, status and delivery jobs (from either backend).

use crate::{json, plugin, start_with};
use hookgate_testkit::{Backend, GatewayConfig, now, sign};

const SOURCES: &str = "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_admin\"]\n\
    [[routes]]\nname = \"crm\"\nsource = \"stripe\"\nevents = [\"payment.*\"]\naction = \"forward\"\n";

async fn gateway(backend: Backend, env: Vec<(String, String)>) -> hookgate_testkit::Gateway {
    start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe")],
        backend,
        body: SOURCES.into(),
        env,
        ..Default::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_is_off_without_a_token() {
    let gw = gateway(Backend::Sqlite, Vec::new()).await;
    let response = gw
        .client()
        .get(gw.url("/admin/events/evt_x"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

on_both_backends!(admin_shows_an_event_with_its_jobs_behind_the_token);

async fn admin_shows_an_event_with_its_jobs_behind_the_token(backend: Backend) {
    let gw = gateway(
        backend,
        vec![("HOOKGATE_ADMIN_TOKEN".into(), "s3cret-admin-token".into())],
    )
    .await;
    let body = r#"{"id":"evt_admin","type":"payment_intent.succeeded","created":1700000000,"data":{"object":{"id":"pi_9","object":"payment_intent","amount":500,"currency":"eur"}}}"#;
    let reply = json(
        gw.post(
            "stripe",
            &[(
                "stripe-signature",
                sign::stripe(&["whsec_admin"], now(), body.as_bytes()),
            )],
            body,
        )
        .await,
    )
    .await;
    let id = reply["events"][0].as_str().unwrap().to_owned();
    let url = gw.url(&format!("/admin/events/{id}"));

    assert_eq!(gw.client().get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        gw.client()
            .get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let response = gw
        .client()
        .get(&url)
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let shown = json(response).await;
    assert_eq!(shown["event"]["id"], id.as_str());
    assert_eq!(shown["event"]["type"], "payment.completed");
    assert_eq!(shown["event"]["amount"], 500);
    assert_eq!(shown["event"]["currency"], "EUR");
    assert_eq!(
        shown["event"]["payload"]["id"], "evt_admin",
        "the original payload, as JSON"
    );
    assert_eq!(shown["status"], "pending");
    assert_eq!(shown["platform_event_id"], "evt_admin");
    assert_eq!(shown["jobs"][0]["route"], "crm");
    assert_eq!(shown["jobs"][0]["status"], "pending");

    let missing = gw
        .client()
        .get(gw.url("/admin/events/evt_nope"))
        .bearer_auth("s3cret-admin-token")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(
        !gw.logs().contains("s3cret-admin-token"),
        "the admin token is never logged"
    );
}

/// The Bearer scheme is case-insensitive, and an address that keeps presenting wrong tokens
/// is held off with 429 + Retry-After (its tokens not even compared) while it waits, so an
/// admin token cannot be guessed at network speed (issue 17 item 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_admin_tokens_are_throttled_and_the_scheme_is_case_insensitive() {
    let gw = gateway(
        Backend::Sqlite,
        vec![("HOOKGATE_ADMIN_TOKEN".into(), "s3cret-admin-token".into())],
    )
    .await;
    let url = gw.url("/admin/routes");
    let with = |value: &str| {
        gw.client()
            .get(&url)
            .header("authorization", value.to_owned())
            .send()
    };
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = with(&format!("{scheme} s3cret-admin-token")).await.unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    for i in 0..10 {
        let response = with(&format!("Bearer guess-{i}")).await.unwrap();
        assert_eq!(response.status(), 401, "guess {i}");
    }
    let held = with("Bearer guess-10").await.unwrap();
    assert_eq!(held.status(), 429);
    let wait: u64 = held.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // While held, even the right token waits: guessing gains nothing by getting lucky.
    assert_eq!(
        with("Bearer s3cret-admin-token").await.unwrap().status(),
        429
    );
}

/// `admin.listen` (issue 17 item 4): the admin API and `/metrics` move to their own listener;
/// the public one, which platforms reach, serves webhooks, `/health` and `/ready` only. The
/// CLI finds the admin API there from the config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listen_keeps_the_admin_api_and_metrics_off_the_webhook_listener() {
    const TOKEN: &str = "s3cret-admin-token";
    // A fixed port, so the CLI can find the listener from the config (port 0 could not say).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe")],
        body: format!("[admin]\nlisten = \"127.0.0.1:{port}\"\n\n{SOURCES}"),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    assert_ne!(gw.admin_addr(), gw.addr());
    let body = r#"{"id":"evt_admin_listen","type":"payment_intent.succeeded","created":1700000000,"data":{"object":{"id":"pi_1","object":"payment_intent","amount":100,"currency":"usd"}}}"#;
    let signature = sign::stripe(&["whsec_admin"], now(), body.as_bytes());
    let response = gw
        .post("stripe", &[("stripe-signature", signature)], body)
        .await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["events"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |url: String| {
        let gw = &gw;
        async move {
            gw.client()
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for path in ["/webhooks/stripe", "/health", "/ready"] {
        assert_ne!(get(gw.url(path)).await, 404, "public {path}");
    }
    for path in ["/metrics", "/admin/events", "/admin/dlq"] {
        assert_eq!(
            get(gw.url(path)).await,
            404,
            "{path} is not on the public listener"
        );
        assert_eq!(
            get(gw.admin_url(path)).await,
            200,
            "{path} on the admin listener"
        );
    }
    assert_eq!(get(gw.admin_url("/health")).await, 200);
    assert_eq!(get(gw.admin_url("/webhooks/stripe")).await, 404);
    // The CLI reads admin.listen from the config.
    let out = std::process::Command::new(crate::binary())
        .args(["events", "show", &id, "--config"])
        .arg(gw.config_path())
        .env("HOOKGATE_ADMIN_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id));
}
