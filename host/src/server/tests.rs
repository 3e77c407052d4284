//! The admin API's description against the router that serves it, and against the types
//! its answers are made of.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_admin_routes() {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            let path = path.strip_prefix("/admin").expect("admin paths").to_owned();
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let mut routed: Vec<(String, String)> = ADMIN_ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    documented.sort();
    routed.sort();
    assert_eq!(documented, routed, "openapi.json and the router disagree");

    // And the router really serves each one: an unrouted path would be axum's empty 404 (or a
    // 405), every admin handler answers JSON.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(crate::store::SqliteStore::open(dir.path()).unwrap());
    let ingest = crate::ingest::tests::stripe_ingest(store.clone()).await;
    let mut state = AppState::new(Arc::new(ingest), store);
    state.admin_token = Some(crate::config::Secret::new("t0ken"));
    let app = app(Arc::new(state));
    for (method, path) in ADMIN_ENDPOINTS {
        let uri = format!(
            "/admin{}",
            path.replace("{id}", "evt_x").replace("{name}", "crm")
        );
        let request = Request::builder()
            .method(*method)
            .uri(&uri)
            .header("authorization", "Bearer t0ken")
            .header("content-type", "application/json")
            .body(Body::from("{\"all\":true}"))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap_or_else(|_| panic!("{method} {uri} is not routed"));
    }
}

/// The schema at `#/…` of `doc` that `schema` refers to, or `schema` itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let path = reference.strip_prefix("#/").expect("a local $ref");
            resolve(doc, path.split('/').fold(doc, |at, key| &at[key]))
        }
        None => schema,
    }
}

/// The JSON Schema type words `value` satisfies.
fn kinds(value: &Value) -> &'static [&'static str] {
    match value {
        Value::Null => &["null"],
        Value::Bool(_) => &["boolean"],
        Value::Number(n) if n.is_u64() || n.is_i64() => &["integer", "number"],
        Value::Number(_) => &["number"],
        Value::String(_) => &["string"],
        Value::Array(_) => &["array"],
        Value::Object(_) => &["object"],
    }
}

/// What is wrong with `value` against `schema`: its fields must be exactly the documented
/// `properties` (and every `required` one), at every depth the schema describes, each of the
/// documented `type`, `enum` word or `const`.
pub(crate) fn mismatches(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !kinds(value).iter().any(|k| types.contains(k)) {
        out.push(format!("{at}: {value} is not of type {types:?}"));
    }
    if let Some(words) = schema["enum"].as_array()
        && !words.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {words:?}"));
    }
    if let Some(word) = schema.get("const")
        && word != value
    {
        out.push(format!("{at}: {value} is not {word}"));
    }
    if let (Some(properties), Some(fields)) = (schema["properties"].as_object(), value.as_object())
    {
        let documented: BTreeSet<&String> = properties.keys().collect();
        let present: BTreeSet<&String> = fields.keys().collect();
        if documented != present {
            out.push(format!(
                "{at}: fields {present:?}, documented {documented:?}"
            ));
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            if !required.as_str().is_some_and(|r| fields.contains_key(r)) {
                out.push(format!("{at}: required {required} is missing"));
            }
        }
        for (name, sub) in properties {
            if let Some(field) = fields.get(name) {
                out.extend(mismatches(doc, sub, field, &format!("{at}.{name}")));
            }
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, item) in values.iter().enumerate() {
            out.extend(mismatches(doc, items, item, &format!("{at}[{i}]")));
        }
    }
    out
}

/// The documented schema of `method path`'s answer with `status` (an error without a schema
/// of its own has the common error body).
pub(crate) fn answer_schema<'a>(
    doc: &'a Value,
    method: &str,
    path: &str,
    status: u16,
) -> &'a Value {
    let operation = &doc["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} answers {status}, which is not documented"
    );
    let schema = &resolve(doc, response)["content"]["application/json"]["schema"];
    if schema.is_null() {
        assert!(status >= 400, "{method} {path} {status} documents no body");
        &doc["components"]["schemas"]["Error"]
    } else {
        schema
    }
}

/// `value` must be exactly what openapi.json documents for `method path` answering `status`.
pub(crate) fn assert_documented(method: &str, path: &str, status: u16, value: &Value) {
    let doc: Value = serde_json::from_str(OPENAPI).expect("valid JSON");
    let schema = answer_schema(&doc, method, path, status);
    let problems = mismatches(&doc, schema, value, &format!("{method} {path} {status}"));
    assert!(problems.is_empty(), "{}\nin {value:#}", problems.join("\n"));
}

