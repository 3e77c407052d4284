//! The delivery engine's side of a cluster: what a node tells the others and what it learns
//! from them. [`crate::cluster`] holds the shared state itself.
//!
//! - **Rate limits**: in a cluster a route's token comes from the shared bucket before the
//!   delivery starts ([`take_delivery_token`]); the node's own bucket is off. A refusal
//!   defers the job and keeps the route out of this node's lease queries until a token is
//!   due. An unreachable backend defers too (briefly): a delivery is never started without a
//!   token, nor dropped for want of one.
//! - **Holds**: when this node's breaker opens, or a destination asks it for a pause (429),
//!   the node publishes a hold as long as its own block ([`publish_hold`]).
//! - **Refresh** ([`follow`]): about once a second every node reads the holds and the store's
//!   disabled routes and merges them into its [`Destinations`]. Per delivery nothing is read:
//!   another node's hold takes effect here within a refresh interval. Disabled routes are
//!   followed on every backend (alone, the store only ever says what this node wrote).

use super::destinations::{Destination, Destinations};
use crate::cluster::{Cluster, Token};
use crate::model::names::route_bucket;
use crate::model::unix_ms;
use crate::store::Store;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Notify, watch};

/// How often a node reads the cluster's holds and the store's disabled routes.
pub const REFRESH: Duration = Duration::from_secs(1);
/// How long a delivery waits when the shared bucket cannot be reached.
const BUCKET_UNAVAILABLE_WAIT: Duration = Duration::from_secs(1);

/// Takes `destination`'s delivery token from the cluster's bucket when the node is in a
/// cluster and the route is rate limited; `Err(wait)` defers the job. Alone, or without a
/// limit, there is nothing to take here (the node's own bucket is taken in
/// [`Destinations::begin`]).
pub async fn take_delivery_token(
    cluster: &Cluster,
    destinations: &Destinations,
    destination: &Destination,
) -> Result<(), Duration> {
    let (Some(shared), Some(limit)) = (cluster.shared(), destination.rate_limit()) else {
        return Ok(());
    };
    // No token for a job the route refuses anyway (busy, circuit open, held, disabled):
    // `begin` defers it; a token taken for it would be a delivery nobody makes.
    if destinations
        .check(&destination.name, Instant::now())
        .is_err()
    {
        return Ok(());
    }
    let name = &destination.name;
    match shared.take_token(&route_bucket(name), limit).await {
        Ok(Token::Granted) => Ok(()),
        Ok(Token::WaitFor(wait)) => {
            destinations.token_wait(name, Instant::now() + wait);
            Err(wait)
        }
        Err(e) => {
            // Logged once per route per wait: the route is skipped meanwhile.
            tracing::warn!(route = %name, error = %e, "cannot reach the shared rate limit; the delivery waits");
            destinations.token_wait(name, Instant::now() + BUCKET_UNAVAILABLE_WAIT);
            Err(BUCKET_UNAVAILABLE_WAIT)
        }
    }
}

/// After an attempt that opened `route`'s circuit or brought a pause: tells the cluster
/// that nobody delivers along it while this node's own block lasts. Best effort: this node
/// holds off either way.
pub async fn publish_hold(cluster: &Cluster, destinations: &Destinations, route: &str) {
    let Some(shared) = cluster.shared() else {
        return;
    };
    let Some(duration) = destinations.blocked_for(route, Instant::now()) else {
        return;
    };
    match shared.hold(route, duration).await {
        Ok(held) => {
            tracing::info!(
                route,
                held_ms = held.as_millis() as u64,
                "route held across the cluster"
            )
        }
        Err(e) => {
            tracing::warn!(route, error = %e, "cannot publish the hold; other nodes may keep delivering")
        }
    }
}

