//! The admin API's description against the router that serves it.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
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
