//! Read access to a gateway's SQLite store, the ground truth of "stored".

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// An event row as the tests need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// hookgate id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Normalized type.
    pub event_type: String,
    /// Status text.
    pub status: String,
    /// Dead-letter error.
    pub error: Option<String>,
    /// Envelope JSON.
    pub envelope: serde_json::Value,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

fn open(data_dir: &Path) -> Option<Connection> {
    let path = data_dir.join("hookgate.db");
    path.exists().then(|| {
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open store")
    })
}

/// Number of stored events (0 before the store exists).
pub fn count(data_dir: &Path) -> u64 {
    open(data_dir).map_or(0, |c| {
        c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .expect("count") as u64
    })
}

/// The event with `id`, if stored.
pub fn event(data_dir: &Path, id: &str) -> Option<Row> {
    let conn = open(data_dir)?;
    conn.query_row(
        "SELECT id, source, type, status, error, envelope, payload FROM events WHERE id = ?1",
        [id],
        |r| {
            Ok(Row {
                id: r.get(0)?,
                source: r.get(1)?,
                event_type: r.get(2)?,
                status: r.get(3)?,
                error: r.get(4)?,
                envelope: serde_json::from_str(&r.get::<_, String>(5)?).expect("envelope is JSON"),
                payload: r.get(6)?,
            })
        },
    )
    .optional()
    .expect("query")
}

/// Every stored event id.
pub fn ids(data_dir: &Path) -> Vec<String> {
    let Some(conn) = open(data_dir) else {
        return Vec::new();
    };
    let mut stmt = conn.prepare("SELECT id FROM events").expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// Route names of the delivery jobs of event `id`, in creation order.
pub fn job_routes(data_dir: &Path, id: &str) -> Vec<String> {
    let Some(conn) = open(data_dir) else {
        return Vec::new();
    };
    let mut stmt = conn
        .prepare("SELECT route FROM jobs WHERE event_id = ?1 ORDER BY id")
        .expect("prepare");
    stmt.query_map([id], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// Statuses of the delivery jobs of event `id`, in creation order.
pub fn job_statuses(data_dir: &Path, id: &str) -> Vec<String> {
    let Some(conn) = open(data_dir) else {
        return Vec::new();
    };
    let mut stmt = conn
        .prepare("SELECT status FROM jobs WHERE event_id = ?1 ORDER BY id")
        .expect("prepare");
    stmt.query_map([id], |r| r.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}