/// Every answer type, filled in (every list with an entry, every option set), against the
/// document: each serializes to exactly the documented fields, and reads back as itself (what
/// the CLI does with the server's answer).
#[test]
fn every_answer_type_has_exactly_the_documented_fields() {
    use crate::delivery::BulkReplay;
    use crate::delivery::breaker::CircuitState;
    use crate::model::{AttemptOutcome, EventStatus, JobStatus};
    use api::*;

    fn check<T>(method: &str, path: &str, answer: &T) -> (String, String)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let value = serde_json::to_value(answer).unwrap();
        assert_documented(method, path, 200, &value);
        let back: T = serde_json::from_value(value).unwrap();
        assert_eq!(&back, answer, "{method} {path} reads back as itself");
        (method.to_owned(), path.to_owned())
    }
    let attempt = Attempt::from(&crate::store::Attempt {
        number: 1,
        route: "crm".into(),
        started_at_ms: 1_700_000_000_000,
        duration_ms: 12,
        outcome: AttemptOutcome::Permanent,
        http_status: Some(422),
        error: Some("HTTP 422".into()),
    });
    let job = Job {
        route: "crm".into(),
        status: JobStatus::DeadLettered,
        attempts: 1,
        due_at: "2023-11-14T22:13:20.000Z".into(),
        last_error: Some("HTTP 422".into()),
        history: vec![attempt],
    };
    let dead_letter = DeadLetter::from(crate::store::DeadLetter {
        event_id: "evt_1".into(),
        route: Some("crm".into()),
        source: "stripe".into(),
        event_type: "payment.completed".into(),
        platform_event_id: "evt_stripe_1".into(),
        attempts: 1,
        error: Some("HTTP 422".into()),
        received_at_ms: 1_700_000_000_000,
        dead_lettered_at_ms: 1_700_000_000_100,
    });
    let plugin = Plugin {
        name: "stripe".into(),
        kind: PluginKind::Platform,
        version: "1.0.0".into(),
        wit_version: "1.2.0".into(),
        description: "Stripe".into(),
        file: "plugins/stripe.wasm".into(),
        sha256: "ab".repeat(32),
        loaded_at: "2023-11-14T22:13:20.000Z".into(),
        from_cache: true,
        calls: 3,
        failures: 0,
    };
    let mut checked = vec![
        check(
            "GET",
            "/admin/events",
            &Page {
                items: vec![EventItem::from(crate::store::EventSummary {
                    id: "evt_1".into(),
                    source: "stripe".into(),
                    event_type: "payment.completed".into(),
                    status: EventStatus::Pending,
                    received_at_ms: 1_700_000_000_000,
                    jobs: 1,
                    delivered: 0,
                    dead_lettered: 1,
                })],
                next_cursor: Some("c".into()),
            },
        ),
        check(
            "GET",
            "/admin/events/{id}",
            &EventDetail {
                event: serde_json::json!({"id": "evt_1", "payload": {}}),
                status: EventStatus::Pending,
                delivery: Delivery::of(EventStatus::Pending, std::slice::from_ref(&job)),
                error: Some("why".into()),
                platform_event_id: "evt_platform".into(),
                received_at: "2023-11-14T22:13:20.000Z".into(),
                jobs: vec![job],
            },
        ),
        check(
            "GET",
            "/admin/dlq",
            &Page {
                items: vec![dead_letter],
                next_cursor: Some("c".into()),
            },
        ),
        check(
            "POST",
            "/admin/dlq/{id}/replay",
            &Replayed {
                status: Queued::Queued,
                event_id: "evt_1".into(),
                routes: vec!["crm".into()],
            },
        ),
        check(
            "POST",
            "/admin/dlq/replay",
            &BulkReplayed::from(BulkReplay {
                queued: vec!["evt_1".into()],
                failed: vec![("evt_2".into(), "no configured route".into())],
                next_cursor: Some("c".into()),
            }),
        ),
        check(
            "GET",
            "/admin/routes",
            &Routes {
                routes: vec![DestinationStatus {
                    name: "crm".into(),
                    action: "forward".into(),
                    circuit: CircuitState::HalfOpen,
                    in_flight: 2,
                    paused_for_ms: Some(1500),
                    held_for_ms: Some(2500),
                    disabled: Some("HTTP 410".into()),
                }],
            },
        ),
        check(
            "POST",
            "/admin/routes/{name}/enable",
            &RouteEnabled {
                status: Enabled::Enabled,
                route: "crm".into(),
                was_disabled: true,
            },
        ),
        check(
            "GET",
            "/admin/plugins",
            &Plugins {
                plugins: vec![plugin],
                errors: vec![PluginError {
                    file: "plugins/bad.wasm".into(),
                    error: "not a component".into(),
                }],
                rejections: vec![Rejection {
                    file: "plugins/bad.wasm".into(),
                    count: 2,
                }],
            },
        ),
    ];
    checked.push(("GET".into(), "/admin/openapi.json".into()));
    let mut routed: Vec<(String, String)> = ADMIN_ENDPOINTS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), format!("/admin{p}")))
        .collect();
    checked.sort();
    routed.sort();
    assert_eq!(checked, routed, "every admin answer is checked");

    // The error body, and every word each enum can say.
    let error = ErrorBody {
        status: Failed::Failed,
        error: "no such event".into(),
    };
    assert_documented(
        "GET",
        "/admin/events/{id}",
        404,
        &serde_json::to_value(&error).unwrap(),
    );
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let schemas = &doc["components"]["schemas"];
    let detail = answer_schema(&doc, "GET", "/admin/events/{id}", 200);
    same_words(
        AttemptOutcome::ALL,
        &schemas["Attempt"]["properties"]["outcome"],
    );
    same_words(JobStatus::ALL, &schemas["Job"]["properties"]["status"]);
    same_words(
        &[EventStatus::Pending, EventStatus::DeadLettered],
        &detail["properties"]["status"],
    );
    same_words(
        &[
            Delivery::NoRoutes,
            Delivery::Pending,
            Delivery::Delivered,
            Delivery::DeadLettered,
            Delivery::PartiallyDeadLettered,
        ],
        &detail["properties"]["delivery"],
    );
    same_words(
        &[
            CircuitState::Closed,
            CircuitState::Open,
            CircuitState::HalfOpen,
        ],
        &schemas["Route"]["properties"]["circuit"],
    );
    same_words(
        &[PluginKind::Platform, PluginKind::Action],
        &schemas["Plugin"]["properties"]["kind"],
    );
    for kind in [PluginKind::Platform, PluginKind::Action] {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
}

