//! The `airtable` action against a loopback double of Airtable's Web API ("Create records",
//! "Errors", "Rate limits"): the record it creates, typed from the templates, and how
//! Airtable's answers become outcomes.

use crate::delivery::{admin, job_with_status, send};
use hookgate_testkit::{Receiver, Reply};
use std::time::Duration;

const AIRTABLE_TOKEN: &str = "patE2eT0ken.0123456789abcdefsecretvalue";
const BASE_ID: &str = "appA1b2C3d4E5f6G7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airtable_creates_a_typed_record_and_classifies_airtables_answers() {
    let airtable = Receiver::start().await;
    // A table name with a space reaches Airtable percent-encoded.
    let leads = format!("/v0/{BASE_ID}/Sales%20Leads");
    airtable.script(
        &leads,
        [
            // Rate limited, with a (short) Retry-After, which wins over the documented 30 s.
            Reply::status(429).header("Retry-After", "1").body(
                r#"{"errors":[{"error":"RATE_LIMIT_REACHED","message":"Rate limit exceeded. Please try again later"}]}"#,
            ),
            Reply::status(503).body(
                r#"{"error":{"type":"SERVICE_UNAVAILABLE","message":"The server could not process your request in time"}}"#,
            ),
            Reply::status(200).body(
                r#"{"records":[{"id":"rec560UJdUtocSouk","createdTime":"2024-01-01T00:00:00.000Z","fields":{"Amount":1250}}]}"#,
            ),
        ],
    );
    let invalid = format!("/v0/{BASE_ID}/tblInvalid0000001");
    airtable.set_default(
        &invalid,
        Reply::status(422).body(
            r#"{"error":{"type":"INVALID_VALUE_FOR_COLUMN","message":"Field \"Amount\" cannot accept the provided value"}}"#,
        ),
    );
    let deleted = format!("/v0/{BASE_ID}/Deleted");
    airtable.set_default(
        &deleted,
        Reply::status(404).body(r#"{"error":"NOT_FOUND"}"#),
    );
    let routes = format!(
        r#"
[[routes]]
name = "airtable-leads"
source = "stripe"
action = "airtable"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "AIRTABLE_TOKEN" }}, base_id = "{BASE_ID}", table = "Sales Leads", base_url = "{base}", typecast = true, fields = {{ "Event" = "{{{{ event.id }}}}", "Amount" = "{{{{ event.amount }}}}", "Currency" = "{{{{ event.currency }}}}", "Summary" = "Paid {{{{ event.amount | money(event.currency) }}}}", "Paid" = true }} }}

[[routes]]
name = "airtable-invalid"
source = "stripe"
action = "airtable"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "AIRTABLE_TOKEN" }}, base_id = "{BASE_ID}", table = "tblInvalid0000001", base_url = "{base}", fields = {{ "Amount" = "{{{{ event.currency }}}}" }} }}

[[routes]]
name = "airtable-deleted"
source = "stripe"
action = "airtable"
retry = {{ schedule = ["1s", "1s", "1s"] }}
config = {{ token = {{ env = "AIRTABLE_TOKEN" }}, base_id = "{BASE_ID}", table = "Deleted", base_url = "{base}", fields = {{ "Event" = "{{{{ event.id }}}}" }} }}
"#,
        base = airtable.url(""),
    );
    let gw = super::gateway(
        "airtable-action",
        &routes,
        &[("AIRTABLE_TOKEN", AIRTABLE_TOKEN)],
    )
    .await;
    let id = send(&gw, "evt_airtable").await;

    // 429 (Retry-After honoured), 503 (retried), then the record is created.
    let job = job_with_status(&gw, &id, "airtable-leads", "delivered").await;
    assert_eq!(job["attempts"], 3, "{job}");
    assert_eq!(
        crate::delivery::outcomes(&job),
        ["rate_limited", "retryable", "delivered"],
        "{job}"
    );
    assert_eq!(job["history"][0]["http_status"], 429);
    let posts = airtable.received(&leads);
    assert_eq!(posts.len(), 3);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    for post in &posts {
        super::assert_bearer_json(post, AIRTABLE_TOKEN);
        assert_eq!(
            post.json(),
            serde_json::json!({
                "records": [{"fields": {
                    "Event": id,
                    "Amount": 1250,
                    "Currency": "USD",
                    "Summary": "Paid $12.50",
                    "Paid": true,
                }}],
                "typecast": true,
            })
        );
    }

    // 422: dead-lettered after one attempt, with Airtable's error type and message.
    let job = job_with_status(&gw, &id, "airtable-invalid", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let error = job["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("INVALID_VALUE_FOR_COLUMN")
            && error.contains(r#"Field "Amount" cannot accept the provided value"#),
        "{job}"
    );
    let posts = airtable.received(&invalid);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].json(),
        serde_json::json!({"records": [{"fields": {"Amount": "USD"}}]})
    );

    // 404 with the short body `{"error": "NOT_FOUND"}`: dead-lettered too.
    let job = job_with_status(&gw, &id, "airtable-deleted", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(
        job["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("NOT_FOUND"),
        "{job}"
    );
    assert_eq!(airtable.received(&deleted).len(), 1);

    // The token never shows.
    let detail = admin(&gw, &format!("/admin/events/{id}")).await;
    assert!(
        detail.to_string().contains("RATE_LIMIT_REACHED")
            || detail.to_string().contains("Rate limit exceeded"),
        "{detail}"
    );
    assert!(!detail.to_string().contains(AIRTABLE_TOKEN), "{detail}");
    let routes = admin(&gw, "/admin/routes").await;
    assert!(routes.to_string().contains("airtable-leads"), "{routes}");
    assert!(!routes.to_string().contains(AIRTABLE_TOKEN), "{routes}");
    assert!(gw.leaked_secrets().is_empty());
}
