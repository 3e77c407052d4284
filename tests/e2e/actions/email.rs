//! The `email` action against one loopback double of the four providers (each under its own
//! path prefix, through `base_url`), written from their API documentation: each request's
//! path, auth and body, Postmark's 422 `ErrorCode` dead-lettering, Resend's 429 waiting for
//! `retry-after`, and the API keys never showing.

use super::gateway;
use crate::delivery::{admin, job_with_status, send};
use hookgate_sdk::encoding::{base64_encode, form_pairs};
use hookgate_testkit::{Receiver, Reply};
use serde_json::json;
use std::time::Duration;

const SENDGRID_KEY: &str = "SG.sendgrid-secret-key.abc";
const RESEND_KEY: &str = "re_resend_secret_key_123";
const POSTMARK_TOKEN: &str = "pm-postmark-server-token-456";
const MAILGUN_KEY: &str = "key-mailgun-secret-789";

const SENDGRID_PATH: &str = "/sendgrid/v3/mail/send";
const RESEND_PATH: &str = "/resend/emails";
const POSTMARK_PATH: &str = "/postmark/email";
const MAILGUN_PATH: &str = "/mailgun/v3/mg.example.com/messages";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_providers_get_their_documented_requests_and_answers() {
    let rx = Receiver::start().await;
    // SendGrid accepts with 202 and no body.
    rx.set_default(SENDGRID_PATH, Reply::status(202));
    // Resend rate limits once (retry-after in seconds, IETF ratelimit headers), then sends.
    rx.script(
        RESEND_PATH,
        [
            Reply::status(429)
                .header("retry-after", "1")
                .header("ratelimit-limit", "2")
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", "1")
                .body(r#"{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests. You can only make 2 requests per second."}"#),
            Reply::status(200).body(r#"{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}"#),
        ],
    );
    // Postmark refuses the message: 422 with ErrorCode 300 (invalid email request).
    rx.set_default(
        POSTMARK_PATH,
        Reply::status(422)
            .body(r#"{"ErrorCode":300,"Message":"Invalid 'To' address: 'ops@example'."}"#),
    );
    rx.set_default(
        MAILGUN_PATH,
        Reply::status(200).body(
            r#"{"id":"<20231114221320.1.ABC@mg.example.com>","message":"Queued. Thank you."}"#,
        ),
    );

    // Passed as a format! argument, so its template braces need no doubling.
    let message = r#"from = "Billing <billing@example.com>", reply_to = "help@example.com", subject = "Paid {{ event.amount | money(event.currency) }}", text = "Payment {{ event.entity_id }} received.", html = "<p>Paid <b>{{ event.amount | money(event.currency) }}</b></p>""#;
    let routes = format!(
        r#"
[[routes]]
name = "email-sendgrid"
source = "stripe"
action = "email"
config = {{ provider = "sendgrid", api_key = {{ env = "SENDGRID_API_KEY" }}, base_url = "{sendgrid}", to = ["ops@example.com", "Finance <finance@example.com>"], {message} }}

[[routes]]
name = "email-resend"
source = "stripe"
action = "email"
config = {{ provider = "resend", api_key = {{ env = "RESEND_API_KEY" }}, base_url = "{resend}", to = "ops@example.com", cc = ["audit@example.com"], {message} }}

[[routes]]
name = "email-postmark"
source = "stripe"
action = "email"
config = {{ provider = "postmark", api_key = {{ env = "POSTMARK_SERVER_TOKEN" }}, base_url = "{postmark}", to = ["ops@example", "finance@example.com"], {message} }}

[[routes]]
name = "email-mailgun"
source = "stripe"
action = "email"
config = {{ provider = "mailgun", api_key = {{ env = "MAILGUN_API_KEY" }}, base_url = "{mailgun}", domain = "mg.example.com", to = ["ops@example.com", "finance@example.com"], {message} }}
"#,
        sendgrid = rx.url("/sendgrid"),
        resend = rx.url("/resend/"),
        postmark = rx.url("/postmark"),
        mailgun = rx.url("/mailgun"),
    );
    let gw = gateway(
        "email-action",
        &routes,
        &[
            ("SENDGRID_API_KEY", SENDGRID_KEY),
            ("RESEND_API_KEY", RESEND_KEY),
            ("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN),
            ("MAILGUN_API_KEY", MAILGUN_KEY),
        ],
    )
    .await;
    let id = send(&gw, "evt_email").await;

    // SendGrid: Bearer key, JSON Mail Send with text/plain before text/html.
    let job = job_with_status(&gw, &id, "email-sendgrid", "delivered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let posts = rx.received(SENDGRID_PATH);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {SENDGRID_KEY}").as_str())
    );
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("idempotency-key"), None);
    assert_eq!(
        post.json(),
        json!({
            "personalizations": [{"to": [
                {"email": "ops@example.com"},
                {"email": "finance@example.com", "name": "Finance"},
            ]}],
            "from": {"email": "billing@example.com", "name": "Billing"},
            "reply_to": {"email": "help@example.com"},
            "subject": "Paid $12.50",
            "content": [
                {"type": "text/plain", "value": "Payment pi_evt_email received."},
                {"type": "text/html", "value": "<p>Paid <b>$12.50</b></p>"},
            ],
        })
    );

    // Resend: Bearer key, the event id as Idempotency-Key on both attempts, retry-after kept.
    let job = job_with_status(&gw, &id, "email-resend", "delivered").await;
    assert_eq!(job["attempts"], 2, "the 429 was retried: {job}");
    let posts = rx.received(RESEND_PATH);
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "retry-after honoured"
    );
    for post in &posts {
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {RESEND_KEY}").as_str())
        );
        assert_eq!(post.header("idempotency-key"), Some(id.as_str()));
        assert_eq!(post.header("content-type"), Some("application/json"));
    }
    assert_eq!(posts[0].body, posts[1].body, "a retry sends the same email");
    assert_eq!(
        posts[1].json(),
        json!({
            "from": "Billing <billing@example.com>",
            "to": ["ops@example.com"],
            "cc": ["audit@example.com"],
            "reply_to": "help@example.com",
            "subject": "Paid $12.50",
            "text": "Payment pi_evt_email received.",
            "html": "<p>Paid <b>$12.50</b></p>",
        })
    );

    // Postmark: server-token header, PascalCase JSON; the 422 is dead-lettered at once with
    // Postmark's ErrorCode in the attempt.
    let job = job_with_status(&gw, &id, "email-postmark", "dead_lettered").await;
    assert_eq!(job["attempts"], 1, "a 422 is not retried: {job}");
    let error = job["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("ErrorCode 300"), "{job}");
    assert!(error.contains("Invalid 'To' address"), "{job}");
    let posts = rx.received(POSTMARK_PATH);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.header("x-postmark-server-token"), Some(POSTMARK_TOKEN));
    assert_eq!(post.header("accept"), Some("application/json"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("authorization"), None);
    assert_eq!(post.header("idempotency-key"), None);
    assert_eq!(
        post.json(),
        json!({
            "From": "Billing <billing@example.com>",
            "To": "ops@example, finance@example.com",
            "ReplyTo": "help@example.com",
            "Subject": "Paid $12.50",
            "TextBody": "Payment pi_evt_email received.",
            "HtmlBody": "<p>Paid <b>$12.50</b></p>",
        })
    );

    // Mailgun: basic auth api:KEY, a form with one `to` per recipient and h:Reply-To.
    let job = job_with_status(&gw, &id, "email-mailgun", "delivered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    let posts = rx.received(MAILGUN_PATH);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    let basic = base64_encode(format!("api:{MAILGUN_KEY}").as_bytes());
    assert_eq!(
        post.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        post.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(post.header("idempotency-key"), None);
    let fields: Vec<(String, String)> = form_pairs(&post.body)
        .into_iter()
        .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("from", "Billing <billing@example.com>"),
        ("to", "ops@example.com"),
        ("to", "finance@example.com"),
        ("subject", "Paid $12.50"),
        ("text", "Payment pi_evt_email received."),
        ("html", "<p>Paid <b>$12.50</b></p>"),
        ("h:Reply-To", "help@example.com"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(fields, expected);

    // The attempts name each provider's answer; no API key shows anywhere.
    let detail = admin(&gw, &format!("/admin/events/{id}")).await.to_string();
    assert!(
        detail.contains("Resend: HTTP 429, rate_limit_exceeded"),
        "{detail}"
    );
    let routes = admin(&gw, "/admin/routes").await.to_string();
    for secret in [
        SENDGRID_KEY,
        RESEND_KEY,
        POSTMARK_TOKEN,
        MAILGUN_KEY,
        &basic,
    ] {
        assert!(!detail.contains(secret), "{secret} in {detail}");
        assert!(!routes.contains(secret), "{secret} in {routes}");
    }
    assert!(gw.leaked_secrets().is_empty());
}