/// Refreshes `destinations` from the store and the cluster every [`REFRESH`] until `stop`,
/// notifying `wake` when a route may take work again.
pub async fn follow(
    store: &dyn Store,
    cluster: &Cluster,
    destinations: &Destinations,
    wake: &Notify,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = false;
    while !*stop.borrow() {
        match refresh(store, cluster, destinations).await {
            Ok(woke) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("cluster state is read again");
                }
                if woke {
                    wake.notify_one();
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot read the cluster's holds and disabled routes; keeping the last known state");
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(REFRESH) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One refresh; returns whether a route may take work again (so the engine looks now).
pub async fn refresh(
    store: &dyn Store,
    cluster: &Cluster,
    destinations: &Destinations,
) -> Result<bool, crate::store::StoreError> {
    let mut woke = false;
    if let Some(shared) = cluster.shared() {
        let holds = shared.holds().await?;
        woke |= destinations.set_holds(&holds, Instant::now());
    }
    let read_at = Instant::now();
    let stored: Vec<(String, String)> = store
        .disabled_routes()
        .await?
        .into_iter()
        .map(|d| (d.route, d.reason))
        .collect();
    let sync = destinations.sync_disabled(&stored, read_at);
    for (route, reason) in &sync.disabled {
        tracing::warn!(
            route,
            reason,
            "route disabled by another node; its jobs wait until POST /admin/routes/{route}/enable"
        );
    }
    for route in &sync.enabled {
        tracing::info!(route, "route re-enabled through another node");
    }
    woke |= !sync.enabled.is_empty();
    for (route, reason) in &sync.unstored {
        match store
            .disable_route(route, reason, unix_ms(SystemTime::now()))
            .await
        {
            Ok(()) => destinations.disable_stored(route),
            Err(e) => {
                tracing::error!(route, error = %e, "cannot persist the disabled route; retrying")
            }
        }
    }
    Ok(woke)
}

#[cfg(test)]
mod tests {
    use super::super::destinations::Wait;
    use super::*;
    use crate::config::Config;
    use crate::store::{RedisOptions, RedisStore, RouteState, SqliteStore};
    use hookgate_testkit::redis::{RedisServer, unique_prefix};
    use std::path::Path;
    use std::sync::Arc;

    const CONFIG: &str = r#"
[storage]
path = "data"
[[routes]]
name = "crm"
source = "*"
action = "forward"
rate_limit = { per_second = 1, burst = 1 }
"#;

    fn destinations(cluster: &Cluster) -> Destinations {
        let config = Config::parse(CONFIG, Path::new("hookgate.toml")).expect("config");
        Destinations::new(
            super::super::destinations::from_config(&config),
            &[],
            cluster,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_node_follows_routes_disabled_and_enabled_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let (a, b) = (destinations(&Cluster::Local), destinations(&Cluster::Local));
        // Node A's 410, as `Deliverer::next_step` records it.
        a.disable("crm", "gone");
        store.disable_route("crm", "gone", 1).await.unwrap();
        a.disable_stored("crm");
        refresh(&store, &Cluster::Local, &b).await.unwrap();
        assert_eq!(
            b.status(Instant::now())[0].disabled.as_deref(),
            Some("gone")
        );
        // Re-enabled through node B's admin API.
        b.enable("crm");
        store.enable_route("crm").await.unwrap();
        assert!(
            refresh(&store, &Cluster::Local, &a).await.unwrap(),
            "wakes A's engine"
        );
        assert_eq!(a.status(Instant::now())[0].disabled, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unstored_410_is_written_again_not_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let a = destinations(&Cluster::Local);
        // The store write after the 410 failed: the next refresh makes it.
        a.disable("crm", "gone");
        refresh(&store, &Cluster::Local, &a).await.unwrap();
        let stored = store.disabled_routes().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].route, "crm");
        assert_eq!(
            a.status(Instant::now())[0].disabled.as_deref(),
            Some("gone")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn holds_and_rate_limits_reach_the_other_node() {
        let server = RedisServer::shared();
        let prefix = unique_prefix();
        let node = || async {
            let store = RedisStore::open(RedisOptions {
                prefix: prefix.clone(),
                ..RedisOptions::new(server.url())
            })
            .await
            .unwrap();
            let cluster = Cluster::Shared(Arc::new(store.shared_state()));
            (store, destinations(&cluster), cluster)
        };
        let (store_a, a, cluster_a) = node().await;
        let (store_b, b, cluster_b) = node().await;
        let config = Config::parse(CONFIG, Path::new("hookgate.toml")).unwrap();
        let all = super::super::destinations::from_config(&config);
        let crm = &all["crm"];

        // One token a second for both nodes together.
        assert_eq!(take_delivery_token(&cluster_a, &a, crm).await, Ok(()));
        let wait = take_delivery_token(&cluster_b, &b, crm).await.unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(
            !b.waiting(Instant::now()).is_empty(),
            "B skips the route meanwhile"
        );

        // A's circuit opens (10 failed attempts, the default volume): B holds off after its
        // next refresh.
        for _ in 0..10 {
            a.begin("crm", Instant::now()).unwrap();
            a.end("crm", Instant::now(), false, None);
        }
        publish_hold(&cluster_a, &a, "crm").await;
        refresh(&store_b, &cluster_b, &b).await.unwrap();
        let status = &b.status(Instant::now())[0];
        let held = status.held_for_ms.expect("held on B");
        assert!(
            held > 29_000 && held <= 30_000,
            "the default cooldown: {held}"
        );
        assert!(matches!(
            b.check("crm", Instant::now()),
            Err(Wait::Until(_))
        ));
        refresh(&store_a, &cluster_a, &a).await.unwrap();
        assert!(a.status(Instant::now())[0].held_for_ms.is_some());
    }
}
