//! Every platform, every way a signature can be wrong: only genuine requests are stored.

use crate::{json, start};
use hookgate_testkit::{Receiver, eventually, now, sign};
use std::time::Duration;

type Headers = Vec<(&'static str, String)>;
type Signer = fn(secret: &str, ts: i64, body: &[u8]) -> Headers;

struct Platform {
    source: &'static str,
    plugin: &'static str,
    secret: &'static str,
    body: &'static str,
    signer: Signer,
    signature_header: &'static str,
    malformed: &'static str,
    empty: &'static str,
    timestamped: bool,
    expected_type: &'static str,
}

const STRIPE_BODY: &str = r#"{"id":"evt_e2e_1","object":"event","type":"payment_intent.succeeded","created":1719847200,"data":{"object":{"id":"pi_1","object":"payment_intent","amount":2000,"currency":"usd","customer":"cus_1"}}}"#;
const GITHUB_BODY: &str = r#"{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{"id":1,"full_name":"octo/hello"},"sender":{"login":"octocat"}}"#;
const SHOPIFY_BODY: &str = r#"{"id":820982911946154508,"currency":"USD","total_price":"19.99","created_at":"2023-03-29T14:00:27-04:00","customer":{"id":1}}"#;
const SLACK_BODY: &str = r#"{"type":"event_callback","event_id":"Ev0E2E","event_time":1700000000,"team_id":"T1","event":{"type":"app_mention","user":"U1","text":"hi","ts":"1700000000.000100","channel":"C1"}}"#;
const STANDARD_BODY: &str = r#"{"type":"user.created","timestamp":"2022-05-31T15:56:31Z","data":{"id":"user_1","object":"user"}}"#;
const STANDARD_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn platforms() -> Vec<Platform> {
    vec![
        Platform {
            source: "stripe",
            plugin: "stripe",
            secret: "whsec_e2e_stripe",
            body: STRIPE_BODY,
            signer: |s, ts, b| vec![("stripe-signature", sign::stripe(&[s], ts, b))],
            signature_header: "stripe-signature",
            malformed: "this is not a signature header",
            empty: "t=1700000000,v1=",
            timestamped: true,
            expected_type: "payment.completed",
        },
        Platform {
            source: "github",
            plugin: "github",
            secret: "e2e github secret",
            body: GITHUB_BODY,
            signer: |s, _, b| {
                vec![
                    ("x-hub-signature-256", sign::github(s, b)),
                    ("x-github-event", "push".into()),
                    (
                        "x-github-delivery",
                        "0a1b2c3d-e2e0-11ee-8000-000000000001".into(),
                    ),
                ]
            },
            signature_header: "x-hub-signature-256",
            malformed: "sha256=not-hex!",
            empty: "sha256=",
            timestamped: false,
            expected_type: "github.push",
        },
        Platform {
            source: "shopify",
            plugin: "shopify",
            secret: "e2e-shopify-secret",
            body: SHOPIFY_BODY,
            signer: |s, _, b| {
                vec![
                    ("x-shopify-hmac-sha256", sign::shopify(s, b)),
                    ("x-shopify-topic", "orders/create".into()),
                    (
                        "x-shopify-event-id",
                        "98880550-7158-44d4-b7cd-2c97c8a091b5".into(),
                    ),
                ]
            },
            signature_header: "x-shopify-hmac-sha256",
            malformed: "%%%not base64%%%",
            empty: "",
            timestamped: false,
            expected_type: "order.created",
        },
        Platform {
            source: "slack",
            plugin: "slack",
            secret: "e2e-slack-signing-secret",
            body: SLACK_BODY,
            signer: |s, ts, b| {
                vec![
                    ("x-slack-signature", sign::slack(s, ts, b)),
                    ("x-slack-request-timestamp", ts.to_string()),
                ]
            },
            signature_header: "x-slack-signature",
            malformed: "v9=zz",
            empty: "v0=",
            timestamped: true,
            expected_type: "slack.app_mention",
        },
        Platform {
            source: "clerk",
            plugin: "standard-webhooks",
            secret: STANDARD_SECRET,
            body: STANDARD_BODY,
            signer: |s, ts, b| {
                vec![
                    ("svix-id", "msg_e2e_1".into()),
                    ("svix-timestamp", ts.to_string()),
                    (
                        "svix-signature",
                        sign::standard_webhooks(s, "msg_e2e_1", ts, b),
                    ),
                ]
            },
            signature_header: "svix-signature",
            malformed: "no-comma-here",
            empty: "v1,",
            timestamped: true,
            expected_type: "user.created",
        },
    ]
}

fn config() -> String {
    platforms()
        .iter()
        .map(|p| {
            format!(
                "[sources.{}]\nplugin = \"{}\"\nsecrets = [\"{}\"]\n",
                p.source, p.plugin, p.secret
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn with_header(
    headers: &[(&'static str, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out: Vec<_> = headers
        .iter()
        .filter(|(n, _)| *n != name)
        .cloned()
        .collect();
    if let Some(v) = value {
        let static_name = headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, _)| *n)
            .expect("header exists");
        out.push((static_name, v.to_owned()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_genuine_requests_are_stored_for_every_platform() {
    // Every stored event is also forwarded, to show the stored payload byte for byte: a
    // delivery is built from the store's copy, with the payload verbatim.
    let rx = Receiver::start().await;
    let forward_all = format!(
        "\n[egress]\nallow_private = [\"127.0.0.1/32\"]\n\n\
         [[routes]]\nname = \"all\"\nsource = \"*\"\naction = \"forward\"\n\
         config = {{ url = \"{}\" }}\n",
        rx.url("/all")
    );
    let gw = start(
        &[
            "stripe",
            "github",
            "shopify",
            "slack",
            "standard-webhooks",
            "forward-action",
        ],
        &(config() + &forward_all),
    )
    .await;
    let mut sent_signatures = Vec::new();
    for (index, p) in platforms().into_iter().enumerate() {
        let ts = now();
        let body = p.body.as_bytes();
        let valid = (p.signer)(p.secret, ts, body);
        let mut refusals: Vec<(&str, Headers, Vec<u8>)> = vec![
            (
                "tampered body",
                valid.clone(),
                p.body.replace('1', "2").into_bytes(),
            ),
            (
                "wrong secret",
                (p.signer)("not-the-secret-whsec_AAAA", ts, body),
                body.to_vec(),
            ),
            (
                "missing signature",
                with_header(&valid, p.signature_header, None),
                body.to_vec(),
            ),
            (
                "malformed signature",
                with_header(&valid, p.signature_header, Some(p.malformed)),
                body.to_vec(),
            ),
            (
                "empty signature",
                with_header(&valid, p.signature_header, Some(p.empty)),
                body.to_vec(),
            ),
        ];
        if p.timestamped {
            refusals.push((
                "stale timestamp",
                (p.signer)(p.secret, ts - 310, body),
                body.to_vec(),
            ));
        }
        // Stripe's own libraries accept timestamps ahead of the receiver's clock; the others
        // refuse both directions.
        if p.timestamped && p.source != "stripe" {
            refusals.push((
                "future timestamp",
                (p.signer)(p.secret, ts + 310, body),
                body.to_vec(),
            ));
        }
        for (case, headers, body) in refusals {
            let response = gw.post(p.source, &headers, body).await;
            assert_eq!(response.status(), 401, "{}: {case}", p.source);
        }
        assert_eq!(
            gw.count_events().await,
            index,
            "{}: nothing refused may be stored",
            p.source
        );

        let response = gw.post(p.source, &valid, body.to_vec()).await;
        assert_eq!(response.status(), 202, "{}: valid request", p.source);
        let reply = json(response).await;
        assert_eq!(reply["status"], "accepted");
        let id = reply["events"][0].as_str().expect("event id").to_owned();
        let stored = gw
            .event(&id)
            .await
            .unwrap_or_else(|| panic!("{}: acknowledged event {id} is stored", p.source));
        let event = &stored["event"];
        assert_eq!(event["source"], p.source);
        assert_eq!(event["type"], p.expected_type, "{}", p.source);
        assert_eq!(stored["status"], "pending");
        assert_eq!(event["platform"], p.plugin);
        assert_eq!(
            event["payload"],
            serde_json::from_slice::<serde_json::Value>(body).unwrap(),
            "{}: the payload is stored",
            p.source
        );
        // The admin API re-serializes JSON; the delivery shows the stored bytes.
        let delivered = eventually(
            Duration::from_secs(20),
            &format!("{}: {id} forwarded", p.source),
            || async {
                rx.received("/all")
                    .into_iter()
                    .find(|r| r.header("idempotency-key") == Some(id.as_str()))
            },
        )
        .await;
        let verbatim = [b",\"payload\":".as_slice(), body, b"}"].concat();
        assert!(
            delivered.body.ends_with(&verbatim),
            "{}: the payload is stored byte for byte: {}",
            p.source,
            String::from_utf8_lossy(&delivered.body)
        );
        assert_eq!(gw.count_events().await, index + 1);
        sent_signatures.extend(
            valid
                .iter()
                .filter(|(n, _)| *n == p.signature_header)
                .map(|(_, v)| v.clone()),
        );
    }
    // Neither a configured secret nor a signature that was sent may reach the logs.
    let logs = gw.logs();
    assert!(
        logs.contains("webhook refused") && logs.contains("webhook stored"),
        "the run was logged:\n{logs}"
    );
    for p in platforms() {
        assert!(!logs.contains(p.secret), "{}: secret in logs", p.source);
    }
    for sig in sent_signatures {
        assert!(
            !logs.contains(&sig),
            "signature header value in logs: {sig}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalized_fields_follow_the_contract() {
    let gw = start(&["stripe", "shopify"], &config()).await;
    let p = &platforms()[0];
    let reply = json(
        gw.post(
            "stripe",
            &(p.signer)(p.secret, now(), STRIPE_BODY.as_bytes()),
            STRIPE_BODY,
        )
        .await,
    )
    .await;
    let stored = gw
        .event(reply["events"][0].as_str().unwrap())
        .await
        .unwrap();
    let e = &stored["event"];
    assert_eq!(e["id"], reply["events"][0]);
    assert_eq!(
        (
            e["source"].as_str(),
            e["platform"].as_str(),
            e["type"].as_str()
        ),
        (Some("stripe"), Some("stripe"), Some("payment.completed"))
    );
    assert_eq!(e["occurred_at"], "2024-07-01T15:20:00Z");
    assert_eq!(
        (e["entity_type"].as_str(), e["entity_id"].as_str()),
        (Some("payment_intent"), Some("pi_1"))
    );
    assert_eq!(
        (
            e["amount"].as_i64(),
            e["currency"].as_str(),
            e["user_id"].as_str()
        ),
        (Some(2000), Some("USD"), Some("cus_1"))
    );

    let shop = &platforms()[2];
    let reply = json(
        gw.post(
            "shopify",
            &(shop.signer)(shop.secret, 0, SHOPIFY_BODY.as_bytes()),
            SHOPIFY_BODY,
        )
        .await,
    )
    .await;
    let stored = gw
        .event(reply["events"][0].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored["event"]["amount"], 1999,
        "Shopify's \"19.99\" is 1999 minor units, exactly"
    );
    assert_eq!(stored["event"]["occurred_at"], "2023-03-29T18:00:27Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_rotation_accepts_old_and_new() {
    let body = "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_new\", \"whsec_old\"]\n\
                [sources.github]\nplugin = \"github\"\nsecrets = [\"gh-new\", \"gh-old\"]\n";
    let gw = start(&["stripe", "github"], body).await;
    for (i, secret) in ["whsec_old", "whsec_new"].iter().enumerate() {
        let payload = STRIPE_BODY.replace("evt_e2e_1", &format!("evt_rot_{i}"));
        let response = gw
            .post(
                "stripe",
                &[(
                    "stripe-signature",
                    sign::stripe(&[secret], now(), payload.as_bytes()),
                )],
                payload,
            )
            .await;
        assert_eq!(response.status(), 202, "stripe signed with {secret}");
    }
    // During Stripe's own roll one header carries a signature per secret.
    let payload = STRIPE_BODY.replace("evt_e2e_1", "evt_rot_both");
    let both = sign::stripe(&["whsec_unknown", "whsec_old"], now(), payload.as_bytes());
    assert_eq!(
        gw.post("stripe", &[("stripe-signature", both)], payload)
            .await
            .status(),
        202
    );
    for (i, secret) in ["gh-old", "gh-new"].iter().enumerate() {
        let headers = [
            (
                "x-hub-signature-256",
                sign::github(secret, GITHUB_BODY.as_bytes()),
            ),
            ("x-github-event", "push".to_owned()),
            ("x-github-delivery", format!("rot-{i}")),
        ];
        assert_eq!(
            gw.post("github", &headers, GITHUB_BODY).await.status(),
            202,
            "github signed with {secret}"
        );
    }
    assert_eq!(gw.count_events().await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_url_verification_is_answered_only_when_signed() {
    let gw = start(
        &["slack"],
        "[sources.slack]\nplugin = \"slack\"\nsecrets = [\"slack-secret\"]\n",
    )
    .await;
    let body = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    let ts = now();
    let headers = [
        (
            "x-slack-signature",
            sign::slack("slack-secret", ts, body.as_bytes()),
        ),
        ("x-slack-request-timestamp", ts.to_string()),
    ];
    let response = gw.post("slack", &headers, body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
    let forged = [
        (
            "x-slack-signature",
            sign::slack("wrong", ts, body.as_bytes()),
        ),
        ("x-slack-request-timestamp", ts.to_string()),
    ];
    assert_eq!(gw.post("slack", &forged, body).await.status(), 401);
    // A GET (a handshake method for some platforms) is no event: refused, nothing stored.
    let get = gw
        .client()
        .get(gw.url("/webhooks/slack?challenge=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 401);
    assert_eq!(gw.count_events().await, 0, "handshakes are not events");
}

/// GitHub sends up to 25 MB and never retries: a ~20 MB push of small values (the worst case
/// for a parser that builds the document) is verified, normalized and stored within the default
/// 64 MiB plugin memory cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mb_github_push_is_normalized_within_the_memory_cap() {
    let gw = start(
        &["github"],
        "[sources.github]\nplugin = \"github\"\nsecrets = [\"big\"]\n",
    )
    .await;
    let commits: Vec<String> = (0..93_000)
        .map(|i| format!(r#"{{"id":{i},"a":[{}]}}"#, ["1"; 100].join(",")))
        .collect();
    let body = format!(
        r#"{{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","repository":{{"id":1,"full_name":"octo/big"}},"sender":{{"login":"octocat"}},"commits":[{}]}}"#,
        commits.join(",")
    );
    assert!(body.len() > 20_000_000, "{} bytes", body.len());
    let headers = [
        ("x-hub-signature-256", sign::github("big", body.as_bytes())),
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", "big-push-1".to_owned()),
    ];
    let response = gw.post("github", &headers, body.clone()).await;
    assert_eq!(response.status(), 202);
    let reply = json(response).await;
    assert!(
        reply.get("dead_lettered").is_none(),
        "normalized, not dead-lettered: {reply}"
    );
    let stored = gw
        .event(reply["events"][0].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(stored["event"]["type"], "github.push");
    // The whole push is stored (the admin API shows it as JSON).
    assert_eq!(
        stored["event"]["payload"],
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    );
}

/// A secret that does not decode (`whsec_` with no base64 after it, a common paste error) is
/// the operator's mistake: 503 with Retry-After, so the platform retries once it is fixed, and
/// an error in the log saying so; never a 401 that tells the sender its request was forged
/// (some senders disable an endpoint that keeps refusing), and never a key anyone could sign
/// with. A source with a usable secret beside it is unaffected (issue 17 item 9).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_secret_answers_503_and_logs_the_configuration_problem() {
    let gw = start(
        &["standard-webhooks"],
        "[sources.broken]\nplugin = \"standard-webhooks\"\nsecrets = [\"whsec_\"]\n\n[sources.rotating]\nplugin = \"standard-webhooks\"\nsecrets = [\"whsec_***\", \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\n",
    )
    .await;
    let body = r#"{"type":"user.created","data":{"id":"user_1"}}"#;
    let ts = now();
    let headers = |secret: &str| {
        vec![
            ("svix-id", "msg_bad_secret".to_owned()),
            ("svix-timestamp", ts.to_string()),
            (
                "svix-signature",
                sign::standard_webhooks(secret, "msg_bad_secret", ts, body.as_bytes()),
            ),
        ]
    };
    // Signed with an empty key: what anyone could compute if an empty key were used.
    let forged = gw.post("broken", &headers("whsec_"), body.to_owned()).await;
    assert_eq!(forged.status(), 503);
    assert!(forged.headers().get("retry-after").is_some());
    assert_eq!(gw.count_events().await, 0);
    assert!(
        gw.logs().contains("no usable secret"),
        "the log names the configuration problem"
    );
    let genuine = gw
        .post(
            "rotating",
            &headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            body.to_owned(),
        )
        .await;
    assert_eq!(genuine.status(), 202);
}
