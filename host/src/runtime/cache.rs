//! The compiled-code cache: compiling a plugin costs ~120 ms of CPU (more for big ones), so
//! the machine code is kept in the data directory, keyed by the SHA-256 of the `.wasm` and a
//! hash of everything about the engine that affects code generation (wasmtime version,
//! target, compiler settings). A restart, or a reload of an unchanged file, loads it in about a
//! millisecond instead. Entries no loaded plugin uses are removed.
//!
//! Trust: deserializing runs the cached machine code as it is, so a file name is no proof of
//! where an entry came from. Each entry carries an HMAC-SHA256 tag over the code, bound to the
//! wasm's SHA-256 and the engine key, under a key that lives *outside* the cache directory
//! (`<data dir>/plugin-cache.key`: 32 random bytes, mode 0600, made at first use). Whoever can
//! write the cache directory but cannot read that key can neither make an entry of their own
//! code nor pass a genuine entry of another plugin off as this one's. An entry is read into
//! memory, checked there, and deserialized from those very bytes, so it cannot change between
//! the check and the load. A bad tag is logged, the entry deleted, the plugin recompiled.
//!
//! The data directory and the cache directory are made 0700 and every file written here 0600
//! (see [`crate::fsmode`]): the code and the key are hookgate's user's alone.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const EXTENSION: &str = "cwasm";
/// In every entry's name: entries of earlier formats (untagged) are never looked up, and
/// [`CodeCache::retain`] sweeps them as stale.
const FORMAT: &str = "hmac1";
/// Separates this use of the key from any other it might get.
const DOMAIN: &[u8] = b"hookgate compiled-code cache entry v1\0";
const KEY_BYTES: usize = 32;
/// The tag, then the serialized component.
const TAG_BYTES: usize = 32;
/// Far above any real compilation (a 20 MB plugin compiles to ~60 MB): a larger file is not
/// ours, and is not read into memory.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Compiled plugins on disk.
pub struct CodeCache {
    dir: PathBuf,
    engine_key: String,
    key: hmac::Key,
}

impl std::fmt::Debug for CodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("CodeCache")
            .field("dir", &self.dir)
            .field("engine_key", &self.engine_key)
            .finish_non_exhaustive()
    }
}

/// Why a cache entry is not used.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("its tag does not verify: it is not this hookgate's compilation of this wasm")]
    Tag,
    #[error("wasmtime refuses it: {0:#}")]
    Deserialize(wasmtime::Error),
}

impl CodeCache {
    /// A cache in `dir` for code compiled by `engine`. `dir` and its parent (the data
    /// directory) are created 0700 or tightened to it; the key file sits in the parent, named
    /// after `dir` (`plugin-cache` → `plugin-cache.key`), and is made on first use.
    pub fn new(dir: PathBuf, engine: &Engine) -> std::io::Result<CodeCache> {
        let data_dir = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = dir.file_name().ok_or_else(|| {
            std::io::Error::other(format!("{}: not a directory name", dir.display()))
        })?;
        crate::fsmode::create_private_dir(&data_dir)?;
        crate::fsmode::create_private_dir(&dir)?;
        let mut key_name = name.to_os_string();
        key_name.push(".key");
        let key = load_or_create_key(&data_dir.join(key_name))?;
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        // The standard hasher's algorithm may change between Rust releases; a changed key only
        // costs one recompilation.
        let engine_key = format!("{:016x}", hasher.finish());
        Ok(CodeCache {
            dir,
            engine_key,
            key,
        })
    }

