//! Files only hookgate's own user may touch. The data directory holds the event database (every
//! payload and header received), the key that signs compiled plugin code and that code itself:
//! no other local user should read any of it, and none may plant code there. The process
//! umask is not to be trusted with that (a common 022 makes everything world-readable), so
//! these helpers set the modes themselves: directories 0700, files 0600.
//!
//! Elsewhere than on unix they create the same directories and files with the platform's
//! default access control; there the data directory's ACL decides.
//!
//! This module is the lowest layer: it uses nothing of the crate, so the store and the plugin
//! runtime can both use it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Owner only: read, write, enter.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
/// Owner only: read, write.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// The bits that let the group or others in.
#[cfg(unix)]
const SHARED_BITS: u32 = 0o077;
/// The sticky bit: a directory shared by design (`/tmp`).
#[cfg(unix)]
const STICKY: u32 = 0o1000;

/// Creates `dir` and any missing parent with mode 0700. An existing directory that lets the
/// group or others in is tightened (one info line says so), because hookgate's files inside
/// were reachable by them until now; a sticky directory such as `/tmp` is shared by design
/// and tightening it would break the machine, so it is left alone with a warning.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & SHARED_BITS != 0 {
            if mode & STICKY != 0 {
                tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "a shared (sticky) directory holds hookgate's private files; its mode is left alone: give hookgate a directory of its own");
                return Ok(());
            }
            let tightened = mode & !SHARED_BITS;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(tightened))?;
            tracing::info!(dir = %dir.display(), from = format!("{mode:o}"), to = format!("{tightened:o}"), "directory made private to hookgate's user");
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Options that create a file with mode 0600 (the umask can only remove bits from that);
/// add `.create(true)`, `.write(true)` and so on as usual. An existing file keeps its mode:
/// see [`restrict_file`].
pub fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Tightens an open file to owner-only if the group or others may read or write it (it was
/// made before hookgate set modes, or by a hand's `cp`); one info line names `path`.
pub fn restrict_file(file: &File, path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o7777;
        if mode & SHARED_BITS != 0 {
            let tightened = mode & !SHARED_BITS;
            file.set_permissions(std::fs::Permissions::from_mode(tightened))?;
            tracing::info!(file = %path.display(), from = format!("{mode:o}"), to = format!("{tightened:o}"), "file made private to hookgate's user");
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}

/// Makes sure `path` exists as a file private to hookgate's user: created empty with 0600 if
/// absent, tightened if wider. For files another library creates with the umask (SQLite's
/// database: creating it first makes SQLite keep its mode, and give it to its `-wal` and
/// `-shm` files).
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    let file = private_file_options()
        .create(true)
        .append(true)
        .open(path)?;
    restrict_file(&file, path)
}

/// Writes `bytes` to `path` atomically with mode 0600: a fresh temporary file next to it
/// (created exclusively, so a link planted under its name is never followed), synced, then
/// renamed over `path` (which replaces a link there instead of writing through it). Readers
/// see the old content or the new, never a part. A crash can leave the temporary file,
/// named `<file name>.tmp<pid>-<n>`, for its directory's owner to sweep.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary_name(path);
    let result = create_exclusive(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `<name>.tmp<pid>-<n>` beside `path`: unique within the process (concurrent writers of one
/// name never share a temporary file) and recognisable as a leftover after a crash.
fn temporary_name(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}-{n}", std::process::id()));
    path.with_file_name(name)
}

/// Creates `path` exclusively with mode 0600. Something already there (a crashed writer's
/// leftover, or a link someone planted) is removed (a link itself, not its target) and the
/// creation tried once more; a second failure is an error.
fn create_exclusive(path: &Path) -> io::Result<File> {
    let create = || {
        private_file_options()
            .write(true)
            .create_new(true)
            .open(path)
    };
    match create() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            create()
        }
        other => other,
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn directories_are_created_and_tightened_to_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);

        let wide = root.path().join("wide");
        std::fs::create_dir(&wide).unwrap();
        std::fs::set_permissions(&wide, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&wide).unwrap();
        assert_eq!(mode(&wide), 0o700);

        // A shared sticky directory (what /tmp is) is never tightened.
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        create_private_dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o1777);
    }

    #[test]
    fn files_are_written_owner_only_and_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_private_file(&path, b"one").unwrap();
        assert_eq!(mode(&path), 0o600);
        write_private_file(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_link_planted_at_the_name_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let path = dir.path().join("entry");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_private_file(&path, b"ours").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), b"ours");

        // Same for a link planted at a temporary name.
        let tmp = dir.path().join("planted");
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        create_exclusive(&tmp).unwrap().write_all(b"ours").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(mode(&tmp), 0o600);
    }

    #[test]
    fn existing_files_are_tightened_and_new_ones_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hookgate.db");
        ensure_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(std::fs::read(&db).unwrap(), b"");

        let old = dir.path().join("old.db");
        std::fs::write(&old, b"data").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(std::fs::read(&old).unwrap(), b"data", "content untouched");

        let lock = dir.path().join("hookgate.lock");
        private_file_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .unwrap();
        assert_eq!(mode(&lock), 0o600);
    }
}
