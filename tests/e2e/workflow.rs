//! One workflow end to end, the one the action catalog exists for: a signed Stripe payment
//! becomes a Slack message, a row in a Google Sheet and a receipt email, on one gateway, each
//! route retried or dead-lettered by its own service's rules. Slack's transient error is
//! retried; the email provider's refusal is dead-lettered, and replayed once fixed with the
//! same idempotency key; the sheet gets its row the first time.

use crate::delivery::{TOKEN, admin, admin_post, job_with_status};
use crate::{json, plugin, start_with};
use hookgate_testkit::{Backend, GatewayConfig, Receiver, Reply, now, sign};

const SECRET: &str = "whsec_workflow";
const SLACK_TOKEN: &str = "xoxb-5555-workflow-secret";
const RESEND_KEY: &str = "re_workflow_secret_key";
const APPEND: &str = "/v4/spreadsheets/1Sheet/values/Payments%21A1:append";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stripe_payment_reaches_slack_a_sheet_and_the_customer() {
    let services = Receiver::start().await;
    services.script(
        "/api/chat.postMessage",
        [
            Reply::status(200).body(r#"{"ok":false,"error":"service_unavailable"}"#),
            Reply::status(200).body(r#"{"ok":true,"channel":"C1","ts":"1.2"}"#),
        ],
    );
    services.set_default(
        "/token",
        Reply::status(200).body(r#"{"access_token":"ya29.workflow","expires_in":3599}"#),
    );
    services.set_default(
        APPEND,
        Reply::status(200).body(r#"{"spreadsheetId":"1Sheet","updates":{"updatedRows":1}}"#),
    );
    // The sending domain is not verified yet: Resend refuses, which no retry can fix.
    services.set_default(
        "/emails",
        Reply::status(403).body(
            r#"{"statusCode":403,"name":"validation_error","message":"The example.com domain is not verified."}"#,
        ),
    );
    let key = serde_json::json!({
        "type": "service_account",
        "client_email": "books@example.iam.gserviceaccount.com",
        "private_key": include_str!("../../host/src/runtime/testdata/rsa-2048.pem"),
        "token_uri": services.url("/token"),
    });
    let base = services.url("");
    let routes = format!(
        r#"
[[routes]]
name = "slack"
source = "stripe"
events = ["payment.completed"]
action = "slack"
retry = {{ schedule = ["1s"] }}
config = {{ token = {{ env = "SLACK_TOKEN" }}, channel = "C1", base_url = "{base}", text = "Paid {{{{ event.amount | money(event.currency) }}}} by {{{{ event.payload.data.object.receipt_email }}}}" }}

[[routes]]
name = "sheet"
source = "stripe"
events = ["payment.completed"]
action = "google-sheets"
config = {{ credentials = {{ env = "SHEETS_KEY" }}, spreadsheet_id = "1Sheet", range = "Payments!A1", base_url = "{base}", values = ["{{{{ event.entity_id }}}}", "{{{{ event.amount | minor_to_major(event.currency) }}}}", "{{{{ event.currency | upper }}}}"] }}

[[routes]]
name = "receipt"
source = "stripe"
events = ["payment.completed"]
when = "event.payload.data.object.receipt_email is defined"
action = "email"
config = {{ provider = "resend", api_key = {{ env = "RESEND_KEY" }}, base_url = "{base}", from = "Billing <billing@example.com>", to = "{{{{ event.payload.data.object.receipt_email }}}}", subject = "Your payment of {{{{ event.amount | money(event.currency) }}}}", text = "Thank you for your payment of {{{{ event.amount | money(event.currency) }}}}." }}
"#
    );
    let gw = start_with(GatewayConfig {
        plugin_files: vec![
            plugin("stripe"),
            plugin("slack-action"),
            plugin("google-sheets-action"),
            plugin("email-action"),
        ],
        backend: Backend::Sqlite,
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\ntimeout_ms = 5000\n\n[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n{routes}"
        ),
        env: vec![
            ("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into()),
            ("SLACK_TOKEN".into(), SLACK_TOKEN.into()),
            ("RESEND_KEY".into(), RESEND_KEY.into()),
            ("SHEETS_KEY".into(), key.to_string()),
        ],
        ..Default::default()
    })
    .await;

    let body = r#"{"id":"evt_workflow","type":"payment_intent.succeeded","created":1700000000,"data":{"object":{"id":"pi_workflow","object":"payment_intent","amount":4200,"currency":"eur","receipt_email":"ada@example.com"}}}"#;
    let response = gw
        .post(
            "stripe",
            &[(
                "stripe-signature",
                sign::stripe(&[SECRET], now(), body.as_bytes()),
            )],
            body.to_owned(),
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        202,
        "Stripe is answered once stored"
    );
    let id = json(response).await["events"][0]
        .as_str()
        .expect("event id")
        .to_owned();

    // Slack: its transient error inside an HTTP 200 was retried.
    let slack = job_with_status(&gw, &id, "slack", "delivered").await;
    assert_eq!(slack["attempts"], 2, "{slack}");
    let posts = services.received("/api/chat.postMessage");
    assert_eq!(
        posts[1].json(),
        serde_json::json!({"channel": "C1", "text": "Paid €42.00 by ada@example.com"})
    );
    // The sheet: one row, typed and formatted by the templates.
    let sheet = job_with_status(&gw, &id, "sheet", "delivered").await;
    assert_eq!(sheet["attempts"], 1, "{sheet}");
    assert_eq!(
        services.received(APPEND)[0].json()["values"],
        serde_json::json!([["pi_workflow", "42.00", "EUR"]])
    );
    // The receipt: refused for good, dead-lettered with Resend's own words.
    let receipt = job_with_status(&gw, &id, "receipt", "dead_lettered").await;
    assert_eq!(receipt["attempts"], 1, "{receipt}");
    let error = receipt["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("validation_error") && error.contains("not verified"),
        "{receipt}"
    );

    // The operator verifies the domain and replays the dead letter.
    services.set_default("/emails", Reply::status(200).body(r#"{"id":"re_1"}"#));
    let (status, answer) = admin_post(
        &gw,
        &format!("/admin/dlq/{id}/replay"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["routes"], serde_json::json!(["receipt"]));
    job_with_status(&gw, &id, "receipt", "delivered").await;
    let emails = services.received("/emails");
    assert_eq!(emails.len(), 2);
    for email in &emails {
        assert_eq!(
            email.header("idempotency-key"),
            Some(id.as_str()),
            "the same key on replay"
        );
        assert_eq!(
            email.header("authorization"),
            Some(format!("Bearer {RESEND_KEY}").as_str())
        );
    }
    assert_eq!(
        emails[1].json()["to"],
        serde_json::json!(["ada@example.com"])
    );
    assert_eq!(emails[1].json()["subject"], "Your payment of €42.00");
    assert_eq!(
        admin(&gw, &format!("/admin/events/{id}")).await["delivery"],
        "delivered"
    );
    // Three services, three credentials: none of them in the history or the logs.
    let detail = admin(&gw, &format!("/admin/events/{id}")).await.to_string();
    for secret in [SLACK_TOKEN, RESEND_KEY, "ya29.workflow", "PRIVATE KEY"] {
        assert!(!detail.contains(secret), "{secret} in {detail}");
    }
    assert!(gw.leaked_secrets().is_empty());
}
