//! Bounded storage against the real binary (issue 17 item 13): with short `[storage.retention]`
//! settings, delivered events and dead letters leave the store in the background, an event
//! still being retried stays, a redelivery inside the dedupe window stays a duplicate, and
//! `/metrics` shows the store's size and what was pruned. On SQLite and on Redis.

use crate::delivery::{SECRET, TOKEN, post_signed, send};
use crate::{plugin, start_with};
use hookgate_testkit::{Backend, GatewayConfig, Receiver, Reply, eventually};
use std::time::Duration;

on_both_backends!(finished_events_are_pruned_and_pending_ones_kept);

/// The value of an unlabelled metric in a scrape (0 when absent).
fn metric(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn finished_events_are_pruned_and_pending_ones_kept(backend: Backend) {
    let rx = Receiver::start().await;
    rx.set_default("/ok", Reply::status(200));
    rx.set_default("/refuses", Reply::status(422));
    rx.set_default("/down", Reply::status(503));
    let routes = format!(
        "[[routes]]\nname = \"ok\"\nsource = \"stripe\"\nevents = [\"payment.completed\"]\naction = \"forward\"\nconfig = {{ url = \"{}\" }}\n\n\
         [[routes]]\nname = \"refuses\"\nsource = \"stripe\"\nevents = [\"payment.failed\"]\naction = \"forward\"\nconfig = {{ url = \"{}\" }}\n\n\
         [[routes]]\nname = \"down\"\nsource = \"stripe\"\nevents = [\"payment.refunded\"]\naction = \"forward\"\nconfig = {{ url = \"{}\" }}\nretry = {{ schedule = [\"1h\"] }}\n",
        rx.url("/ok"),
        rx.url("/refuses"),
        rx.url("/down"),
    );
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin("forward-action")],
        backend,
        storage: "[storage.retention]\ndelivered = \"2s\"\ndead_lettered = \"3s\"\n".into(),
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n\n{routes}"
        ),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await;
    let typed = |id: &str, kind: &str| {
        format!(
            r#"{{"id":"{id}","type":"{kind}","created":1700000000,"data":{{"object":{{"id":"pi_{id}","object":"payment_intent","amount":1250,"currency":"usd"}}}}}}"#
        )
    };
    let delivered = send(&gw, "evt_ret_ok").await;
    for (id, kind) in [
        ("evt_ret_refused", "payment_intent.payment_failed"),
        ("evt_ret_retrying", "charge.refunded"),
    ] {
        assert_eq!(
            post_signed(&gw, typed(id, kind)).await.status(),
            202,
            "{id}"
        );
    }
    assert_eq!(gw.count_events().await, 3);

    // The delivered one goes after ~2 s, the dead letter after ~3 s; the one still waiting
    // for its retry an hour away stays.
    eventually(Duration::from_secs(20), "two events pruned", || async {
        (gw.count_events().await == 1).then_some(())
    })
    .await;
    assert!(gw.event(&delivered).await.is_none());
    let left = gw.events().await;
    assert_eq!(left.len(), 1, "{left:?}");
    let (status, dlq) = gw.admin_get("/admin/dlq").await;
    assert_eq!(status, 200);
    assert_eq!(dlq["items"], serde_json::json!([]), "{dlq}");

    // The dedupe window (7 days) outlasts the pruned event: Stripe's redelivery is a duplicate.
    let again = post_signed(&gw, typed("evt_ret_ok", "payment_intent.succeeded")).await;
    assert_eq!(again.status(), 200, "a duplicate, not stored again");
    assert_eq!(rx.received("/ok").len(), 1, "delivered once");

    eventually(
        Duration::from_secs(10),
        "the figures in /metrics",
        || async {
            let scrape = gw.metrics().await;
            (metric(&scrape, "hookgate_retention_pruned_events_total") == 2.0
                && metric(&scrape, "hookgate_store_bytes") > 0.0)
                .then_some(())
        },
    )
    .await;
}
