//! The `hubspot` action against a loopback double of HubSpot's CRM v3 batch upsert ("Error
//! handling", "API usage guidelines and limits"): the upsert it sends, typed from the templates,
//! the rate-limit answers (a 429 waits out `X-HubSpot-RateLimit-Interval-Milliseconds`; a
//! success with `X-HubSpot-RateLimit-Remaining: 0` pauses the route before a 429 comes), a 207
//! whose one input failed, a revoked token's 401, and the token kept out of everything shown.

use crate::delivery::{admin, job_with_status, send};
use hookgate_testkit::{Receiver, Reply};
use std::time::Duration;

const HUBSPOT_TOKEN: &str = "pat-na1-0b1c2d3e-4f56-7890-abcd-e2eSecretToken";

/// A HubSpot error body, as its error-handling reference shows them.
fn error(category: &str, message: &str) -> String {
    serde_json::json!({"status": "error", "message": message,
                       "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf", "category": category})
    .to_string()
}

/// A completed batch upsert of one record.
const UPSERTED: &str = r#"{"status":"COMPLETE","results":[{"id":"512","properties":{"hs_object_id":"512"},"new":true,"createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","archived":false}],"startedAt":"2024-01-01T00:00:00Z","completedAt":"2024-01-01T00:00:01Z"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubspot_upserts_a_record_heeds_its_rate_limits_and_classifies_its_errors() {
    let hubspot = Receiver::start().await;
    // One double, one base_url prefix per route, so each route has its own script.
    let contacts = "/ok/crm/v3/objects/contacts/batch/upsert";
    hubspot.script(
        contacts,
        [
            // The burst limit: no Retry-After, the rolling window's length instead.
            Reply::status(429)
                .header("X-HubSpot-RateLimit-Max", "190")
                .header("X-HubSpot-RateLimit-Remaining", "0")
                .header("X-HubSpot-RateLimit-Interval-Milliseconds", "1000")
                .body(r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa-2c40-4a64-ae48-b4cec88dad24","policyName":"TEN_SECONDLY_ROLLING"}"#),
            // Upserted, with the window's last request: the route pauses for the window.
            Reply::status(200)
                .header("X-HubSpot-RateLimit-Max", "190")
                .header("X-HubSpot-RateLimit-Remaining", "0")
                .header("X-HubSpot-RateLimit-Interval-Milliseconds", "1500")
                .body(UPSERTED),
            Reply::status(200)
                .header("X-HubSpot-RateLimit-Remaining", "189")
                .header("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
                .body(UPSERTED),
        ],
    );
    let companies = "/partial/crm/v3/objects/companies/batch/upsert";
    hubspot.set_default(
        companies,
        Reply::status(207).body(r#"{"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"industry\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"industry\"}]","context":{"id":["example.com"]}}],"startedAt":"2024-01-01T00:00:00Z","completedAt":"2024-01-01T00:00:01Z"}"#),
    );
    let deals = "/revoked/crm/v3/objects/deals/batch/upsert";
    hubspot.set_default(
        deals,
        Reply::status(401).body(error(
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )),
    );
    let base = hubspot.url("");
    let routes = format!(
        r#"
[[routes]]
name = "hubspot-contacts"
source = "stripe"
action = "hubspot"
# A short schedule: the wait between the attempts is the 429's, not the schedule's.
retry = {{ schedule = ["100ms"] }}
config = {{ token = {{ env = "HUBSPOT_TOKEN" }}, base_url = "{base}/ok", object = "contacts", id_property = "stripe_payment_intent", id = "{{{{ event.entity_id }}}}", properties = {{ last_payment = "{{{{ event.amount | money(event.currency) }}}}", last_payment_cents = "{{{{ event.amount }}}}", last_event = "{{{{ event.type }}}}", lifecyclestage = "customer" }} }}

[[routes]]
name = "hubspot-companies"
source = "stripe"
action = "hubspot"
config = {{ token = {{ env = "HUBSPOT_TOKEN" }}, base_url = "{base}/partial", object = "companies", id_property = "domain", id = "example.com", properties = {{ industry = "{{{{ event.payload.data.object.object }}}}" }} }}

[[routes]]
name = "hubspot-deals"
source = "stripe"
action = "hubspot"
config = {{ token = {{ env = "HUBSPOT_TOKEN" }}, base_url = "{base}/revoked", object = "deals", id_property = "dealname", id = "{{{{ event.id }}}}", properties = {{ amount = "{{{{ event.amount }}}}" }} }}
"#
    );
    let gw = super::gateway(
        "hubspot-action",
        &routes,
        &[("HUBSPOT_TOKEN", HUBSPOT_TOKEN)],
    )
    .await;
    let id = send(&gw, "evt_hubspot").await;

    let job = job_with_status(&gw, &id, "hubspot-contacts", "delivered").await;
    assert_eq!(job["attempts"], 2, "the 429 was retried: {job}");
    let posts = hubspot.received(contacts);
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "the rolling window was waited out: {:?}",
        posts[1].at - posts[0].at
    );
    let post = &posts[1];
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {HUBSPOT_TOKEN}").as_str())
    );
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        post.json(),
        serde_json::json!({"inputs": [{
            "idProperty": "stripe_payment_intent",
            "id": "pi_evt_hubspot",
            "properties": {
                "last_payment": "$12.50",
                "last_payment_cents": 1250,
                "last_event": "payment.completed",
                "lifecyclestage": "customer",
            },
        }]})
    );

    // The upsert spent the window's last request: the next delivery waits for the window.
    let second = send(&gw, "evt_hubspot_2").await;
    job_with_status(&gw, &second, "hubspot-contacts", "delivered").await;
    let posts = hubspot.received(contacts);
    assert_eq!(posts.len(), 3);
    assert!(
        posts[2].at - posts[1].at >= Duration::from_millis(1500),
        "X-HubSpot-RateLimit-Remaining: 0 paused the route: {:?}",
        posts[2].at - posts[1].at
    );
    assert_eq!(posts[2].json()["inputs"][0]["id"], "pi_evt_hubspot_2");

    // A 207 whose one input failed: dead-lettered at once with HubSpot's category.
    let job = job_with_status(&gw, &id, "hubspot-companies", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let reason = job["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("HTTP 207"), "{reason}");
    assert!(reason.contains("VALIDATION_ERROR"), "{reason}");
    assert!(reason.contains("PROPERTY_DOESNT_EXIST"), "{reason}");
    let partial = hubspot.received(companies);
    assert_eq!(
        partial[0].json(),
        serde_json::json!({"inputs": [{"idProperty": "domain", "id": "example.com", "properties": {"industry": "payment_intent"}}]})
    );

    // A revoked token: permanent, with the category and correlation id.
    let job = job_with_status(&gw, &id, "hubspot-deals", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let reason = job["last_error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("HTTP 401 INVALID_AUTHENTICATION: Authentication credentials not found."),
        "{reason}"
    );
    assert!(
        reason.contains("aeb5f871-7f07-4993-9211-075dc63e7cbf"),
        "{reason}"
    );
    assert_eq!(
        hubspot.received(deals)[0].json()["inputs"][0]["properties"]["amount"],
        1250
    );

    let detail = admin(&gw, &format!("/admin/events/{id}")).await.to_string();
    assert!(detail.contains("TEN_SECONDLY_ROLLING"), "{detail}");
    assert!(!detail.contains(HUBSPOT_TOKEN), "{detail}");
    assert!(!detail.contains("e2eSecretToken"), "{detail}");
    let routes = admin(&gw, "/admin/routes").await.to_string();
    assert!(!routes.contains(HUBSPOT_TOKEN), "{routes}");
    assert!(!routes.contains("e2eSecretToken"), "{routes}");
    assert!(gw.leaked_secrets().is_empty());
}
