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
