//! The platform catalog end to end: every platform plugin the build produced, on one gateway
//! that forwards what it stores. For each plugin, its first fixture is signed by the plugin
//! itself (the real component, loaded in-process, as `hookgate send` signs), sent eight times at
//! once (stored once), sent again (a duplicate), sent tampered (refused, nothing stored), and
//! delivered through `forward` as a well-formed normalized event; then `hookgate send` signs and
//! sends it through the CLI to a second source of the same plugin.
//!
//! A plugin whose source needs more than a shared secret says so in `plugins/NAME/e2e.toml`:
//! `secret` (the source's secret, e.g. a public key), `signing_key` (what `hookgate send --key`
//! signs with, e.g. the matching private key), `config` (the source's settings table) and
//! `body_signed = false` for a platform whose proof does not cover the body (a static token),
//! where a tampered body cannot be told from a genuine one.

use hookgate::runtime::{Header, Limits, Loaded, Request, Runtime, SignContext, load_file};
use hookgate_testkit::{Gateway, GatewayConfig, Receiver, eventually, now};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The shared secret of every source whose plugin takes the default.
const SECRET: &str = "hookgate-catalog-secret-0123456789";

/// One platform plugin and how its sources are configured.
struct Entry {
    name: String,
    fixture: hookgate_sdk::testing::Fixture,
    secret: String,
    signing_key: Option<String>,
    /// The `config` table as TOML (inline), and as the JSON its plugin receives.
    config: Option<(String, String)>,
    /// Whether the proof covers the body.
    body_signed: bool,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every platform plugin in the build's plugin directory, with its first fixture.
fn catalog() -> Vec<Entry> {
    let mut names: Vec<String> = std::fs::read_dir(env!("HOOKGATE_BUILT_PLUGINS_DIR"))
        .expect("the built plugins")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            Some(name.strip_suffix(".wasm")?.to_owned())
        })
        // Action plugins have no fixtures of received webhooks.
        .filter(|name| {
            workspace()
                .join("plugins")
                .join(name)
                .join("fixtures")
                .is_dir()
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = workspace().join("plugins").join(&name);
            let fixture = hookgate_sdk::testing::fixtures(&dir)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{name}: no fixture"));
            let extra: toml::Table = std::fs::read_to_string(dir.join("e2e.toml"))
                .map(|text| text.parse().expect("e2e.toml is TOML"))
                .unwrap_or_default();
            let text = |key: &str| extra.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            let config = extra.get("config").and_then(|v| v.as_table()).map(|t| {
                let inline = toml::Value::Table(t.clone()).to_string();
                let json = serde_json::to_string(t).expect("JSON of a TOML table");
                (inline, json)
            });
            Entry {
                body_signed: extra
                    .get("body_signed")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true),
                secret: text("secret").unwrap_or_else(|| SECRET.into()),
                signing_key: text("signing_key"),
                config,
                name,
                fixture,
            }
        })
        .collect()
}

fn sources(entries: &[Entry], receiver: &Receiver) -> String {
    let mut body = "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n".to_owned();
    for e in entries {
        for source in [e.name.clone(), format!("{}-send", e.name)] {
            body.push_str(&format!(
                "[sources.{source}]\nplugin = \"{}\"\nsecrets = [{:?}]\n",
                e.name, e.secret
            ));
            if let Some((inline, _)) = &e.config {
                body.push_str(&format!("config = {inline}\n"));
            }
            body.push('\n');
        }
        body.push_str(&format!(
            "[[routes]]\nname = \"{0}-out\"\nsource = \"{0}\"\naction = \"forward\"\n\
             config = {{ url = \"{1}\" }}\n\n",
            e.name,
            receiver.url(&format!("/{}", e.name))
        ));
    }
    body
}

/// The fixture signed by the plugin for `url`: its headers, its body, and the names of the
/// headers the signature added.
async fn signed(
    runtime: &Arc<Runtime>,
    entry: &Entry,
    url: &str,
) -> (Vec<(String, Vec<u8>)>, Vec<u8>, Vec<String>) {
    let file = Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR")).join(format!("{}.wasm", entry.name));
    let Ok(Loaded::Platform(plugin)) = load_file(runtime, &file).await else {
        panic!("{}: not a platform plugin", entry.name);
    };
    let headers: Vec<(String, Vec<u8>)> = entry.fixture.request.headers.clone();
    let request = Request {
        method: "POST".into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(name, value)| Header {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        body: entry.fixture.request.body.clone(),
    };
    let key = entry.signing_key.as_ref().unwrap_or(&entry.secret);
    let context = SignContext {
        secret: key.as_bytes().to_vec(),
        now_unix_secs: now(),
        nonce: format!("catalog-{}-{}", entry.name, now()),
        config: entry
            .config
            .as_ref()
            .map_or_else(|| "{}".into(), |(_, j)| j.clone()),
    };
    let signature = plugin
        .sign(runtime, &request, &context)
        .await
        .unwrap_or_else(|e| panic!("{}: cannot sign its fixture: {e}", entry.name));
    let added = signature.headers.iter().map(|(n, _)| n.clone()).collect();
    let mut all = headers;
    all.extend(signature.headers);
    (all, signature.body.unwrap_or(request.body), added)
}

async fn post(gw: &Gateway, source: &str, headers: &[(String, Vec<u8>)], body: &[u8]) -> u16 {
    let mut request = gw.client().post(gw.url(&format!("/webhooks/{source}")));
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_slice());
    }
    request
        .body(body.to_vec())
        .send()
        .await
        .expect("the gateway answers")
        .status()
        .as_u16()
}

