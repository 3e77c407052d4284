//! The plugin lifecycle: hot reload under load without a failed request, bad files that never
//! replace a good one, a removed plugin's source answering 503 until the file returns, slow
//! copies, and the compiled-code cache making restarts fast.

use crate::delivery::{TOKEN, admin};
use crate::{json, plugin, start_with, test_plugin};
use hookgate_testkit::plugin::rebuilt;
use hookgate_testkit::{Gateway, GatewayConfig, eventually, now, sign};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_lifecycle";

async fn gateway(plugins: &[&str]) -> Gateway {
    start_with(GatewayConfig {
        plugin_files: plugins.iter().map(|p| plugin(p)).collect(),
        body: format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n"),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())],
        ..Default::default()
    })
    .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Installs a plugin file the way deploy tools do: write a temporary file, then rename.
fn install(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

async fn plugin_entry(gw: &Gateway, name: &str) -> Option<serde_json::Value> {
    admin(gw, "/admin/plugins").await["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

async fn post_signed(client: &reqwest::Client, url: &str, i: usize) -> u16 {
    let body = format!(
        r#"{{"id":"evt_life_{i}","type":"charge.succeeded","created":1700000000,"data":{{"object":{{}}}}}}"#
    );
    let sig = sign::stripe(&[SECRET], now(), body.as_bytes());
    match client
        .post(url)
        .header("stripe-signature", sig)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_is_replaced_under_load_without_a_failed_request() {
    let gw = gateway(&["stripe"]).await;
    let original = std::fs::read(plugin("stripe")).unwrap();
    let old_sha = plugin_entry(&gw, "stripe").await.unwrap()["sha256"].clone();
    assert_eq!(old_sha, sha256_hex(&original));

    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let url = gw.url("/webhooks/stripe");
    let senders: Vec<_> = (0..6)
        .map(|w| {
            let (stop, sent, failed, url, client) = (
                stop.clone(),
                sent.clone(),
                failed.clone(),
                url.clone(),
                gw.client().clone(),
            );
            tokio::spawn(async move {
                let mut i = w * 1_000_000;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                    if post_signed(&client, &url, i).await != 202 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    eventually(Duration::from_secs(10), "the load flowing", || async {
        (sent.load(Ordering::Relaxed) >= 50).then_some(())
    })
    .await;

    let new = rebuilt(&original, "v2");
    let new_sha = sha256_hex(&new);
    let placed = Instant::now();
    install(&gw.plugins_dir(), "stripe.wasm", &new);
    eventually(Duration::from_secs(10), "the new build serving", || async {
        (plugin_entry(&gw, "stripe").await?["sha256"] == new_sha.as_str()).then_some(())
    })
    .await;
    let latency = placed.elapsed();
    // Keep the load on until the new build itself has served some of it.
    eventually(
        Duration::from_secs(10),
        "the new build serving the load",
        || async {
            let entry = plugin_entry(&gw, "stripe").await?;
            (entry["sha256"] == new_sha.as_str() && entry["calls"].as_u64()? >= 50).then_some(())
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!("reload latency {latency:?}; {sent} requests during the reload, {failed} failed");
    assert_eq!(
        failed, 0,
        "{failed} of {sent} requests failed during the reload"
    );
    assert!(sent > 50, "the load generator ran ({sent})");
    assert!(latency < Duration::from_secs(2), "reload took {latency:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_never_replace_a_good_plugin() {
    let gw = gateway(&["stripe"]).await;
    let good_sha = plugin_entry(&gw, "stripe").await.unwrap()["sha256"].clone();
    let dir = gw.plugins_dir();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "corrupt",
            b"\0asm\x0d\0\x01\0 this is not a component".to_vec(),
            "not a valid WebAssembly component",
        ),
        (
            "core module",
            b"\0asm\x01\0\0\0".to_vec(),
            "core WebAssembly module",
        ),
        (
            "truncated",
            std::fs::read(test_plugin("hostile")).unwrap()[..64].to_vec(),
            "not a valid",
        ),
        (
            "wrong world",
            std::fs::read(test_plugin("wrong-world")).unwrap(),
            "not a hookgate platform or action plugin",
        ),
    ];
    for (i, (what, bytes, reason)) in cases.into_iter().enumerate() {
        install(&dir, "stripe.wasm", &bytes);
        eventually(
            Duration::from_secs(10),
            &format!("the {what} file rejected"),
            || async {
                let errors = admin(&gw, "/admin/plugins").await["errors"].to_string();
                errors.contains(reason).then_some(())
            },
        )
        .await;
        let entry = plugin_entry(&gw, "stripe").await.expect("still loaded");
        assert_eq!(
            entry["sha256"], good_sha,
            "{what}: the good version keeps serving"
        );
        assert_eq!(
            post_signed(gw.client(), &gw.url("/webhooks/stripe"), 100 + i).await,
            202,
            "{what}"
        );
    }
    assert!(gw.logs().contains("plugin rejected"));
    let plugins = admin(&gw, "/admin/plugins").await;
    let rejected = plugins["rejections"][0]["count"].as_u64().unwrap();
    assert!(rejected >= 4, "every rejection is counted: {plugins}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_plugin_answers_503_until_its_file_returns() {
    let gw = gateway(&["stripe"]).await;
    let dir = gw.plugins_dir();
    let url = gw.url("/webhooks/stripe");
    std::fs::remove_file(dir.join("stripe.wasm")).unwrap();
    eventually(
        Duration::from_secs(10),
        "503 without the plugin",
        || async { (post_signed(gw.client(), &url, 2).await == 503).then_some(()) },
    )
    .await;
    let ready = gw.client().get(gw.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(json(ready).await["failing"].to_string().contains("stripe"));

    install(
        &dir,
        "stripe.wasm",
        &std::fs::read(plugin("stripe")).unwrap(),
    );
    eventually(Duration::from_secs(10), "recovered", || async {
        (post_signed(gw.client(), &url, 3).await == 202).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_for_a_taken_name_takes_over_when_the_old_file_goes() {
    // A v1 -> v2 swap done as "add the new file, then remove the old one": the new file is
    // refused while the old one provides the name, and must be loaded once it is gone.
    let gw = gateway(&["stripe"]).await;
    let dir = gw.plugins_dir();
    let v2 = rebuilt(&std::fs::read(plugin("stripe")).unwrap(), "v2");
    install(&dir, "stripe-v2.wasm", &v2);
    eventually(
        Duration::from_secs(10),
        "the duplicate is refused",
        || async {
            let answer = admin(&gw, "/admin/plugins").await;
            answer["errors"]
                .to_string()
                .contains("already provided")
                .then_some(())
        },
    )
    .await;
    std::fs::remove_file(dir.join("stripe.wasm")).unwrap();
    let entry = eventually(Duration::from_secs(10), "v2 serves stripe", || async {
        plugin_entry(&gw, "stripe")
            .await
            .filter(|p| p["sha256"] == sha256_hex(&v2))
    })
    .await;
    assert!(entry["file"].as_str().unwrap().ends_with("stripe-v2.wasm"));
    let url = gw.url("/webhooks/stripe");
    assert_eq!(post_signed(gw.client(), &url, 7).await, 202);
    let answer = admin(&gw, "/admin/plugins").await;
    assert_eq!(answer["errors"], serde_json::json!([]), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_copy_is_not_loaded_until_complete() {
    let gw = gateway(&["stripe"]).await;
    let acme = std::fs::read(test_plugin("acme")).unwrap();
    let target = gw.plugins_dir().join("acme.wasm");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&target).unwrap();
        let half = acme.len() / 2;
        // The slow copy itself (part of the scenario): a chunk every 5 ms.
        for chunk in acme[..half].chunks(4096) {
            file.write_all(chunk).unwrap();
            file.flush().unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        // Then the copy stalls half-way, until the gateway has looked at the half file (it does
        // once the file has been quiet for a while) and refused it.
        eventually(
            Duration::from_secs(10),
            "the half file looked at and refused",
            || async {
                let answer = admin(&gw, "/admin/plugins").await;
                answer["errors"]
                    .as_array()?
                    .iter()
                    .any(|e| e["file"].as_str().is_some_and(|f| f.ends_with("acme.wasm")))
                    .then_some(())
            },
        )
        .await;
        assert!(
            plugin_entry(&gw, "acme").await.is_none(),
            "half a file is never loaded"
        );
        file.write_all(&acme[half..]).unwrap();
    }
    eventually(
        Duration::from_secs(10),
        "the complete file loaded",
        || async { plugin_entry(&gw, "acme").await },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_cache_restarts_faster_than_a_cold_start() {
    let started = Instant::now();
    let mut gw = gateway(&[
        "stripe",
        "github",
        "shopify",
        "slack",
        "standard-webhooks",
        "forward-action",
    ])
    .await;
    let cold = started.elapsed();
    assert!(!gw.logs().contains("from_cache=true"));
    let restarted = Instant::now();
    gw.restart().await;
    let warm = restarted.elapsed();
    println!("start with 6 plugins: cold {cold:?}, warm cache {warm:?}");
    let plugins = admin(&gw, "/admin/plugins").await;
    for p in plugins["plugins"].as_array().unwrap() {
        assert_eq!(p["from_cache"], true, "{p}");
    }
    assert!(warm < cold, "warm {warm:?} vs cold {cold:?}");
}
