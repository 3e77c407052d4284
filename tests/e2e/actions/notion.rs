//! The `notion` action against a loopback double of Notion's API ("Create a page", "Status
//! codes", "Request limits"): the page it creates, typed from the templates, and how Notion's
//! answers become outcomes.

use crate::delivery::{admin, job_with_status, send};
use hookgate_testkit::{Receiver, Reply};
use std::time::Duration;

const NOTION_TOKEN: &str = "ntn_e2eT0ken0123456789abcdefSecretValue";
const DATABASE_ID: &str = "d9824bdc-8445-4327-be8b-5b47500af6ce";

/// A Notion error body, as its status-codes reference shows them.
fn error(status: u16, code: &str, message: &str) -> String {
    serde_json::json!({"object": "error", "status": status, "code": code, "message": message,
                       "request_id": "2b5f1b0c-3c1e-4e1a-9d7e-0a3b1c2d3e4f"})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notion_creates_a_typed_page_and_classifies_notions_answers() {
    let notion = Receiver::start().await;
    // One double, one base_url prefix per route, so each route has its own script.
    notion.script(
        "/ok/v1/pages",
        [
            Reply::status(429).header("Retry-After", "1").body(error(
                429,
                "rate_limited",
                "You have been rate limited. Please try again in a few minutes.",
            )),
            Reply::status(409).body(error(
                409,
                "conflict_error",
                "Conflict occurred while saving. Please try again.",
            )),
            Reply::status(200).body(format!(
                r#"{{"object":"page","id":"59833787-2cf9-4fdf-8782-e53db20768a5","parent":{{"type":"database_id","database_id":"{DATABASE_ID}"}}}}"#
            )),
        ],
    );
    notion.set_default(
        "/invalid/v1/pages",
        Reply::status(400).body(error(
            400,
            "validation_error",
            "Amount is expected to be number.",
        )),
    );
    notion.set_default(
        "/unshared/v1/pages",
        Reply::status(404).body(error(
            404,
            "object_not_found",
            "Could not find database with ID: d9824bdc-8445-4327-be8b-5b47500af6ce. Make sure the relevant pages and databases are shared with your integration.",
        )),
    );
    let routes = format!(
        r#"
[[routes]]
name = "notion-ok"
source = "stripe"
action = "notion"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "NOTION_TOKEN" }}, database_id = "{DATABASE_ID}", base_url = "{ok}", properties = {{ Name = {{ title = [{{ text = {{ content = "Payment {{{{ event.id }}}}" }} }}] }}, Amount = {{ number = "{{{{ event.amount }}}}" }}, Currency = {{ select = {{ name = "{{{{ event.currency }}}}" }} }}, Paid = {{ checkbox = true }} }}, children = [{{ object = "block", type = "paragraph", paragraph = {{ rich_text = [{{ type = "text", text = {{ content = "{{{{ event.amount | money(event.currency) }}}} received" }} }}] }} }}] }}

[[routes]]
name = "notion-invalid"
source = "stripe"
action = "notion"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "NOTION_TOKEN" }}, database_id = "{DATABASE_ID}", base_url = "{invalid}", properties = {{ Amount = {{ number = "{{{{ event.currency }}}}" }} }} }}

[[routes]]
name = "notion-unshared"
source = "stripe"
action = "notion"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "NOTION_TOKEN" }}, database_id = "{DATABASE_ID}", base_url = "{unshared}", properties = {{ Name = {{ title = [{{ text = {{ content = "{{{{ event.id }}}}" }} }}] }} }} }}
"#,
        ok = notion.url("/ok"),
        invalid = notion.url("/invalid"),
        unshared = notion.url("/unshared/"),
    );
    let gw = super::gateway("notion-action", &routes, &[("NOTION_TOKEN", NOTION_TOKEN)]).await;
    let id = send(&gw, "evt_notion").await;

    // 429 (Retry-After honoured), 409 conflict_error (retried), then the page is created.
    let job = job_with_status(&gw, &id, "notion-ok", "delivered").await;
    assert_eq!(job["attempts"], 3, "{job}");
    assert_eq!(
        crate::delivery::outcomes(&job),
        ["rate_limited", "retryable", "delivered"],
        "{job}"
    );
    assert_eq!(job["history"][0]["http_status"], 429);
    assert_eq!(job["history"][1]["http_status"], 409);
    let posts = notion.received("/ok/v1/pages");
    assert_eq!(posts.len(), 3);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    for post in &posts {
        super::assert_bearer_json(post, NOTION_TOKEN);
        assert_eq!(post.header("notion-version"), Some("2022-06-28"));
        assert_eq!(
            post.json(),
            serde_json::json!({
                "parent": {"database_id": DATABASE_ID},
                "properties": {
                    "Name": {"title": [{"text": {"content": format!("Payment {id}")}}]},
                    "Amount": {"number": 1250},
                    "Currency": {"select": {"name": "USD"}},
                    "Paid": {"checkbox": true},
                },
                "children": [{
                    "object": "block",
                    "type": "paragraph",
                    "paragraph": {"rich_text": [{"type": "text", "text": {"content": "$12.50 received"}}]},
                }],
            })
        );
    }

    // 400 validation_error: dead-lettered after one attempt, with Notion's code and message.
    let job = job_with_status(&gw, &id, "notion-invalid", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let error = job["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("validation_error") && error.contains("Amount is expected to be number."),
        "{job}"
    );
    let posts = notion.received("/invalid/v1/pages");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].json(),
        serde_json::json!({"parent": {"database_id": DATABASE_ID}, "properties": {"Amount": {"number": "USD"}}})
    );

    // 404 object_not_found (the database is not shared with the integration): dead-lettered.
    let job = job_with_status(&gw, &id, "notion-unshared", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(
        job["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("object_not_found"),
        "{job}"
    );
    assert_eq!(notion.received("/unshared/v1/pages").len(), 1);

    // The token never shows.
    let detail = admin(&gw, &format!("/admin/events/{id}")).await;
    assert!(detail.to_string().contains("rate_limited"), "{detail}");
    assert!(!detail.to_string().contains(NOTION_TOKEN), "{detail}");
    let routes = admin(&gw, "/admin/routes").await;
    assert!(routes.to_string().contains("notion-ok"), "{routes}");
    assert!(!routes.to_string().contains(NOTION_TOKEN), "{routes}");
    assert!(gw.leaked_secrets().is_empty());
}
