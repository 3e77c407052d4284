//! Hot reload: the plugins directory is watched; a new or changed `*.wasm` is loaded (read,
//! compiled off the async runtime, linked, metadata smoke-called) and only then swapped in, so
//! requests in flight finish on the version they started with and a bad file never replaces a
//! good one. A removed file unloads its plugin.
//!
//! Half-written files: notify reports a file's creation before any byte is in it, so nothing
//! is loaded until the file has been quiet for [`QUIET`] and its size and modification time
//! held still across one more check. Editors' and copy tools' temporary names (dotfiles, `~`,
//! `.tmp`, `.part`, `.swp`) are ignored; write-then-rename shows up as the final name appearing.

use super::registry::{Registry, is_plugin_file};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// How long a file must see no events before it is looked at.
pub const QUIET: Duration = Duration::from_millis(200);
/// The extra wait in which size and modification time must not change.
const SETTLE: Duration = Duration::from_millis(100);

/// Keeps the watch alive; dropping it stops hot reload.
pub struct PluginWatch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for PluginWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginWatch").finish_non_exhaustive()
    }
}

/// Starts watching `dir` and reloading into `registry`.
pub fn watch(registry: Arc<Registry>, dir: PathBuf) -> notify::Result<PluginWatch> {
    let (tx, rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                let relevant = matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                );
                if relevant {
                    for path in event.paths {
                        if is_plugin_file(&path) {
                            let _ = tx.send(path);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "plugin directory watch error"),
        })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    tracing::info!(dir = %dir.display(), "watching the plugins directory for changes");
    let task = tokio::spawn(reload_loop(registry, dir, rx));
    Ok(PluginWatch {
        _watcher: watcher,
        task,
    })
}

/// Collects changed paths and handles each once it has been quiet for [`QUIET`].
async fn reload_loop(
    registry: Arc<Registry>,
    dir: PathBuf,
    mut rx: mpsc::UnboundedReceiver<PathBuf>,
) {
    let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
    loop {
        let next_due = pending.values().min().map(|t| *t + QUIET);
        tokio::select! {
            path = rx.recv() => match path {
                Some(path) => {
                    // Events may name the file through another spelling of the directory.
                    let path = path
                        .file_name()
                        .map_or(path.clone(), |name| dir.join(name));
                    pending.insert(path, Instant::now());
                }
                None => return,
            },
            () = sleep_until(next_due) => {
                let now = Instant::now();
                let mut due: Vec<PathBuf> = pending
                    .iter()
                    .filter(|(_, t)| now.duration_since(**t) >= QUIET)
                    .map(|(p, _)| p.clone())
                    .collect();
                // Removals first: a rename or a v1 → v2 swap frees the name before the new
                // file claims it.
                due.sort_by_key(|p| p.exists());
                for path in due {
                    pending.remove(&path);
                    if !handle(&registry, &path).await {
                        // Still changing: look again after the next quiet period.
                        pending.insert(path, Instant::now());
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

fn fingerprint(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// Loads, reloads or unloads `path`; false when the file is still being written.
async fn handle(registry: &Registry, path: &Path) -> bool {
    let Some(before) = fingerprint(path) else {
        registry.unload_file(path).await;
        return true;
    };
    tokio::time::sleep(SETTLE).await;
    if fingerprint(path) != Some(before) {
        return false;
    }
    registry.reload_file(path).await;
    true
}
