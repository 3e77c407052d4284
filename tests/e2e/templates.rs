//! Templates, `when` conditions and secret references in action configs, end to end: a signed
//! Stripe payment through the real gateway into the real `http` action, rendered by the host
//! for each delivery, checked by a loopback receiver; a template that cannot render for an
//! event dead-letters it with the route, key and expression; a secret the destination echoes
//! never reaches the attempt history.

use crate::delivery::{admin, job_with_status, send};
use crate::plugin;
use hookgate_testkit::{Receiver, Reply, eventually};
use std::time::Duration;

const ERP_TOKEN: &str = "erp-token-6b1f0c9d2e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templated_http_routes_render_per_event_and_when_selects() {
    let receiver = Receiver::start().await;
    receiver.set_default(
        "/echo",
        Reply::status(403).body(format!(r#"{{"error":"bad token {ERP_TOKEN}"}}"#)),
    );
    let routes = format!(
        r#"
[[routes]]
name = "erp"
source = "stripe"
action = "http"
when = 'event.amount >= 1000 and event.currency == "USD"'
config = {{ url = "{orders}/{{{{ event.entity_id }}}}", method = "PUT", headers = {{ authorization = {{ env = "ERP_TOKEN" }}, x-route = "{{{{ route }}}}" }}, query = {{ src = "{{{{ event.source }}}}" }}, body = {{ id = "{{{{ event.id }}}}", amount = "{{{{ event.amount }}}}", major = "{{{{ event.amount | minor_to_major(event.currency) }}}}", shown = "{{{{ event.amount | money(event.currency) }}}}", object = "{{{{ event.payload.data.object.object }}}}", note = "{{{{ event.payload.data.object.description | default('none') }}}}" }} }}

[[routes]]
name = "huge-only"
source = "stripe"
action = "http"
when = "event.amount >= 1000000"
config = {{ url = "{never}" }}

[[routes]]
name = "broken"
source = "stripe"
action = "http"
config = {{ url = "{never}", body = {{ x = "Hi {{{{ event.payload.data.object.customer_name }}}}" }} }}

[[routes]]
name = "echo"
source = "stripe"
action = "http"
config = {{ url = "{echo}", headers = {{ authorization = {{ env = "ERP_TOKEN" }} }} }}
"#,
        orders = receiver.url("/orders"),
        never = receiver.url("/never"),
        echo = receiver.url("/echo"),
    );
    let gw = crate::actions::gateway("http-action", &routes, &[("ERP_TOKEN", ERP_TOKEN)]).await;

    let id = send(&gw, "evt_tpl").await;
    job_with_status(&gw, &id, "erp", "delivered").await;
    let got = receiver.received("/orders/pi_evt_tpl");
    assert_eq!(got.len(), 1, "one PUT to the rendered URL");
    let request = &got[0];
    assert_eq!(request.header("authorization"), Some(ERP_TOKEN));
    assert_eq!(request.header("x-route"), Some("erp"));
    assert_eq!(request.header("idempotency-key"), Some(id.as_str()));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "id": id,
            "amount": 1250,
            "major": "12.50",
            "shown": "$12.50",
            "object": "payment_intent",
            "note": "none",
        }),
        "typed values stay numbers; text templates render"
    );

    // The rendering failed for this event: dead-lettered at once, saying where and why.
    let broken = job_with_status(&gw, &id, "broken", "dead_lettered").await;
    let error = broken["last_error"].as_str().unwrap_or_default();
    for part in ["broken", "config.body.x", "customer_name", "undefined"] {
        assert!(error.contains(part), "{part} in {error:?}");
    }
    assert!(
        receiver.received("/never").is_empty(),
        "when kept huge-only out; broken never sent"
    );

    // The destination echoed the token in its 403: the attempt history shows it redacted.
    job_with_status(&gw, &id, "echo", "dead_lettered").await;
    let detail = eventually(Duration::from_secs(20), "the echo attempt", || async {
        let detail = admin(&gw, &format!("/admin/events/{id}")).await;
        detail.to_string().contains("bad token").then_some(detail)
    })
    .await;
    let shown = detail.to_string();
    assert!(!shown.contains(ERP_TOKEN), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(gw.leaked_secrets().is_empty());
}

#[test]
fn bad_templates_and_conditions_are_refused_at_start() {
    let body = "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_x\"]\n\n[[routes]]\nsource = \"stripe\"\naction = \"http\"\nwhen = \"event.amount >=\"\nconfig = { url = \"https://e.com/\", body = { text = \"{{ event.id \" } }\n";
    let (code, output) =
        crate::config::check_with_plugins(body, &[plugin("stripe"), plugin("http-action")]);
    assert_ne!(code, 0);
    assert!(output.contains("routes[0].when"), "{output}");
    assert!(output.contains("routes[0].config.body.text"), "{output}");
}

/// A 2 MB GitHub push through a route with a `when` condition and a templated body: the
/// condition and the render read the whole payload (both run off the async runtime at this
/// size), and the destination gets values from deep inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_payloads_are_routed_by_when_and_rendered() {
    let receiver = Receiver::start().await;
    receiver.set_default("/push", Reply::status(204));
    let routes = format!(
        r#"
[[routes]]
name = "big-pushes"
source = "github"
when = "event.payload.commits | length > 1000"
action = "http"
config = {{ url = "{url}", body = {{ commits = "{{{{ event.payload.commits | length }}}}", last = "{{{{ (event.payload.commits | last).id }}}}", repo = "{{{{ event.metadata.repository }}}}" }} }}

[[routes]]
name = "small-pushes"
source = "github"
when = "event.payload.commits | length <= 1000"
action = "http"
config = {{ url = "{url}" }}
"#,
        url = receiver.url("/push")
    );
    let gw = crate::start_with(hookgate_testkit::GatewayConfig {
        plugin_files: vec![plugin("github"), plugin("http-action")],
        backend: hookgate_testkit::Backend::Sqlite,
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n[sources.github]\nplugin = \"github\"\nsecrets = [\"big\"]\nmax_body_bytes = 26214400\n{routes}"
        ),
        env: vec![("HOOKGATE_ADMIN_TOKEN".into(), crate::delivery::TOKEN.into())],
        ..Default::default()
    })
    .await;
    let commits: Vec<String> = (0..20_000)
        .map(|i| format!(r#"{{"id":"c{i}","message":"commit number {i} of a large push"}}"#))
        .collect();
    let body = format!(
        r#"{{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{{"id":1,"full_name":"octo/big"}},"sender":{{"login":"octocat"}},"commits":[{}]}}"#,
        commits.join(",")
    );
    assert!(body.len() > 1_000_000, "{} bytes", body.len());
    let headers = [
        (
            "x-hub-signature-256",
            hookgate_testkit::sign::github("big", body.as_bytes()),
        ),
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", "large-push-1".to_owned()),
    ];
    let response = gw.post("github", &headers, body).await;
    assert_eq!(response.status(), 202);
    let id = crate::json(response).await["events"][0]
        .as_str()
        .unwrap()
        .to_owned();
    job_with_status(&gw, &id, "big-pushes", "delivered").await;
    let event = admin(&gw, &format!("/admin/events/{id}")).await;
    let routes: Vec<&str> = event["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["route"].as_str())
        .collect();
    assert_eq!(routes, ["big-pushes"], "when chose one route: {event}");
    assert_eq!(
        receiver.received("/push")[0].json(),
        serde_json::json!({"commits": 20000, "last": "c19999", "repo": "octo/big"})
    );
}
