//! The `teams` action against a loopback double of a Power Automate Workflows webhook trigger
//! ("When a Teams webhook request is received"): the message with one Adaptive Card attachment,
//! the trigger's answers (202 Accepted, a throttled trigger's 429 with `Retry-After`, a deleted
//! flow's 404 `WorkflowNotFound`), and the URL's `sig` kept out of everything shown.

use super::gateway;
use crate::delivery::{admin, job_with_status, send};
use hookgate_testkit::{Receiver, Reply};
use std::time::Duration;

/// The shared access signature of the double's trigger URLs: the credential.
const SIG: &str = "Zk3vQ9sTeamsSigSecret0xJ";
const FLOW: &str = "/workflows/0a1b2c3d/triggers/manual/paths/invoke";
const DELETED_FLOW: &str = "/workflows/9f8e7d6c/triggers/manual/paths/invoke";

/// The query a Workflows trigger URL carries.
fn signed(path: &str) -> String {
    format!("{path}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_posts_an_adaptive_card_waits_out_throttling_and_dead_letters_a_deleted_flow() {
    let workflows = Receiver::start().await;
    workflows.script(
        FLOW,
        [
            Reply::status(429)
                .header("Retry-After", "1")
                .body(r#"{"error":{"code":"WorkflowTriggerIsThrottled","message":"The workflow trigger is throttled. Retry the request later."}}"#),
            Reply::status(202),
        ],
    );
    // A deleted flow; its answer even echoes the signature, which must not be shown.
    workflows.set_default(
        DELETED_FLOW,
        Reply::status(404).body(format!(
            r#"{{"error":{{"code":"WorkflowNotFound","message":"The workflow '9f8e7d6c' could not be found (sig {SIG})."}}}}"#
        )),
    );
    let routes = r#"
[[routes]]
name = "teams-card"
source = "stripe"
action = "teams"
# A short schedule: the wait between the attempts is the 429's Retry-After, not the schedule's.
retry = { schedule = ["100ms"] }
config = { webhook_url = { env = "TEAMS_WORKFLOW_URL" }, card = { type = "AdaptiveCard", version = "1.4", body = [{ type = "TextBlock", text = "Paid {{ event.amount | money(event.currency) }}", weight = "Bolder", wrap = true }, { type = "FactSet", facts = [{ title = "Event", value = "{{ event.type }}" }] }] } }

[[routes]]
name = "teams-deleted"
source = "stripe"
action = "teams"
config = { webhook_url = { env = "TEAMS_DELETED_URL" }, text = "Paid {{ event.amount | money(event.currency) }}" }
"#;
    let flow_url = workflows.url(&signed(FLOW));
    let deleted_url = workflows.url(&signed(DELETED_FLOW));
    let gw = gateway(
        "teams-action",
        routes,
        &[
            ("TEAMS_WORKFLOW_URL", flow_url.as_str()),
            ("TEAMS_DELETED_URL", deleted_url.as_str()),
        ],
    )
    .await;
    let id = send(&gw, "evt_teams").await;

    let job = job_with_status(&gw, &id, "teams-card", "delivered").await;
    assert_eq!(
        job["attempts"], 2,
        "the throttled attempt was retried: {job}"
    );
    let posts = workflows.received(FLOW);
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "Retry-After honoured: {:?}",
        posts[1].at - posts[0].at
    );
    let post = &posts[1];
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("authorization"), None);
    assert_eq!(
        post.json(),
        serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "Paid $12.50", "weight": "Bolder", "wrap": true},
                        {"type": "FactSet", "facts": [{"title": "Event", "value": "payment.completed"}]},
                    ],
                },
            }],
        })
    );

    // A deleted (or turned off) flow: dead-lettered at once, the route left enabled.
    let job = job_with_status(&gw, &id, "teams-deleted", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let error = job["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("HTTP 404, WorkflowNotFound"), "{error}");
    assert!(error.contains("127.0.0.1"), "the host is named: {error}");
    let posts = workflows.received(DELETED_FLOW);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].json()["attachments"][0]["content"],
        serde_json::json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": "Paid $12.50", "wrap": true}],
        })
    );

    let detail = admin(&gw, &format!("/admin/events/{id}")).await.to_string();
    assert!(detail.contains("WorkflowTriggerIsThrottled"), "{detail}");
    assert!(!detail.contains(SIG), "{detail}");
    assert!(!detail.contains(FLOW), "{detail}");
    let routes = admin(&gw, "/admin/routes").await;
    assert!(!routes.to_string().contains(SIG), "{routes}");
    let deleted = routes["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "teams-deleted")
        .cloned()
        .expect("teams-deleted in /admin/routes");
    assert!(deleted["disabled"].is_null(), "{routes}");
    assert!(gw.leaked_secrets().is_empty());
}