    fn path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir.join(format!(
            "{wasm_sha256}-{}-{FORMAT}.{EXTENSION}",
            self.engine_key
        ))
    }

    /// The key that tags the entry of one wasm: derived from the cache key, the wasm's hash
    /// and the engine key, so a tag made for one (wasm, engine) verifies for no other.
    /// (Deriving it, rather than tagging the concatenation, lets ring check the tag over the
    /// code in place, in constant time, without copying megabytes behind a prefix.)
    fn entry_key(&self, wasm_sha256: &str) -> hmac::Key {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(DOMAIN);
        for part in [wasm_sha256.as_bytes(), self.engine_key.as_bytes()] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part);
        }
        hmac::Key::new(hmac::HMAC_SHA256, context.sign().as_ref())
    }

    /// The cached compilation of the wasm with this hash, if there is one that verifies.
    pub fn load(&self, engine: &Engine, wasm_sha256: &str) -> Option<Component> {
        let path = self.path(wasm_sha256);
        let result = match read_entry(&path) {
            Ok(None) => return None,
            Ok(Some(bytes)) => self.open(engine, wasm_sha256, &bytes),
            Err(e) => Err(Refused::Read(e)),
        };
        match result {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %path.display(), reason = %e, "compiled-code cache entry refused; deleting it and recompiling");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Checks an entry's tag, and only then hands its code to wasmtime.
    fn open(&self, engine: &Engine, wasm_sha256: &str, bytes: &[u8]) -> Result<Component, Refused> {
        let (tag, code) = bytes.split_at_checked(TAG_BYTES).ok_or(Refused::Tag)?;
        hmac::verify(&self.entry_key(wasm_sha256), code, tag).map_err(|_| Refused::Tag)?;
        deserialize(engine, code).map_err(Refused::Deserialize)
    }

    /// Stores a compilation, tagged; failures are logged (the cache is an optimisation,
    /// never a reason to refuse a plugin).
    pub fn store(&self, wasm_sha256: &str, component: &Component) {
        let path = self.path(wasm_sha256);
        let result = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
            .and_then(|code| {
                let tag = hmac::sign(&self.entry_key(wasm_sha256), &code);
                let mut bytes = Vec::with_capacity(TAG_BYTES + code.len());
                bytes.extend_from_slice(tag.as_ref());
                bytes.extend_from_slice(&code);
                crate::fsmode::write_private_file(&path, &bytes)
            });
        if let Err(e) = result {
            tracing::warn!(file = %path.display(), error = %e, "cannot write the compiled-code cache");
        }
    }

    /// Removes every entry except those of the wasm hashes in `keep` (compiled by this
    /// engine, in this format), and leftover temporary files. Returns how many were removed.
    pub fn retain(&self, keep: &HashSet<String>) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let wanted: HashSet<PathBuf> = keep.iter().map(|sha| self.path(sha)).collect();
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(EXTENSION) || n.contains(".cwasm.tmp"));
            if ours && !wanted.contains(&path) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

/// The cache key at `path`, or a new one. A key file that is not exactly one key (truncated,
/// say) is replaced: the entries it tagged are then refused and recompiled, which is safe.
/// One that cannot be read at all is an error (the cache is then off), rather than being
/// replaced behind the back of whoever made it unreadable.
fn load_or_create_key(path: &Path) -> std::io::Result<hmac::Key> {
    match read_key(path) {
        Ok(Some(key)) => return Ok(hmac::Key::new(hmac::HMAC_SHA256, &key)),
        Ok(None) => tracing::info!(file = %path.display(), "creating the compiled-code cache key"),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(file = %path.display(), error = %e, "unusable compiled-code cache key; replacing it (cached plugins recompile once)");
        }
        Err(e) => return Err(e),
    }
    let mut key = [0u8; KEY_BYTES];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| std::io::Error::other("no randomness for the compiled-code cache key"))?;
    crate::fsmode::write_private_file(path, &key)?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &key))
}

/// The key file's bytes (`None`: there is none), after tightening a mode that let others
/// read it.
fn read_key(path: &Path) -> std::io::Result<Option<[u8; KEY_BYTES]>> {
    let Some(mut file) = open_regular(path)? else {
        return Ok(None);
    };
    crate::fsmode::restrict_file(&file, path)?;
    let mut bytes = Vec::with_capacity(KEY_BYTES);
    file.by_ref()
        .take(KEY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    let len = bytes.len();
    bytes.try_into().map(Some).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("holds {len} bytes, not {KEY_BYTES}"),
        )
    })
}

