//! The router driven in-process with fault-injecting stores: whatever the store does short of
//! a commit, the sender never sees a 2xx.

use super::*;
use crate::config::Config;
use crate::ingest::Ingest;
use crate::model::EventRecord;
use crate::model::NewEvents;
use crate::runtime::Registry;
use crate::runtime::{Limits, Runtime};
use crate::store::Store;
use crate::store::{
    Attempt, DisabledRoute, DlqFilter, DlqPage, EventFilter, EventPage, JobRecord, LeasedJob, Next,
    QueueStats, Receipt, StoreError,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use hookgate_sdk::crypto::{Hash, hmac};
use std::path::Path;
use tower::ServiceExt;

/// Implements [`Store`] for a fault-injecting store: the ingest-side methods as given, every
/// delivery-side method failing.
macro_rules! test_store {
    ($store:ty, { $($ingest:tt)* }) => {
        #[async_trait::async_trait]
        impl Store for $store {
            $($ingest)*
        async fn lease(
            &self,
            _now: i64,
            _lease: i64,
            _limit: usize,
            _skip: Vec<String>,
        ) -> Result<Vec<LeasedJob>, StoreError> {
            Err(injected())
        }
        async fn finish(&self, _job: i64, _lease: i64, _a: Attempt, _n: Next) -> Result<bool, StoreError> {
            Err(injected())
        }
        async fn defer(&self, _job: i64, _lease: i64, _due: i64) -> Result<(), StoreError> {
            Err(injected())
        }
        async fn attempts_for_event(&self, _id: &str) -> Result<Vec<Attempt>, StoreError> {
            Err(injected())
        }
        async fn dead_letters(
            &self,
            _f: DlqFilter,
            _c: Option<String>,
            _l: usize,
        ) -> Result<DlqPage, StoreError> {
            Err(injected())
        }
        async fn replay(&self, _id: &str, _r: Vec<String>, _now: i64) -> Result<Vec<String>, StoreError> {
            Err(injected())
        }
        async fn disable_route(&self, _r: &str, _why: &str, _now: i64) -> Result<(), StoreError> {
            Err(injected())
        }
        async fn enable_route(&self, _r: &str) -> Result<bool, StoreError> {
            Err(injected())
        }
        async fn disabled_routes(&self) -> Result<Vec<DisabledRoute>, StoreError> {
            Err(injected())
        }
        async fn last_received(&self, _s: &str) -> Result<Option<i64>, StoreError> {
            Err(injected())
        }
        async fn list_events(
            &self,
            _f: EventFilter,
            _c: Option<String>,
            _l: usize,
        ) -> Result<EventPage, StoreError> {
            Err(injected())
        }
        async fn queue_stats(&self, _now: i64) -> Result<QueueStats, StoreError> {
            Err(injected())
        }
        }
    };
}

fn injected() -> StoreError {
    StoreError::Unavailable("injected failure".into())
}

/// A store whose every write fails, as a full disk or a lost database would.
#[derive(Debug)]
struct FailingStore;

test_store!(FailingStore, {
    async fn insert(&self, _events: NewEvents) -> Result<Receipt, StoreError> {
        Err(StoreError::Unavailable("injected failure".into()))
    }
    async fn get_event(&self, _id: &str) -> Result<Option<EventRecord>, StoreError> {
        Err(StoreError::Unavailable("injected failure".into()))
    }
    async fn jobs_for_event(&self, _id: &str) -> Result<Vec<JobRecord>, StoreError> {
        Err(StoreError::Unavailable("injected failure".into()))
    }
    async fn count_events(&self) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable("injected failure".into()))
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("injected failure".into()))
    }
});

/// A store that never answers a write: the request must not be acknowledged meanwhile.
#[derive(Debug, Default)]
struct StalledStore {
    entered: tokio::sync::Notify,
}

test_store!(StalledStore, {
    async fn insert(&self, _events: NewEvents) -> Result<Receipt, StoreError> {
        self.entered.notify_one();
        std::future::pending().await
    }
    async fn get_event(&self, _id: &str) -> Result<Option<EventRecord>, StoreError> {
        Ok(None)
    }
    async fn jobs_for_event(&self, _id: &str) -> Result<Vec<JobRecord>, StoreError> {
        Ok(Vec::new())
    }
    async fn count_events(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
});

async fn app_with(store: Arc<dyn Store>) -> Router {
    app(Arc::new(AppState::new(Arc::new(ingest_with(store).await))))
}

async fn ingest_with(store: Arc<dyn Store>) -> Ingest {
    let config = Config::parse(
        "[sources.stripe]\nplugin = \"stripe\"\nsecrets = [\"whsec_t\"]\n",
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
    let mut state = AppState::new(Arc::new(ingest_with(Arc::new(FailingStore)).await));
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
    let app = app_with(Arc::new(FailingStore)).await;
    let response = app.clone().oneshot(signed_request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let ready = app
        .oneshot(Request::get("/ready").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_is_never_acknowledged() {
    let store = Arc::new(StalledStore::default());
    let app = app_with(store.clone()).await;
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
    async fn take_token(
        &self,
        _: &str,
        _: crate::config::RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
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
        ingest_with(store.clone())
            .await
            .with_cluster(crate::cluster::Cluster::Shared(Arc::new(
                UnreachableCluster,
            )));
    ingest.sources.get_mut("stripe").unwrap().config.rate_limit = Some(crate::config::RateLimit {
        per_second: 100.0,
        burst: 100,
    });
    let response = app(Arc::new(AppState::new(Arc::new(ingest))))
        .oneshot(signed_request())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(store.count_events().await.unwrap(), 0);
}
