//! A hostile plugin (infinite loop, memory bomb, trap, stack overflow) is cut off within its
//! limits, costs its own source a 503, and leaves every other source unaffected.

use crate::{json, plugin, start_with, test_plugin};
use hookgate_testkit::{GatewayConfig, now, sign};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_contained() {
    let gw = std::sync::Arc::new(
        start_with(GatewayConfig {
            plugin_files: vec![plugin("stripe"), test_plugin("hostile")],
            plugins: "call_timeout_ms = 100\nmemory_limit_mib = 32".into(),
            body: "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_sb\"]\n[sources.evil]\nplugin = \"hostile\"\n".into(),
            env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
            ..Default::default()
        })
        .await,
    );
    for mode in ["loop", "memory", "trap", "recurse"] {
        // While the hostile call runs, a genuine Stripe webhook is served normally.
        let hostile = {
            let gw = gw.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let response = gw
                    .post(
                        "evil",
                        &[
                            ("x-hostile-mode", mode.to_owned()),
                            ("x-event-id", format!("e-{mode}")),
                        ],
                        "{}",
                    )
                    .await;
                (
                    response.status().as_u16(),
                    response.headers().contains_key("retry-after"),
                    started.elapsed(),
                )
            })
        };
        let body = format!(
            r#"{{"id":"evt_sb_{mode}","type":"charge.succeeded","created":1700000000,"data":{{"object":{{}}}}}}"#
        );
        let started = Instant::now();
        let ok = gw
            .post(
                "stripe",
                &[(
                    "stripe-signature",
                    sign::stripe(&["whsec_sb"], now(), body.as_bytes()),
                )],
                body,
            )
            .await;
        assert_eq!(ok.status(), 202, "stripe while {mode}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "stripe slowed to {:?} by {mode}",
            started.elapsed()
        );

        let (status, retry_after, elapsed) = hostile.await.unwrap();
        assert_eq!(status, 503, "{mode}");
        assert!(retry_after, "{mode}: 503 carries Retry-After");
        assert!(
            elapsed < Duration::from_secs(2),
            "{mode}: cut off after {elapsed:?}"
        );
    }
    // The plugin itself still works for well-formed calls: no state leaks between instances.
    let response = gw
        .post("evil", &[("x-event-id", "fine".to_owned())], "{}")
        .await;
    assert_eq!(response.status(), 202);
    assert_eq!(json(response).await["status"], "accepted");
    let logs = gw.logs();
    for kind in ["kind=timeout", "kind=memory", "kind=trap"] {
        assert!(
            logs.lines().any(|l| l.contains("plugin failed")
                && l.contains("plugin=hostile")
                && l.contains(kind)),
            "a log line names the plugin and {kind}:\n{logs}"
        );
    }

    // A fault after verification succeeded loses nothing: the payload is dead-lettered, 2xx.
    for mode in ["loop", "trap"] {
        let response = gw
            .post(
                "evil",
                &[
                    ("x-hostile-normalize", mode.to_owned()),
                    ("x-event-id", format!("n-{mode}")),
                ],
                format!("{{\"m\":\"{mode}\"}}"),
            )
            .await;
        assert_eq!(response.status(), 202, "fault while normalizing ({mode})");
        let reply = json(response).await;
        let id = reply["dead_lettered"][0]
            .as_str()
            .expect("dead-lettered")
            .to_owned();
        let stored = gw.event(&id).await.expect("stored");
        assert_eq!(stored["status"], "dead_lettered", "{stored}");
        assert!(
            stored["error"]
                .as_str()
                .unwrap()
                .contains("plugin fault while normalizing"),
            "{stored}"
        );
    }
}
