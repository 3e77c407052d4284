//! Harness for hookgate's end-to-end tests: start the real `hookgate` binary on a free
//! loopback port with real plugins, sign requests the way each platform does (independently of
//! the plugins' own code), poll for conditions instead of sleeping, read what the store holds
//! through the admin API (the same on either backend), and run a real redis-server for the Redis
//! backend's tests.

pub mod gateway;
pub mod plugin;
pub mod poll;
pub mod receiver;
pub mod redis;
pub mod sign;

pub use gateway::{Backend, Gateway, GatewayConfig};
pub use poll::eventually;
pub use receiver::{Receiver, Reply};

/// Seconds since the Unix epoch, for signed timestamps.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}
