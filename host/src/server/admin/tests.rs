//! The admin API driven in-process through the real router, store and delivery engine (whose
//! workers do not run: jobs are moved by hand), every answer checked against openapi.json.

use crate::delivery::{Deliverer, destinations};
use crate::egress::Egress;
use crate::ingest::RouteTable;
use crate::model::AttemptOutcome;
use crate::server::tests::assert_documented;
use crate::server::{AppState, app};
use crate::store::{Attempt, Next, SqliteStore, Store};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request};
use hookgate_sdk::crypto::{Hash, hmac};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

const ROUTE: &str = "[[routes]]\nname = \"crm\"\nsource = \"stripe\"\naction = \"forward\"\n\
    config = { url = \"http://127.0.0.1:9/hook\" }\n";

struct Gateway {
    app: Router,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn gateway() -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let ingest = crate::ingest::tests::stripe_ingest_with(store.clone(), ROUTE).await;
    let config = ingest.config.clone();
    let deliverer = Deliverer::new(
        store.clone(),
        ingest.registry.clone(),
        Egress::new(&config.egress).unwrap(),
        destinations::from_config(&config),
        RouteTable::new(&config.routes),
        crate::cluster::Cluster::Local,
        Arc::new(crate::model::SystemClock),
    )
    .await
    .unwrap();
    let mut state = AppState::new(Arc::new(ingest), store.clone()).with_deliverer(deliverer);
    state.admin_token = Some(crate::config::Secret::new("t0ken"));
    Gateway {
        app: app(Arc::new(state)),
        store,
        _dir: dir,
    }
}

impl Gateway {
    /// Posts a Stripe webhook signed with the source's secret; the stored event ids.
    async fn webhook(&self, body: &str) -> Vec<String> {
        let t = crate::model::unix_ms(std::time::SystemTime::now()) / 1000;
        let mac = hmac(
            Hash::Sha256,
            b"whsec_t",
            &[t.to_string().as_bytes(), b".", body.as_bytes()],
        );
        let request = Request::post("/webhooks/stripe")
            .header("stripe-signature", format!("t={t},v1={}", hex::encode(mac)))
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let answer: Value = serde_json::from_slice(&body).unwrap();
        serde_json::from_value(answer["events"].clone()).unwrap()
    }

    /// Calls the admin API as `token`: status, headers and the JSON body.
    async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        token: &str,
    ) -> (u16, HeaderMap, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{method} {uri}: not JSON: {body:?}"));
        (parts.status.as_u16(), parts.headers, value)
    }

    /// Calls the admin API and checks the answer against openapi.json (`path` is the
    /// documented path, `{id}` and all); returns the status and body.
    async fn checked(
        &self,
        method: &str,
        path: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, value) = self.call(method, uri, body, "t0ken").await;
        assert_documented(method, path, status, &value);
        (status, value)
    }

    /// Dead-letters every due job, as a worker would after a 422.
    async fn dead_letter_all(&self) {
        let now = crate::model::unix_ms(std::time::SystemTime::now());
        let jobs = self
            .store
            .lease(now, std::time::Duration::from_secs(60), 100, Vec::new())
            .await
            .unwrap();
        assert!(!jobs.is_empty(), "nothing to dead-letter");
        for job in jobs {
            let attempt = Attempt {
                number: job.attempts + 1,
                route: job.route.clone(),
                started_at_ms: now,
                duration_ms: 7,
                outcome: AttemptOutcome::Permanent,
                http_status: Some(422),
                error: Some("HTTP 422".into()),
            };
            let next = Next::DeadLetter("HTTP 422".into());
            let changed = self
                .store
                .finish(job.id, job.lease_until_ms, attempt, next)
                .await
                .unwrap();
            assert!(changed);
        }
    }
}

