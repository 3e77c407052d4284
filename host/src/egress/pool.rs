//! Keep-alive connections to destinations, reused across deliveries. Without them every
//! delivery paid a DNS lookup, a TCP connect and (for https) a TLS handshake, and left a
//! socket in TIME-WAIT (`ss` counted ~39,000 of them during one loopback benchmark run).
//!
//! A pooled connection goes to an address the egress policy checked when it was opened, so
//! reuse cannot bypass the policy (and a DNS change cannot redirect it). Connections are
//! handed back only after their response body was read to the end, and are taken again only
//! while hyper reports them ready and they have been idle for less than [`IDLE_TIMEOUT`] —
//! shorter than common server keep-alive timeouts, so a destination rarely closes one just as
//! a request goes out (and when it does, the client resends a request hyper hands back
//! unsent). None is reused once [`MAX_LIFETIME`] old, so a destination that moved to another
//! address (DNS failover) is reached there within minutes even by a busy route.

use hyper::client::conn::http1::SendRequest;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasmtime_wasi_http::WasiBody;

/// How long an idle connection is kept.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Age after which a connection is closed instead of being reused.
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);
/// Idle connections kept per destination (the default per-route in-flight cap is lower).
const MAX_IDLE_PER_DESTINATION: usize = 64;
/// Idle connections kept in all.
const MAX_IDLE_TOTAL: usize = 512;

/// Where a connection goes: scheme, host as written in the URL, port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    /// TLS or not.
    pub https: bool,
    /// Host name or address literal.
    pub host: String,
    /// Port.
    pub port: u16,
}

/// An open connection and when it was opened.
pub struct Conn {
    /// Where requests go.
    pub sender: SendRequest<WasiBody>,
    /// When the connection was opened.
    pub opened: Instant,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// The idle connections, by destination.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<Destination, Vec<Idle>>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("idle", &self.idle_count())
            .finish()
    }
}

/// Whether a connection idle since `since` and opened at `opened` may still be reused.
fn fresh(since: Instant, opened: Instant, now: Instant) -> bool {
    now.duration_since(since) < IDLE_TIMEOUT && now.duration_since(opened) < MAX_LIFETIME
}

fn usable(idle: &Idle, now: Instant) -> bool {
    fresh(idle.since, idle.conn.opened, now) && idle.conn.sender.is_ready()
}

impl Pool {
    /// A ready connection to `to`, most recently used first (the likeliest to be alive).
    pub fn take(&self, to: &Destination) -> Option<Conn> {
        let now = Instant::now();
        let mut idle = self.idle.lock().expect("pool lock poisoned");
        let list = idle.get_mut(to)?;
        let found = std::iter::from_fn(|| list.pop()).find(|i| usable(i, now));
        if list.is_empty() {
            idle.remove(to);
        }
        found.map(|i| i.conn)
    }

    /// Keeps `conn` for the next request to `to`, unless the pool is full.
    pub fn put(&self, to: Destination, conn: Conn) {
        let now = Instant::now();
        let mut idle = self.idle.lock().expect("pool lock poisoned");
        let mut total: usize = idle.values().map(Vec::len).sum();
        if total >= MAX_IDLE_TOTAL {
            // Full: drop what expired or closed everywhere, so destinations no longer used
            // cannot hold the pool's room forever.
            idle.retain(|_, list| {
                list.retain(|i| usable(i, now));
                !list.is_empty()
            });
            total = idle.values().map(Vec::len).sum();
        }
        let list = idle.entry(to).or_default();
        list.retain(|i| usable(i, now));
        if list.len() < MAX_IDLE_PER_DESTINATION && total < MAX_IDLE_TOTAL {
            list.push(Idle { conn, since: now });
        }
    }

    /// Idle connections held.
    pub fn idle_count(&self) -> usize {
        let idle = self.idle.lock().expect("pool lock poisoned");
        idle.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_expire_by_idle_time_and_by_age() {
        let opened = Instant::now();
        let at = |secs: u64| opened + Duration::from_secs(secs);
        assert!(fresh(opened, opened, at(14)), "idle 14 s");
        assert!(!fresh(opened, opened, at(15)), "idle 15 s");
        // Busy (just used) but old: closed rather than reused.
        assert!(fresh(at(299), opened, at(299)));
        assert!(!fresh(at(300), opened, at(300)));
    }
}