async fn stored(gw: &Gateway, source: &str) -> Vec<serde_json::Value> {
    let (status, page) = gw
        .admin_get(&format!("/admin/events?source={source}&limit=500"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// What the contract promises of a delivered event.
fn assert_well_formed(name: &str, event: &serde_json::Value) {
    let text = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
    assert!(text("id").starts_with("evt_"), "{name}: id in {event}");
    assert_eq!(text("source"), name, "{name}: source");
    assert_eq!(text("platform"), name, "{name}: platform");
    let kind = text("type");
    assert!(
        kind.contains('.')
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)),
        "{name}: type {kind:?} is dotted lower case"
    );
    assert!(
        time::OffsetDateTime::parse(
            &text("occurred_at"),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{name}: occurred_at in {event}"
    );
    for key in ["entity_id", "entity_type"] {
        assert!(!text(key).is_empty(), "{name}: {key} in {event}");
    }
    if let Some(amount) = event.get("amount") {
        assert!(amount.is_i64(), "{name}: amount {amount} is an integer");
    }
    if let Some(currency) = event.get("currency").and_then(|c| c.as_str()) {
        assert!(
            currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()),
            "{name}: currency {currency}"
        );
    }
    assert!(event.get("payload").is_some(), "{name}: payload");
}

/// One plugin's checks; panics (in its own task) with what went wrong.
async fn check(
    gw: Arc<Gateway>,
    receiver: Arc<Receiver>,
    runtime: Arc<Runtime>,
    entry: Arc<Entry>,
    scratch: PathBuf,
) {
    let name = entry.name.as_str();
    let url = gw.url(&format!("/webhooks/{name}"));
    let (headers, body, added) = signed(&runtime, &entry, &url).await;

    // Eight copies at once, as senders that retry on a timeout produce: all acknowledged, one
    // stored.
    let copies: Vec<_> = (0..8).map(|_| post(&gw, name, &headers, &body)).collect();
    for status in futures_util::future::join_all(copies).await {
        assert!((200..300).contains(&status), "a genuine copy got {status}");
    }
    let events = stored(&gw, name).await;
    assert!(!events.is_empty(), "nothing stored");
    let status = post(&gw, name, &headers, &body).await;
    assert!((200..300).contains(&status), "a redelivery got {status}");
    assert_eq!(stored(&gw, name).await.len(), events.len(), "stored once");

    if entry.body_signed {
        let mut tampered = body.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 0x01;
        assert_eq!(
            post(&gw, name, &headers, &tampered).await,
            401,
            "a tampered body"
        );
    }
    if !added.is_empty() {
        let unsigned: Vec<_> = headers
            .iter()
            .filter(|(n, _)| !added.contains(n))
            .cloned()
            .collect();
        assert_eq!(
            post(&gw, name, &unsigned, &body).await,
            401,
            "without the headers the signature added ({})",
            added.join(", ")
        );
    }
    assert_eq!(
        stored(&gw, name).await.len(),
        events.len(),
        "nothing more stored"
    );

    let path = format!("/{name}");
    let delivered = eventually(Duration::from_secs(30), "the deliveries", || async {
        let got = receiver.received(&path);
        (got.len() >= events.len()).then_some(got)
    })
    .await;
    assert_eq!(delivered.len(), events.len(), "each event delivered once");
    for request in &delivered {
        assert_well_formed(name, &request.json());
    }

    // The CLI signs through the same plugin, to the source's twin.
    let file = scratch.join(format!("{name}.body"));
    std::fs::write(&file, &entry.fixture.request.body).unwrap();
    let mut args: Vec<String> = vec![
        "send".into(),
        format!("{name}-send"),
        "--file".into(),
        file.display().to_string(),
        "--url".into(),
        gw.url(""),
        "--config".into(),
        gw.config_path().display().to_string(),
    ];
    for (header, value) in &entry.fixture.request.headers {
        if header.eq_ignore_ascii_case("content-type") {
            args.extend([
                "--content-type".into(),
                String::from_utf8_lossy(value).into(),
            ]);
        } else {
            args.extend([
                "--header".into(),
                format!("{header}: {}", String::from_utf8_lossy(value)),
            ]);
        }
    }
    if let Some(key) = &entry.signing_key {
        args.extend(["--key".into(), key.clone()]);
    }
    let out = crate::run_to_exit(args.into_iter().map(Into::into).collect()).await;
    assert!(
        out.status.success(),
        "hookgate send: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stored(&gw, &format!("{name}-send")).await.is_empty(),
        "hookgate send stored nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_platform_plugin_verifies_stores_once_and_delivers() {
    let entries = catalog();
    assert!(entries.len() >= 6, "the catalog: {} plugins", entries.len());
    let receiver = Arc::new(Receiver::start().await);
    let mut plugin_files: Vec<PathBuf> = entries.iter().map(|e| crate::plugin(&e.name)).collect();
    plugin_files.push(crate::plugin("forward-action"));
    let gw = Arc::new(
        crate::start_with(GatewayConfig {
            plugin_files,
            body: sources(&entries, &receiver),
            env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
            ..Default::default()
        })
        .await,
    );
    let runtime = Runtime::new(Limits {
        call_timeout: Duration::from_secs(1),
        memory_limit_bytes: 64 << 20,
    })
    .expect("a plugin runtime");
    let scratch = tempfile::tempdir().unwrap();
    // Each plugin in a task of its own, one after the other, so that one plugin's failure is
    // reported with every other's instead of hiding them.
    let mut failures = Vec::new();
    for entry in entries {
        let name = entry.name.clone();
        let task = tokio::spawn(check(
            gw.clone(),
            receiver.clone(),
            runtime.clone(),
            Arc::new(entry),
            scratch.path().to_owned(),
        ));
        if let Err(e) = task.await {
            let panic = e.into_panic();
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{name}: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} plugin(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
