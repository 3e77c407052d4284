//! The Redis layout's version: `P layout` holds the number of the key layout (see [`keys`])
//! the data under the prefix follows. It is checked on the first contact, before any insert is
//! acknowledged: a prefix whose data a newer hookgate wrote (a higher number) is refused, since
//! this build would misread it; data of the first layout, written before the number existed,
//! is stamped. A later layout change adds its migration here, run on the same first contact.
//!
//! [`keys`]: super::keys

use super::error::Error;
use super::keys::Keys;
use redis::aio::ConnectionManager;

/// The layout this build reads and writes.
pub(super) const LATEST: u32 = 1;

/// Checks (and on a prefix without one, records) the layout number.
pub(super) async fn ensure(conn: &mut ConnectionManager, keys: &Keys) -> Result<(), Error> {
    let found: Option<String> = redis::cmd("GET")
        .arg(keys.layout())
        .query_async(conn)
        .await?;
    match found.as_deref().map(str::parse::<u32>) {
        Some(Ok(v)) if v <= LATEST => Ok(()),
        Some(Ok(v)) => Err(Error::Reply(format!(
            "the data under prefix {:?} has layout {v}, written by a newer hookgate (this one knows layouts up to {LATEST}); refusing to use it: run the newer hookgate, or give this one another storage.key_prefix",
            keys.prefix()
        ))),
        Some(Err(_)) => Err(Error::Reply(format!(
            "{} holds {:?}, not a layout number",
            keys.layout(),
            found.unwrap_or_default()
        ))),
        None => {
            let existing: bool = redis::cmd("EXISTS")
                .arg(keys.events())
                .query_async(conn)
                .await?;
            // NX: two nodes starting at once both stamp the same number.
            let _: Option<String> = redis::cmd("SET")
                .arg(keys.layout())
                .arg(LATEST)
                .arg("NX")
                .query_async(conn)
                .await?;
            if existing {
                tracing::info!(
                    prefix = keys.prefix(),
                    layout = LATEST,
                    "Redis data of the first layout: stamped with its layout number"
                );
            }
            Ok(())
        }
    }
}
