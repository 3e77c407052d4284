//! Nothing acknowledged is lost: `kill -9` right after a burst of 2xx, then restart.

use crate::{json, start};
use hookgate_testkit::{now, sign};
use std::sync::Arc;
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_kill_9() {
    let mut gw = start(
        &["stripe"],
        "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_dur\"]\n",
    )
    .await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let client = gw.client().clone();
    let url = gw.url("/webhooks/stripe");
    // 16 concurrent senders; the process is killed while they are still sending.
    let senders: Vec<_> = (0..16)
        .map(|w| {
            let (client, url, acked) = (client.clone(), url.clone(), acked.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let body = format!(r#"{{"id":"evt_dur_{w}_{i}","type":"charge.succeeded","created":1700000000,"data":{{"object":{{}}}}}}"#);
                    let sig = sign::stripe(&["whsec_dur"], now(), body.as_bytes());
                    let Ok(response) = client.post(&url).header("stripe-signature", sig).body(body).send().await else { break };
                    if response.status() != 202 {
                        break;
                    }
                    let Ok(reply) = response.json::<serde_json::Value>().await else { break };
                    acked.lock().await.push(reply["events"][0].as_str().unwrap().to_owned());
                }
            })
        })
        .collect();
    hookgate_testkit::eventually(
        std::time::Duration::from_secs(30),
        "300 acknowledgements",
        || async { (acked.lock().await.len() >= 300).then_some(()) },
    )
    .await;
    gw.kill9();
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().await.clone();
    // What survived, as the gateway restarted on the same data directory reads it.
    gw.restart().await;
    let stored: std::collections::HashSet<String> = gw
        .events()
        .await
        .iter()
        .map(|e| e["id"].as_str().expect("event id").to_owned())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged events lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );

    // The restarted gateway serves from the same store and recognises a redelivery.
    let body = r#"{"id":"evt_dur_0_0","type":"charge.succeeded","created":1700000000,"data":{"object":{}}}"#;
    let response = gw
        .post(
            "stripe",
            &[(
                "stripe-signature",
                sign::stripe(&["whsec_dur"], now(), body.as_bytes()),
            )],
            body,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["status"], "duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_on_the_same_data_directory_is_refused() {
    // It would release the first one's leases at start and deliver their jobs a second time.
    let gw = start(
        &["stripe"],
        "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_dur\"]\n",
    )
    .await;
    let out = crate::run_to_exit(vec![
        "serve".into(),
        "--config".into(),
        gw.config_path().into(),
    ])
    .await;
    assert!(!out.status.success(), "the second gateway started");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another hookgate process"),
        "{stderr}"
    );
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "the first one is unaffected");
}