/// An entry's bytes (`None`: there is none).
fn read_entry(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let too_large = || std::io::Error::other("larger than any compilation");
    let len = file.metadata()?.len();
    if len > MAX_ENTRY_BYTES {
        return Err(too_large());
    }
    // Sized up front: one allocation. `take` bounds a file that grows while it is read.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or_default());
    file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(too_large());
    }
    Ok(Some(bytes))
}

/// Opens `path` for reading if it is a regular file (`None`: nothing there). Anything else
/// under the name is an error: a device or a pipe someone put in the cache directory must not
/// be read from (a pipe would block start-up), so its type is looked at before opening (and
/// once more after, on what was opened).
fn open_regular(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    let not_regular = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not a regular file");
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(not_regular()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(Some(file))
}

/// Loads machine code whose tag verified.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, code: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires bytes that `Component::serialize` produced for a compatible
    // engine and nobody altered since. These bytes carry a valid HMAC-SHA256 tag, checked just
    // before in `CodeCache::open`, under a key only hookgate's user can read (a file outside
    // the cache directory, 0600, in a 0700 directory) and bound to this wasm's SHA-256 and this
    // engine's compatibility hash: only `CodeCache::store`, which tags what `serialize` just
    // returned, can have made such a tag. They are the bytes the tag was checked over (read
    // once into memory, not re-read from the file), so they cannot have changed since. wasmtime
    // still checks the header and the engine settings and refuses incompatible code.
    unsafe { Component::deserialize(engine, code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_in(data: &Path, engine: &Engine) -> CodeCache {
        CodeCache::new(data.join("plugin-cache"), engine).unwrap()
    }

    /// Two components that differ, so one's code under the other's name is a forgery. In
    /// binary form: this build of wasmtime has no text-format parser.
    fn components(engine: &Engine) -> (Component, Component) {
        const PREAMBLE: [u8; 8] = [0, b'a', b's', b'm', 0x0d, 0, 0x01, 0];
        // A core module exporting `f`, returning 7: type, function, export, code sections.
        #[rustfmt::skip]
        const MODULE: [u8; 34] = [
            0, b'a', b's', b'm', 1, 0, 0, 0,
            0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
            0x03, 0x02, 0x01, 0x00,
            0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00,
            0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x07, 0x0b,
        ];
        let a = Component::new(engine, PREAMBLE).unwrap();
        let mut with_module = PREAMBLE.to_vec();
        with_module.extend([0x01, MODULE.len() as u8]);
        with_module.extend(MODULE);
        let b = Component::new(engine, &with_module).unwrap();
        (a, b)
    }

    #[test]
    fn keys_depend_on_the_engine_and_stale_entries_go() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = cache_in(dir.path(), &engine);
        assert!(cache.load(&engine, "abc").is_none());
        std::fs::write(cache.path("old"), b"x").unwrap();
        std::fs::write(cache.path("kept"), b"y").unwrap();
        let untagged = dir
            .path()
            .join(format!("plugin-cache/kept-{}.cwasm", cache.engine_key));
        std::fs::write(&untagged, b"an entry of the format before tags").unwrap();
        std::fs::write(dir.path().join("plugin-cache/unrelated.txt"), b"z").unwrap();
        let keep = HashSet::from(["kept".to_owned()]);
        assert_eq!(cache.retain(&keep), 2);
        assert!(cache.path("kept").exists());
        assert!(!untagged.exists());
        assert!(dir.path().join("plugin-cache/unrelated.txt").exists());
        // A corrupt entry is removed instead of crashing anything.
        assert!(cache.load(&engine, "kept").is_none());
        assert!(!cache.path("kept").exists());
    }

    #[test]
    fn an_entry_round_trips_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let (a, _) = components(&engine);
        cache_in(dir.path(), &engine).store("a", &a);
        // A new cache over the same data directory (a restart) reads the same key.
        let cache = cache_in(dir.path(), &engine);
        assert!(cache.load(&engine, "a").is_some());
        assert!(cache.path("a").exists());
    }

    #[test]
    fn forged_entries_are_refused_before_deserializing_and_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = cache_in(dir.path(), &engine);
        let (a, b) = components(&engine);
        let b_code = b.serialize().unwrap();
        // Each forgery below holds a serialization wasmtime would accept: refusing it can
        // only be the tag check, before wasmtime ever sees the bytes.
        // SAFETY: our own fresh serialization, for this engine.
        #[allow(unsafe_code)]
        let accepted = unsafe { Component::deserialize(&engine, &b_code) };
        assert!(accepted.is_ok());

        // 1. Another plugin's genuine, correctly tagged entry, renamed to this wasm's name.
        cache.store("a", &a);
        cache.store("b", &b);
        std::fs::copy(cache.path("b"), cache.path("a")).unwrap();
        assert!(cache.load(&engine, "a").is_none());
        assert!(!cache.path("a").exists(), "the forgery is deleted");

        // 2. Raw code with no tag (what an attacker without the key can write), and code
        // behind a tag made with another key.
        let other_data = tempfile::tempdir().unwrap();
        let other = cache_in(other_data.path(), &engine);
        let forged_tag = hmac::sign(&other.entry_key("a"), &b_code);
        let mut with_foreign_tag = forged_tag.as_ref().to_vec();
        with_foreign_tag.extend_from_slice(&b_code);
        for forged in [b_code.clone(), with_foreign_tag, Vec::new(), vec![0; 31]] {
            std::fs::write(cache.path("a"), &forged).unwrap();
            assert!(cache.load(&engine, "a").is_none());
            assert!(!cache.path("a").exists());
        }

        // 3. One flipped bit in a genuine entry's code.
        cache.store("a", &a);
        let mut bytes = std::fs::read(cache.path("a")).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(cache.path("a"), &bytes).unwrap();
        assert!(cache.load(&engine, "a").is_none());

        // The runtime's path: refused, then compiled and stored afresh, which loads.
        cache.store("a", &a);
        assert!(cache.load(&engine, "a").is_some());
        // And the genuine entry of b still loads under its own name.
        assert!(cache.load(&engine, "b").is_some());
    }

    #[test]
    fn a_damaged_key_is_replaced_and_its_entries_recompile() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let (a, _) = components(&engine);
        cache_in(dir.path(), &engine).store("a", &a);
        let key = dir.path().join("plugin-cache.key");
        std::fs::write(&key, b"short").unwrap();
        let cache = cache_in(dir.path(), &engine);
        assert_eq!(std::fs::read(&key).unwrap().len(), KEY_BYTES);
        assert!(
            cache.load(&engine, "a").is_none(),
            "tagged with the old key"
        );
    }

    #[cfg(unix)]
    #[test]
    fn directories_are_0700_and_files_0600() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("hookgate-data");
        // A data directory made earlier by hand, with the usual umask: tightened.
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let engine = Engine::default();
        let cache = cache_in(&data, &engine);
        let (a, _) = components(&engine);
        cache.store("a", &a);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("plugin-cache")), 0o700);
        assert_eq!(mode(&data.join("plugin-cache.key")), 0o600);
        assert_eq!(mode(&cache.path("a")), 0o600);

        // A key file someone loosened is tightened at start.
        let key = data.join("plugin-cache.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cache = cache_in(&data, &engine);
        assert_eq!(mode(&key), 0o600);
        assert!(cache.load(&engine, "a").is_some(), "same key, kept");
    }

    #[cfg(unix)]
    #[test]
    fn something_else_than_a_file_under_an_entry_name_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = cache_in(dir.path(), &engine);
        // A link to a device that never ends: refused without reading it.
        std::os::unix::fs::symlink("/dev/zero", cache.path("a")).unwrap();
        assert!(cache.load(&engine, "a").is_none());
        assert!(
            std::fs::symlink_metadata(cache.path("a")).is_err(),
            "the link is deleted"
        );
    }
}
