//! The service actions against loopback doubles written from each service's documentation,
//! through `base_url` (or the webhook URL), on the real gateway: what is sent, and how the
//! service's answers (its errors, its rate limits) become outcomes.

use crate::delivery::{TOKEN, admin, job_with_status, send};
use crate::{plugin, start_with};
use hookgate_testkit::{Backend, Gateway, GatewayConfig, Receiver, Reply, eventually};
use std::time::Duration;

const SECRET: &str = "whsec_delivery";
const SLACK_TOKEN: &str = "xoxb-1234-5678-secretvalue";

/// A gateway on SQLite with Stripe in, the `action` plugin out (loopback allowed), the admin
/// API on, `routes` (TOML) and `env` for the gateway process.
pub async fn gateway(action: &str, routes: &str, env: &[(&str, &str)]) -> Gateway {
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.push(("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into()));
    start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), plugin(action)],
        backend: Backend::Sqlite,
        body: format!(
            "[egress]\nallow_private = [\"127.0.0.1/32\"]\ntimeout_ms = 5000\n\n[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n{routes}"
        ),
        env,
        ..Default::default()
    })
    .await
}

/// Asserts that `post` carried `Authorization: Bearer <token>` and a JSON body.
pub fn assert_bearer_json(post: &hookgate_testkit::receiver::Received, token: &str) {
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(
        post.header("content-type")
            .unwrap_or_default()
            .starts_with("application/json"),
        "{:?}",
        post.header("content-type")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_web_api_and_webhook_answers_are_classified_as_slack_documents_them() {
    let slack = Receiver::start().await;
    // chat.postMessage: a transient error inside an HTTP 200, then success.
    slack.script(
        "/api/chat.postMessage",
        [
            Reply::status(200).body(r#"{"ok":false,"error":"internal_error"}"#),
            Reply::status(200).body(r#"{"ok":true,"channel":"C123","ts":"1700000000.000100"}"#),
        ],
    );
    // An incoming webhook whose channel was archived: 410, the route is disabled.
    slack.set_default(
        "/services/T0/B0/archived",
        Reply::status(410).body("channel_is_archived"),
    );
    let routes = format!(
        r#"
[[routes]]
name = "slack-api"
source = "stripe"
action = "slack"
retry = {{ schedule = ["1s"] }}
config = {{ token = {{ env = "SLACK_TOKEN" }}, channel = "C123", base_url = "{base}", text = "Paid {{{{ event.amount | money(event.currency) }}}}", blocks = [{{ type = "section", text = {{ type = "mrkdwn", text = "*{{{{ event.type }}}}*" }} }}] }}

[[routes]]
name = "slack-archived"
source = "stripe"
action = "slack"
config = {{ webhook_url = "{archived}", text = "x" }}
"#,
        base = slack.url(""),
        archived = slack.url("/services/T0/B0/archived"),
    );
    let gw = gateway("slack-action", &routes, &[("SLACK_TOKEN", SLACK_TOKEN)]).await;
    let id = send(&gw, "evt_slack").await;

    let job = job_with_status(&gw, &id, "slack-api", "delivered").await;
    assert_eq!(job["attempts"], 2, "internal_error was retried: {job}");
    let posts = slack.received("/api/chat.postMessage");
    assert_eq!(posts.len(), 2);
    let post = &posts[1];
    assert_bearer_json(post, SLACK_TOKEN);
    assert_eq!(
        post.json(),
        serde_json::json!({
            "channel": "C123",
            "text": "Paid $12.50",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*payment.completed*"}}],
        })
    );
    let detail = admin(&gw, &format!("/admin/events/{id}")).await;
    assert!(
        detail.to_string().contains("Slack: internal_error"),
        "{detail}"
    );

    job_with_status(&gw, &id, "slack-archived", "dead_lettered").await;
    let routes = eventually(
        Duration::from_secs(20),
        "the archived route disabled",
        || async {
            let routes = admin(&gw, "/admin/routes").await;
            routes
                .to_string()
                .contains("channel_is_archived")
                .then_some(routes)
        },
    )
    .await;
    assert!(!routes.to_string().contains(SLACK_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_waits_for_its_retry_after_and_a_deleted_webhook_disables_the_route() {
    let discord = Receiver::start().await;
    discord.script(
        "/api/webhooks/1/tok",
        [
            Reply::status(429).body(
                r#"{"message":"You are being rate limited.","retry_after":0.3,"global":false}"#,
            ),
            Reply::status(200).body(r#"{"id":"1","content":"x"}"#),
        ],
    );
    discord.set_default(
        "/api/webhooks/2/deleted",
        Reply::status(404).body(r#"{"message":"Unknown Webhook","code":10015}"#),
    );
    let routes = format!(
        r#"
[[routes]]
name = "discord-ok"
source = "stripe"
action = "discord"
config = {{ webhook_url = "{ok}", content = "Paid {{{{ event.amount | money(event.currency) }}}}", embeds = [{{ title = "{{{{ event.type }}}}" }}] }}

[[routes]]
name = "discord-deleted"
source = "stripe"
action = "discord"
config = {{ webhook_url = "{deleted}", content = "x" }}
"#,
        ok = discord.url("/api/webhooks/1/tok"),
        deleted = discord.url("/api/webhooks/2/deleted"),
    );
    let gw = gateway("discord-action", &routes, &[]).await;
    let id = send(&gw, "evt_discord").await;
    let job = job_with_status(&gw, &id, "discord-ok", "delivered").await;
    assert_eq!(job["attempts"], 2, "{job}");
    let posts = discord.received("/api/webhooks/1/tok");
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_millis(300),
        "retry_after honoured"
    );
    assert_eq!(
        posts[1].json(),
        serde_json::json!({"content": "Paid $12.50", "embeds": [{"title": "payment.completed"}]})
    );
    job_with_status(&gw, &id, "discord-deleted", "dead_lettered").await;
    eventually(
        Duration::from_secs(20),
        "the deleted webhook's route disabled",
        || async {
            let routes = admin(&gw, "/admin/routes").await;
            routes.to_string().contains("Unknown Webhook").then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_sends_with_the_token_in_the_path_and_never_shows_it() {
    const BOT_TOKEN: &str = "123456:AAHsecretBotToken";
    let telegram = Receiver::start().await;
    let path = format!("/bot{BOT_TOKEN}/sendMessage");
    telegram.script(
        &path,
        [
            Reply::status(429).body(r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#),
            Reply::status(200).body(r#"{"ok":true,"result":{"message_id":7}}"#),
        ],
    );
    let routes = format!(
        r#"
[[routes]]
name = "telegram"
source = "stripe"
action = "telegram"
config = {{ token = {{ env = "BOT_TOKEN" }}, chat_id = -100123, base_url = "{base}", text = "Paid <b>{{{{ event.amount | money(event.currency) }}}}</b>", parse_mode = "HTML", disable_notification = true }}
"#,
        base = telegram.url(""),
    );
    let gw = gateway("telegram-action", &routes, &[("BOT_TOKEN", BOT_TOKEN)]).await;
    let id = send(&gw, "evt_telegram").await;
    job_with_status(&gw, &id, "telegram", "delivered").await;
    let posts = telegram.received(&path);
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_secs(1),
        "parameters.retry_after honoured"
    );
    assert_eq!(
        posts[1].json(),
        serde_json::json!({"chat_id": -100123, "text": "Paid <b>$12.50</b>", "parse_mode": "HTML", "disable_notification": true})
    );
    let detail = admin(&gw, &format!("/admin/events/{id}")).await;
    assert!(detail.to_string().contains("Too Many Requests"), "{detail}");
    assert!(
        !detail.to_string().contains("AAHsecretBotToken"),
        "{detail}"
    );
    assert!(gw.leaked_secrets().is_empty());
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_pauses_the_route_before_a_429() {
    let api = Receiver::start().await;
    // The first answer succeeds but says the quota is spent until 2 s from now.
    api.script(
        "/quota",
        [Reply::status(200)
            .header("X-RateLimit-Remaining", "0")
            .header("X-RateLimit-Reset", "2")],
    );
    let routes = format!(
        "\n[[routes]]\nname = \"quota\"\nsource = \"stripe\"\naction = \"http\"\nconfig = {{ url = \"{}\" }}\n",
        api.url("/quota")
    );
    let gw = gateway("http-action", &routes, &[]).await;
    let first = send(&gw, "evt_quota_1").await;
    job_with_status(&gw, &first, "quota", "delivered").await;
    let second = send(&gw, "evt_quota_2").await;
    let job = job_with_status(&gw, &second, "quota", "delivered").await;
    assert_eq!(job["attempts"], 1, "a pause is not a failed attempt: {job}");
    let posts = api.received("/quota");
    assert_eq!(posts.len(), 2);
    assert!(
        posts[1].at - posts[0].at >= Duration::from_millis(1_900),
        "the route waited for the reset: {:?}",
        posts[1].at - posts[0].at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_built_on_the_interface_before_1_4_keep_delivering() {
    let routes = r#"
[[routes]]
name = "legacy-ok"
source = "stripe"
action = "legacy-action"
config = { answer = "delivered" }

[[routes]]
name = "legacy-limited"
source = "stripe"
action = "legacy-action"
retry = { schedule = ["1s"] }
config = { answer = "limited" }
"#;
    let mut env: Vec<(String, String)> = vec![("HOOKGATE_ADMIN_TOKEN".into(), TOKEN.into())];
    env.push(("RUST_LOG".into(), "info".into()));
    let gw = start_with(GatewayConfig {
        plugin_files: vec![plugin("stripe"), crate::test_plugin("legacy-action")],
        backend: Backend::Sqlite,
        body: format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"{SECRET}\"]\n{routes}"),
        env,
        ..Default::default()
    })
    .await;
    let plugins = admin(&gw, "/admin/plugins").await.to_string();
    assert!(
        plugins.contains("legacy-action") && plugins.contains("1.3.0"),
        "{plugins}"
    );
    let id = send(&gw, "evt_legacy_action").await;
    let job = job_with_status(&gw, &id, "legacy-ok", "delivered").await;
    assert_eq!(job["attempts"], 1, "{job}");
    assert_eq!(
        job["history"][0]["http_status"], 299,
        "its own status is recorded: {job}"
    );
    // Its rate-limit answer is still honoured: retried after the wait it named.
    let limited = eventually(
        Duration::from_secs(20),
        "the limited route retried",
        || async {
            let detail = admin(&gw, &format!("/admin/events/{id}")).await;
            detail
                .to_string()
                .contains("legacy: limited")
                .then_some(detail)
        },
    )
    .await;
    assert!(limited.to_string().contains("rate_limited"), "{limited}");
}

// One module per service action, against its loopback double.
mod airtable;
mod email;
mod google_sheets;
mod hubspot;
mod notion;
mod teams;
