//! The compiled-code cache: compiling a plugin costs ~120 ms of CPU (more for big ones), so
//! the machine code is kept in the data directory, keyed by the SHA-256 of the `.wasm` and a
//! hash of everything about the engine that affects code generation (wasmtime version,
//! target, compiler settings). A restart, or a reload of an unchanged file, deserializes in
//! well under a millisecond instead. Entries no loaded plugin uses are removed.
//!
//! Trust: deserializing runs the cached machine code, so the cache directory must be as
//! private to hookgate as the database next to it. Entries are written atomically (temporary
//! file, then rename) and a file that fails to deserialize is deleted and recompiled.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

const EXTENSION: &str = "cwasm";

/// Compiled plugins on disk.
#[derive(Debug)]
pub struct CodeCache {
    dir: PathBuf,
    engine_key: String,
}

impl CodeCache {
    /// A cache in `dir` (created if needed) for code compiled by `engine`.
    pub fn new(dir: PathBuf, engine: &Engine) -> std::io::Result<CodeCache> {
        std::fs::create_dir_all(&dir)?;
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        // The standard hasher's algorithm may change between Rust releases; a changed key only
        // costs one recompilation.
        let engine_key = format!("{:016x}", hasher.finish());
        Ok(CodeCache { dir, engine_key })
    }

    fn path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.{EXTENSION}", self.engine_key))
    }

    /// The cached compilation of the wasm with this hash, if there is a usable one.
    pub fn load(&self, engine: &Engine, wasm_sha256: &str) -> Option<Component> {
        let path = self.path(wasm_sha256);
        if !path.is_file() {
            return None;
        }
        match deserialize(engine, &path) {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "unusable compiled-code cache entry; recompiling");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a compilation; failures are logged (the cache is an optimisation, never a
    /// reason to refuse a plugin).
    pub fn store(&self, wasm_sha256: &str, component: &Component) {
        let path = self.path(wasm_sha256);
        let result = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
            .and_then(|bytes| {
                let tmp = path.with_extension(format!("{EXTENSION}.tmp{}", std::process::id()));
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, &path)
            });
        if let Err(e) = result {
            tracing::warn!(file = %path.display(), error = %e, "cannot write the compiled-code cache");
        }
    }

    /// Removes every entry except those of the wasm hashes in `keep` (compiled by this
    /// engine). Returns how many were removed.
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

/// Loads machine code from the cache.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires that the file was produced by `Component::serialize` of a
    // compatible engine and not tampered with. Entries are written only by `store` above (an
    // atomic rename of our own serialization), their name carries the engine's compatibility
    // hash, and the directory sits in the data directory, which must be private to hookgate
    // (it also holds the database). wasmtime still checks the header and engine settings and
    // refuses incompatible files.
    unsafe { Component::deserialize_file(engine, path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_the_engine_and_stale_entries_go() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CodeCache::new(dir.path().join("cache"), &engine).unwrap();
        assert!(cache.load(&engine, "abc").is_none());
        std::fs::write(cache.path("old"), b"x").unwrap();
        std::fs::write(cache.path("kept"), b"y").unwrap();
        std::fs::write(dir.path().join("cache/unrelated.txt"), b"z").unwrap();
        let keep = HashSet::from(["kept".to_owned()]);
        assert_eq!(cache.retain(&keep), 1);
        assert!(cache.path("kept").exists());
        assert!(dir.path().join("cache/unrelated.txt").exists());
        // A corrupt entry is removed instead of crashing anything.
        assert!(cache.load(&engine, "kept").is_none());
        assert!(!cache.path("kept").exists());
    }
}