#[test]
fn the_delivery_summary() {
    use crate::model::{EventStatus, JobStatus};
    use api::{Delivery, Job};
    let jobs = |statuses: &[JobStatus]| -> Vec<Job> {
        statuses
            .iter()
            .map(|s| Job {
                route: "r".into(),
                status: *s,
                attempts: 0,
                due_at: String::new(),
                last_error: None,
                history: Vec::new(),
            })
            .collect()
    };
    use JobStatus::{DeadLettered as D, Delivered as Ok, Pending as P};
    for (status, of, summary) in [
        (EventStatus::Pending, vec![], Delivery::NoRoutes),
        (EventStatus::DeadLettered, vec![], Delivery::DeadLettered),
        (EventStatus::Pending, vec![P, Ok, D], Delivery::Pending),
        (EventStatus::Pending, vec![Ok, Ok], Delivery::Delivered),
        (EventStatus::Pending, vec![D, D], Delivery::DeadLettered),
        (
            EventStatus::Pending,
            vec![Ok, D],
            Delivery::PartiallyDeadLettered,
        ),
    ] {
        assert_eq!(
            Delivery::of(status, &jobs(&of)),
            summary,
            "{status:?} {of:?}"
        );
    }
}

/// `values` serialize to exactly the words `schema`'s `enum` lists.
fn same_words<T: serde::Serialize>(values: &[T], schema: &Value) {
    let said: BTreeSet<String> = values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let documented: BTreeSet<String> = schema["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .map(|w| w.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(said, documented, "the words in code and in openapi.json");
}

#[test]
fn the_schema_check_can_fail() {
    // The checks above must be able to fail: a missing, an extra, a mistyped field and an
    // undocumented word are each found.
    let doc: Value = serde_json::from_str(OPENAPI).unwrap();
    let schema = answer_schema(&doc, "POST", "/admin/dlq/{id}/replay", 200);
    let good = serde_json::json!({"status": "queued", "event_id": "evt_1", "routes": ["crm"]});
    assert!(mismatches(&doc, schema, &good, "").is_empty());
    for bad in [
        serde_json::json!({"status": "queued", "event_id": "evt_1"}),
        serde_json::json!({"status": "queued", "event_id": "evt_1", "routes": [], "extra": 1}),
        serde_json::json!({"status": "queued", "event_id": 1, "routes": []}),
        serde_json::json!({"status": "done", "event_id": "evt_1", "routes": []}),
        serde_json::json!({"status": "queued", "event_id": "evt_1", "routes": [1]}),
    ] {
        assert!(!mismatches(&doc, schema, &bad, "").is_empty(), "{bad}");
    }
    let job = &doc["components"]["schemas"]["Job"];
    let mut entry = serde_json::json!({"route": "crm", "status": "pending", "attempts": 0,
        "due_at": "t", "last_error": null, "history": [{"attempt": 1, "at": "t",
        "duration_ms": 1, "outcome": "delivered", "http_status": 200, "error": null}]});
    assert!(mismatches(&doc, job, &entry, "").is_empty());
    entry["history"][0]["outcome"] = "timeout".into();
    assert!(
        !mismatches(&doc, job, &entry, "").is_empty(),
        "through $ref and items"
    );
}