fn payment(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"payment_intent.succeeded","created":1700000000,"data":{{"object":{{"id":"pi_1","object":"payment_intent","amount":500,"currency":"eur"}}}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_what_openapi_json_documents() {
    let gw = gateway().await;
    let id = gw.webhook(&payment("evt_admin_1")).await.remove(0);
    gw.dead_letter_all().await;
    let event_path = format!("/admin/events/{id}");

    let (status, detail) = gw
        .checked("GET", "/admin/events/{id}", &event_path, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["event"]["id"], id.as_str());
    assert_eq!(detail["event"]["payload"]["id"], "evt_admin_1");
    assert_eq!(detail["status"], "pending");
    assert_eq!(detail["delivery"], "dead_lettered");
    assert_eq!(detail["error"], Value::Null);
    assert_eq!(detail["platform_event_id"], "evt_admin_1");
    let job = &detail["jobs"][0];
    assert_eq!(
        (&job["route"], &job["status"], &job["attempts"]),
        (&json!("crm"), &json!("dead_lettered"), &json!(1))
    );
    assert_eq!(job["last_error"], "HTTP 422");
    let attempt = &job["history"][0];
    assert_eq!(
        (
            &attempt["attempt"],
            &attempt["outcome"],
            &attempt["http_status"]
        ),
        (&json!(1), &json!("permanent"), &json!(422))
    );
    assert_eq!(attempt["duration_ms"], 7);

    let (status, page) = gw
        .checked("GET", "/admin/events", "/admin/events?source=stripe", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["id"], id.as_str());
    assert_eq!(page["items"][0]["type"], "payment.completed");
    assert_eq!(
        (
            &page["items"][0]["jobs"],
            &page["items"][0]["dead_lettered"]
        ),
        (&json!(1), &json!(1))
    );
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, page) = gw
        .checked("GET", "/admin/dlq", "/admin/dlq?route=crm&limit=1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["event_id"], id.as_str());
    assert_eq!(page["items"][0]["route"], "crm");
    assert_eq!(page["items"][0]["error"], "HTTP 422");

    let (status, routes) = gw
        .checked("GET", "/admin/routes", "/admin/routes", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(routes["routes"][0]["name"], "crm");
    assert_eq!(routes["routes"][0]["circuit"], "closed");
    assert_eq!(
        routes["routes"][0]["disabled"],
        Value::Null,
        "null, not absent"
    );

    let (status, enabled) = gw
        .checked(
            "POST",
            "/admin/routes/{name}/enable",
            "/admin/routes/crm/enable",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        enabled,
        json!({"status": "enabled", "route": "crm", "was_disabled": false})
    );

    let (status, plugins) = gw
        .checked("GET", "/admin/plugins", "/admin/plugins", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(plugins["plugins"][0]["name"], "stripe");
    assert_eq!(plugins["plugins"][0]["kind"], "platform");

    let (status, replayed) = gw
        .checked(
            "POST",
            "/admin/dlq/{id}/replay",
            &format!("/admin/dlq/{id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        replayed,
        json!({"status": "queued", "event_id": id, "routes": ["crm"]})
    );

    // Two more dead letters, replayed one page at a time.
    gw.webhook(&payment("evt_admin_2")).await;
    gw.dead_letter_all().await;
    let (status, first) = gw
        .checked(
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            Some(json!({"route": "crm", "limit": 1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&first["status"], &first["replayed"]),
        (&json!("queued"), &json!(1))
    );
    assert_eq!(first["failed"], json!([]));
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (status, second) = gw
        .checked(
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            Some(json!({"route": "crm", "limit": 1, "cursor": cursor})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(second["replayed"], 1);
    assert_eq!(second["next_cursor"], Value::Null);
}

/// A refused request: method, documented path, uri, body, status, part of the message.
type Refusal = (
    &'static str,
    &'static str,
    &'static str,
    Option<Value>,
    u16,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_status_and_the_error_body() {
    let gw = gateway().await;
    let cases: &[Refusal] = &[
        (
            "GET",
            "/admin/events/{id}",
            "/admin/events/evt_nope",
            None,
            404,
            "no such event",
        ),
        (
            "GET",
            "/admin/events",
            "/admin/events?since=yesterday",
            None,
            400,
            "since: \"yesterday\" is neither RFC 3339 nor Unix milliseconds",
        ),
        (
            "GET",
            "/admin/events",
            "/admin/events?colour=red",
            None,
            400,
            "unknown field `colour`",
        ),
        (
            "GET",
            "/admin/dlq",
            "/admin/dlq?cursor=garbage",
            None,
            400,
            "invalid cursor \"garbage\"",
        ),
        (
            "GET",
            "/admin/dlq",
            "/admin/dlq?until=x",
            None,
            400,
            "until: \"x\" is neither RFC 3339 nor Unix milliseconds",
        ),
        (
            "POST",
            "/admin/dlq/{id}/replay",
            "/admin/dlq/evt_missing/replay",
            None,
            404,
            "no such event",
        ),
        (
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            None,
            400,
            "give a filter (source, route, since, until) or {\"all\": true}",
        ),
        (
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            Some(json!({})),
            400,
            "give a filter (source, route, since, until) or {\"all\": true}",
        ),
        (
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            Some(json!({"source": ""})),
            400,
            "give a filter (source, route, since, until) or {\"all\": true}",
        ),
        (
            "POST",
            "/admin/dlq/replay",
            "/admin/dlq/replay",
            Some(json!({"rout": "crm"})),
            400,
            "invalid body: unknown field `rout`",
        ),
        (
            "POST",
            "/admin/routes/{name}/enable",
            "/admin/routes/nope/enable",
            None,
            404,
            "no route named \"nope\"",
        ),
    ];
    for (method, path, uri, body, status, message) in cases {
        let (got, headers, value) = gw.call(method, uri, body.clone(), "t0ken").await;
        assert_eq!(got, *status, "{method} {uri}: {value}");
        assert_eq!(value["status"], "error", "{method} {uri}");
        let error = value["error"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{method} {uri}: {error}");
        assert!(headers.get("retry-after").is_none(), "{method} {uri}");
        assert_documented(method, path, got, &value);
    }

    let (status, headers, value) = gw.call("GET", "/admin/dlq", None, "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer");
    assert_eq!(
        value,
        json!({"status": "error", "error": "missing or wrong Bearer token"})
    );
    assert_documented("GET", "/admin/dlq", 401, &value);
}
