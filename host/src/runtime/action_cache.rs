//! The host side of the `cache` import of 1.4.0 action plugins: a small memory-only map per
//! (plugin, route), so an OAuth access token is fetched once per expiry instead of once per
//! delivery. Nothing here is persisted, shared across plugins or routes, or shown anywhere: the
//! values are usually credentials.
//!
//! Every dimension is bounded, because a plugin is untrusted code: entries per scope, key and
//! value sizes, lifetime. Entries outlive a configuration reload, so a plugin keys them by what
//! they were made from (the google-sheets action keys its token by the credentials' identity). Expiry is monotonic (`Instant`), so a wall-clock jump neither
//! resurrects nor kills a token early.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entries one (plugin, route) may hold; a full scope drops the entry expiring soonest.
pub const MAX_ENTRIES_PER_SCOPE: usize = 16;
/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes (an access token is ~2 KB; a JWKS a few).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Longest lifetime of an entry, whatever the plugin asks (OAuth tokens live an hour or a day).
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

/// Whose entries: the plugin's name and the route's.
type Scope = (Arc<str>, Arc<str>);

/// The entries of every (plugin, route), in memory.
#[derive(Default)]
pub struct ActionCache {
    scopes: Mutex<HashMap<Scope, HashMap<String, Entry>>>,
}

impl std::fmt::Debug for ActionCache {
    /// Counts only: the values are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scopes = self.scopes.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("ActionCache")
            .field("scopes", &scopes)
            .finish()
    }
}

impl ActionCache {
    fn with_scope<T>(&self, scope: &Scope, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        // A panic while holding the lock cannot leave an entry half-written (each operation is
        // one insert or remove), so a poisoned lock is still sound to use.
        let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let entries = scopes.entry(scope.clone()).or_default();
        let now = Instant::now();
        entries.retain(|_, e| e.expires > now);
        let out = f(entries);
        if entries.is_empty() {
            scopes.remove(scope);
        }
        out
    }
}

/// The cache as one delivery's store sees it: its plugin and route.
pub struct CacheScope {
    cache: Arc<ActionCache>,
    scope: Scope,
}

impl CacheScope {
    /// The scope of `plugin` delivering along `route`.
    pub fn new(cache: Arc<ActionCache>, plugin: Arc<str>, route: &str) -> CacheScope {
        CacheScope {
            cache,
            scope: (plugin, Arc::from(route)),
        }
    }

    /// The live value under `key`. A read creates nothing: a scope that never stored
    /// anything stays absent (expired entries go at the next write).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let scopes = self.cache.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let entry = scopes.get(&self.scope)?.get(key)?;
        (entry.expires > Instant::now()).then(|| entry.value.clone())
    }

    /// Stores `value` under `key` for `ttl` (capped at [`MAX_TTL`]).
    pub fn set(&self, key: String, value: Vec<u8>, ttl: Duration) -> Result<(), String> {
        if key.len() > MAX_KEY_BYTES {
            return Err(format!("cache keys are at most {MAX_KEY_BYTES} bytes"));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(format!("cache values are at most {MAX_VALUE_BYTES} bytes"));
        }
        if ttl.is_zero() {
            self.remove(&key);
            return Ok(());
        }
        let expires = Instant::now() + ttl.min(MAX_TTL);
        self.cache.with_scope(&self.scope, |entries| {
            if entries.len() >= MAX_ENTRIES_PER_SCOPE && !entries.contains_key(&key) {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone());
                if let Some(soonest) = soonest {
                    entries.remove(&soonest);
                }
            }
            entries.insert(key, Entry { value, expires });
        });
        Ok(())
    }

    /// Forgets `key`.
    pub fn remove(&self, key: &str) {
        self.cache.with_scope(&self.scope, |entries| {
            entries.remove(key);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(cache: &Arc<ActionCache>, plugin: &str, route: &str) -> CacheScope {
        CacheScope::new(cache.clone(), Arc::from(plugin), route)
    }

    #[test]
    fn entries_are_scoped_to_plugin_and_route() {
        let cache = Arc::new(ActionCache::default());
        let a = scope(&cache, "google-sheets-action", "sheet");
        a.set("token".into(), b"t1".to_vec(), Duration::from_secs(60))
            .unwrap();
        assert_eq!(a.get("token").as_deref(), Some(&b"t1"[..]));
        assert_eq!(
            scope(&cache, "google-sheets-action", "other").get("token"),
            None
        );
        assert_eq!(scope(&cache, "http-action", "sheet").get("token"), None);
        a.remove("token");
        assert_eq!(a.get("token"), None);
    }

    #[test]
    fn entries_expire_and_bounds_hold() {
        let cache = Arc::new(ActionCache::default());
        let s = scope(&cache, "p", "r");
        s.set("short".into(), b"x".to_vec(), Duration::from_millis(1))
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(s.get("short"), None, "expired");
        assert!(
            s.set(
                "k".repeat(MAX_KEY_BYTES + 1),
                vec![],
                Duration::from_secs(1)
            )
            .is_err()
        );
        assert!(
            s.set(
                "v".into(),
                vec![0; MAX_VALUE_BYTES + 1],
                Duration::from_secs(1)
            )
            .is_err()
        );
        for i in 0..MAX_ENTRIES_PER_SCOPE + 4 {
            s.set(format!("k{i}"), vec![1], Duration::from_secs(60 + i as u64))
                .unwrap();
        }
        let live = (0..MAX_ENTRIES_PER_SCOPE + 4)
            .filter(|i| s.get(&format!("k{i}")).is_some())
            .count();
        assert_eq!(live, MAX_ENTRIES_PER_SCOPE);
        assert_eq!(s.get("k0"), None, "the soonest-expiring entry went first");
        assert!(s.get(&format!("k{}", MAX_ENTRIES_PER_SCOPE + 3)).is_some());
        assert!(
            !format!("{cache:?}").contains("k1"),
            "Debug shows counts only"
        );
    }
}
