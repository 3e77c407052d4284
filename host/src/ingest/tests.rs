//! The ingest handler driven in-process with fault-injecting event logs: whatever the store
//! does short of a commit, the sender never sees a 2xx. The fakes implement only the role
//! ingest uses ([`EventLog`]).

use super::Ingest;
use super::handler::ingest;
use crate::config::Config;
use crate::model::{EventRecord, NewEvents};
use crate::runtime::{Limits, Registry, Runtime};
use crate::store::{EventLog, Incoming, Receipt, StoreError, Token};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use hookgate_sdk::crypto::{Hash, hmac};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// An ingest side with one source, `stripe`, on the real Stripe plugin.
pub(crate) async fn stripe_ingest(store: Arc<dyn EventLog>) -> Ingest {
    stripe_ingest_with(store, "").await
}

/// [`stripe_ingest`] with more config after the source (routes, say).
pub(crate) async fn stripe_ingest_with(store: Arc<dyn EventLog>, more: &str) -> Ingest {
    let config = Config::parse(
        &format!("[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_t\"]\n{more}"),
        Path::new("t.toml"),
    )
    .unwrap();
    let runtime = Runtime::new(Limits {
        call_timeout: Duration::from_millis(100),
        memory_limit_bytes: 64 << 20,
    })
    .unwrap();
    let registry = Arc::new(Registry::new(runtime));
    let plugin = Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR")).join("stripe.wasm");
    let loaded = crate::runtime::load_file(registry.runtime(), &plugin)
        .await
        .unwrap();
    registry.insert(loaded).unwrap();
    Ingest::new(Arc::new(config), registry, store)
}

fn webhooks(state: Ingest) -> Router {
    Router::new()
        .route("/webhooks/{source}", post(ingest))
        .with_state(Arc::new(state))
}

fn injected() -> StoreError {
    StoreError::Unavailable("injected failure".into())
}

/// An event log whose every write fails, as a full disk or a lost database would.
#[derive(Debug)]
struct FailingLog;

#[async_trait::async_trait]
impl EventLog for FailingLog {
    async fn insert(&self, _: Incoming, _: NewEvents) -> Result<Receipt, StoreError> {
        Err(injected())
    }
    async fn get_event(
        &self,
        _: &crate::model::EventId,
    ) -> Result<Option<EventRecord>, StoreError> {
        Err(injected())
    }
    async fn last_received(&self, _: &str) -> Result<Option<i64>, StoreError> {
        Err(injected())
    }
}

/// An event log that never answers a write: the request must not be acknowledged meanwhile.
#[derive(Debug, Default)]
struct StalledLog {
    entered: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl EventLog for StalledLog {
    async fn insert(&self, _: Incoming, _: NewEvents) -> Result<Receipt, StoreError> {
        self.entered.notify_one();
        std::future::pending().await
    }
    async fn get_event(
        &self,
        _: &crate::model::EventId,
    ) -> Result<Option<EventRecord>, StoreError> {
        Ok(None)
    }
    async fn last_received(&self, _: &str) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }
}

fn signed_request() -> Request<Body> {
    let body =
        r#"{"id":"evt_fault","type":"charge.succeeded","created":1700000000,"data":{"object":{}}}"#;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mac = hmac(
        Hash::Sha256,
        b"whsec_t",
        &[t.to_string().as_bytes(), b".", body.as_bytes()],
    );
    Request::post("/webhooks/stripe")
        .header("stripe-signature", format!("t={t},v1={}", hex::encode(mac)))
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_means_503_never_2xx() {
    let app = webhooks(stripe_ingest(Arc::new(FailingLog)).await);
    let response = app.oneshot(signed_request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_is_never_acknowledged() {
    let store = Arc::new(StalledLog::default());
    let app = webhooks(stripe_ingest(store.clone()).await);
    let request = tokio::spawn(app.oneshot(signed_request()));
    // The request got as far as the write...
    tokio::time::timeout(Duration::from_secs(5), store.entered.notified())
        .await
        .expect("insert reached");
    // ...and no response exists while the write is outstanding.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !request.is_finished(),
        "no response may be sent while the write is outstanding"
    );
    request.abort();
}

/// Cluster state whose backend is unreachable.
#[derive(Debug)]
struct UnreachableCluster;

#[async_trait::async_trait]
impl crate::cluster::SharedState for UnreachableCluster {
    async fn take_token(&self, _: &str, _: crate::config::RateLimit) -> Result<Token, StoreError> {
        Err(injected())
    }
    async fn hold(&self, _: &str, _: Duration) -> Result<Duration, StoreError> {
        Err(injected())
    }
    async fn holds(&self) -> Result<Vec<(String, Duration)>, StoreError> {
        Err(injected())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_shared_rate_limit_is_a_503_never_a_429_nor_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(crate::store::SqliteStore::open(dir.path()).unwrap());
    let mut ingest =
        stripe_ingest(store.clone())
            .await
            .with_cluster(crate::cluster::Cluster::Shared(Arc::new(
                UnreachableCluster,
            )));
    ingest.sources.get_mut("stripe").unwrap().config.rate_limit = Some(crate::config::RateLimit {
        per_second: 100.0,
        burst: 100,
    });
    let response = webhooks(ingest).oneshot(signed_request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        crate::store::Inspection::count_events(store.as_ref())
            .await
            .unwrap(),
        0
    );
}

#[test]
fn the_public_url_carries_the_query_the_platform_sent() {
    use super::handler::public_url;
    let configured = "https://hooks.example.com/webhooks/meta";
    assert_eq!(
        public_url(configured, Some("hub.mode=subscribe&hub.challenge=42")),
        "https://hooks.example.com/webhooks/meta?hub.mode=subscribe&hub.challenge=42"
    );
    assert_eq!(public_url(configured, None), configured);
    assert_eq!(public_url(configured, Some("")), configured);
    let fixed = "https://hooks.example.com/in?tenant=a";
    assert_eq!(public_url(fixed, Some("x=1")), fixed);
}
