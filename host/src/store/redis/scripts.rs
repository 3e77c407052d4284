//! The Lua scripts that make each state change of the store one atomic step, and how they
//! are called.
//!
//! A script runs alone on the server: no other client sees half of an insert, a lease or a
//! finish. Redis does not roll a script back when it fails half way, so the scripts check
//! what they need before their first write, and are fed only arguments this crate built.
//! Redis refuses a writing script outright when it is out of memory, before it starts.
//!
//! Scripts are sent by hash (`EVALSHA`); after a server restart (which empties its script
//! cache) the first call gets `NOSCRIPT`, loads the script and runs it again.

use redis::aio::ConnectionManager;
use redis::{Cmd, FromRedisValue, RedisError, Script};
use std::sync::LazyLock;

const COMMON: &str = include_str!("lua/common.lua");

/// One script, hashed once.
pub(super) struct Lua(Script);

impl Lua {
    fn writing(body: &str) -> Lua {
        Lua(Script::new(&format!("{COMMON}{body}")))
    }

    fn reading(body: &str) -> Lua {
        Lua(Script::new(body))
    }

    /// A script that declares the keys it touches (`KEYS`), without the queue's prelude.
    fn keyed(body: &str) -> Lua {
        Lua(Script::new(body))
    }

    /// `EVALSHA <hash> 0`: the caller appends the arguments.
    pub(super) fn call(&self) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.0.get_hash()).arg(0);
        cmd
    }

    /// `EVALSHA <hash> <n> <keys...>`: the caller appends the arguments.
    pub(super) fn call_keys(&self, keys: &[&str]) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(self.0.get_hash()).arg(keys.len()).arg(keys);
        cmd
    }

    /// Loads the script (after `NOSCRIPT`).
    pub(super) async fn load(&self, conn: &mut ConnectionManager) -> Result<(), RedisError> {
        self.0.load_async(conn).await.map(drop)
    }
}

/// Every script of the backend.
pub(super) struct Scripts {
    pub insert: Lua,
    pub lease: Lua,
    pub finish: Lua,
    pub defer: Lua,
    pub replay: Lua,
    pub prune: Lua,
    pub jobs: Lua,
    pub dlq_items: Lua,
    pub event_items: Lua,
    pub take_token: Lua,
    pub hold: Lua,
    pub holds: Lua,
}

pub(super) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    insert: Lua::writing(include_str!("lua/insert.lua")),
    lease: Lua::writing(include_str!("lua/lease.lua")),
    finish: Lua::writing(include_str!("lua/finish.lua")),
    defer: Lua::writing(include_str!("lua/defer.lua")),
    replay: Lua::writing(include_str!("lua/replay.lua")),
    prune: Lua::writing(include_str!("lua/prune.lua")),
    jobs: Lua::reading(include_str!("lua/jobs.lua")),
    dlq_items: Lua::reading(include_str!("lua/dlq_items.lua")),
    event_items: Lua::reading(include_str!("lua/event_items.lua")),
    take_token: Lua::keyed(include_str!("lua/take_token.lua")),
    hold: Lua::keyed(include_str!("lua/hold.lua")),
    holds: Lua::keyed(include_str!("lua/holds.lua")),
});

/// Whether an error means the server does not know the script (yet).
pub(super) fn is_noscript(e: &RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
}

/// Runs `cmd` (built from [`Lua::call`]), loading the script once if the server lost it.
pub(super) async fn run<T: FromRedisValue>(
    conn: &mut ConnectionManager,
    script: &Lua,
    cmd: &Cmd,
) -> Result<T, RedisError> {
    match cmd.query_async(conn).await {
        Err(e) if is_noscript(&e) => {
            script.load(conn).await?;
            cmd.query_async(conn).await
        }
        other => other,
    }
}
