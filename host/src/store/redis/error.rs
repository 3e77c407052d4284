//! Errors of the Redis backend, and how they reach the rest of hookgate.
//!
//! At run time every failure to talk to Redis is [`StoreError::Unavailable`] (ingest answers
//! 503 with Retry-After; nothing was acknowledged), and a reply this code cannot decode is
//! [`StoreError::Corrupt`]. At start, [`OpenError`] says what is wrong with the URL, the
//! credentials or the durability of the server, naming the URL without its password (an
//! unreachable server is an outage, not an error: the store opens not ready).

use crate::store::StoreError;

/// A failed Redis call.
#[derive(Debug, thiserror::Error)]
pub(super) enum Error {
    /// Connection, I/O or server error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A reply of an unexpected shape.
    #[error("unexpected reply from redis: {0}")]
    Reply(String),
    /// Redis's persistence could lose an ack and config requires durability: nothing is
    /// acknowledged until that changes.
    #[error(
        "Redis could lose acknowledged events ({0}); no insert is acknowledged while \
         storage.require_durable is set"
    )]
    NotDurable(String),
}

/// Whether an error means Redis could not be reached (as opposed to refusing something).
pub(super) fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped()
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Redis(e) => StoreError::Unavailable(format!("redis: {e}")),
            e @ Error::NotDurable(_) => StoreError::Unavailable(e.to_string()),
            Error::Reply(what) => StoreError::Corrupt(what),
        }
    }
}

/// A failed call, straight to the rest of hookgate (the role implementations' `?`).
impl From<redis::RedisError> for StoreError {
    fn from(e: redis::RedisError) -> StoreError {
        Error::Redis(e).into()
    }
}

/// Why the Redis store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL does not parse.
    #[error("storage.url {url:?} is not a usable Redis URL: {reason}")]
    BadUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server refused the credentials (or wants some).
    #[error("Redis at {url} refused the connection's credentials: {reason}")]
    Auth {
        /// The URL, password redacted.
        url: String,
        /// The server's answer.
        reason: String,
    },
    /// The server answered the first contact with something unusable.
    #[error("Redis at {url} gave an unexpected answer: {reason}")]
    Server {
        /// The URL, password redacted.
        url: String,
        /// What it said.
        reason: String,
    },
    /// The server's persistence could lose an acknowledged event, and config refuses that.
    #[error(
        "Redis at {url} could lose acknowledged events: {reason}; configure appendonly yes with \
         appendfsync always (or use Redis >= 7.2, where hookgate waits with WAITAOF), or set \
         [storage] require_durable = false to accept the risk"
    )]
    NotDurable {
        /// The URL, password redacted.
        url: String,
        /// Which setting.
        reason: String,
    },
}

impl OpenError {
    /// Classifies an error of the first contact; `password` is scrubbed from its text too.
    pub(super) fn connecting(url: &str, password: Option<&str>, e: &redis::RedisError) -> Self {
        let url = redact(url);
        let reason = scrub(&e.to_string(), password);
        let auth = e.kind() == redis::ErrorKind::AuthenticationFailed
            || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
            || reason.contains("AUTH");
        if auth {
            OpenError::Auth { url, reason }
        } else {
            OpenError::Server { url, reason }
        }
    }
}

/// `text` with `password` replaced by `***`.
pub(super) fn scrub(text: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() => text.replace(p, "***"),
        _ => text.to_owned(),
    }
}

pub use crate::config::redact_url as redact;

/// The password of a URL, to scrub it from error texts.
pub(super) fn password_of(url: &str) -> Option<String> {
    crate::config::url_password(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("redis://app:s3cret@db.internal:6379/0"),
            "redis://app:***@db.internal:6379/0"
        );
        assert_eq!(redact("redis://s3cret@db:6379"), "redis://***@db:6379");
        assert_eq!(redact("redis://db:6379/0"), "redis://db:6379/0");
        assert_eq!(redact("rediss://:p@ss@db/1"), "rediss://:***@db/1");
        // A password may hold '/', '?' or '#'.
        assert_eq!(
            redact("rediss://app:pa/ss?w#rd@db.internal:6380/0"),
            "rediss://app:***@db.internal:6380/0"
        );
        assert_eq!(password_of("redis://:a/b@db/0").as_deref(), Some("a/b"));
        assert_eq!(
            password_of("redis://app:s3cret@db/0").as_deref(),
            Some("s3cret")
        );
        assert_eq!(password_of("redis://db/0"), None);
        assert_eq!(scrub("WRONGPASS s3cret", Some("s3cret")), "WRONGPASS ***");
    }
}
