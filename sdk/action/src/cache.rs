//! The host's cache for the calling plugin and the current route (`hookgate:plugin/cache`):
//! memory only, bounded by the host, gone on restart. Its use is what would otherwise be
//! fetched on every delivery, an OAuth access token above all:
//!
//! ```ignore
//! let token = match cache::get("access_token") {
//!     Some(token) => String::from_utf8(token).map_err(|_| ...)?,
//!     None => {
//!         let (token, expires_in_ms) = fetch_token()?;
//!         let _ = cache::set("access_token", token.as_bytes(), expires_in_ms);
//!         token
//!     }
//! };
//! ```
//!
//! A failed `set` costs only the next delivery a fetch, so callers usually ignore it.

/// The value stored under `key`, unless it expired or was never stored.
pub fn get(key: &str) -> Option<Vec<u8>> {
    imp::get(key)
}

/// Stores `value` under `key` for `ttl_ms` milliseconds (the host caps it). Refused with the
/// reason when the key or value is too large, or outside a delivery (`check_config`).
pub fn set(key: &str, value: &[u8], ttl_ms: u64) -> Result<(), String> {
    imp::set(key, value, ttl_ms)
}

/// Forgets `key`: for a token the service has just refused, so the retry fetches a new one.
pub fn remove(key: &str) {
    imp::remove(key)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::hookgate::plugin::cache;

    pub fn get(key: &str) -> Option<Vec<u8>> {
        cache::get(key)
    }

    pub fn set(key: &str, value: &[u8], ttl_ms: u64) -> Result<(), String> {
        cache::set(key, value, ttl_ms)
    }

    pub fn remove(key: &str) {
        cache::remove(key)
    }
}

/// Natively (a plugin's unit tests) the cache is a per-thread map without expiry, so code
/// that uses it can be tested as it runs in the gateway.
#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static ENTRIES: RefCell<HashMap<String, Vec<u8>>> = RefCell::new(HashMap::new());
    }

    pub fn get(key: &str) -> Option<Vec<u8>> {
        ENTRIES.with(|e| e.borrow().get(key).cloned())
    }

    pub fn set(key: &str, value: &[u8], _ttl_ms: u64) -> Result<(), String> {
        ENTRIES.with(|e| e.borrow_mut().insert(key.to_owned(), value.to_vec()));
        Ok(())
    }

    pub fn remove(key: &str) {
        ENTRIES.with(|e| e.borrow_mut().remove(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natively_the_cache_is_a_map() {
        assert_eq!(get("token"), None);
        set("token", b"abc", 1_000).unwrap();
        assert_eq!(get("token").as_deref(), Some(&b"abc"[..]));
        remove("token");
        assert_eq!(get("token"), None);
    }
}
