//! The set of loaded plugins (platform and action plugins, each its own namespace), keyed by
//! the name each plugin reports (not its file name). Lookups are lock-free (`ArcSwap`): a request holds an `Arc` to the version it started
//! with, so swapping in a new version never disturbs requests in flight.

use super::action::ActionPlugin;
use super::bindings::{self, PluginMetadata, SecretRequirement};
use super::engine::{PluginFault, Runtime};
use super::platform::{PlatformPlugin, PluginInfo};
use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The WIT package major version this host serves.
pub const SUPPORTED_WIT_MAJOR: &str = "1";

/// Why a plugin file was not loaded. The previous version (if any) keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(String),
    /// A core wasm module, not a component.
    #[error("is a core WebAssembly module, not a component (build for wasm32-wasip2)")]
    CoreModule,
    /// Not WebAssembly at all, or corrupt.
    #[error("is not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// A component for another world.
    #[error("is not a hookgate platform or action plugin: {0}")]
    WrongWorld(String),
    /// Calling `metadata` failed.
    #[error("metadata call failed: {0}")]
    Metadata(PluginFault),
    /// The metadata is unusable.
    #[error("invalid metadata: {0}")]
    BadMetadata(String),
    /// Another file already provides this plugin name. A file never takes a name over from
    /// the file serving it: while running, the file that has the name keeps it; at start-up,
    /// the first file by file name gets it (deterministic, whatever order the directory lists
    /// in). Either way the refusal is an error, counted and reported by `hookgate check`, so
    /// which file serves is never left for the operator to guess.
    #[error(
        "plugin name {name:?} is already provided by {existing}, which keeps serving it; remove one of the two files, or give one of the plugins another name"
    )]
    DuplicateName {
        /// The contested name.
        name: String,
        /// The file that keeps it.
        existing: String,
    },
}

/// A plugin file, loaded: which world it serves decides where it goes.
#[derive(Debug)]
pub enum Loaded {
    /// A platform plugin (sources use it).
    Platform(PlatformPlugin),
    /// An action plugin (routes and schedules use it).
    Action(ActionPlugin),
}

impl Loaded {
    /// What it is.
    pub fn info(&self) -> &PluginInfo {
        match self {
            Loaded::Platform(p) => &p.info,
            Loaded::Action(a) => &a.info,
        }
    }
}

/// Loaded plugins plus the last load error of each file that failed.
pub struct Registry {
    runtime: Arc<Runtime>,
    plugins: ArcSwap<HashMap<Arc<str>, Arc<PlatformPlugin>>>,
    actions: ArcSwap<HashMap<Arc<str>, Arc<ActionPlugin>>>,
    errors: Mutex<BTreeMap<PathBuf, String>>,
    /// Rejections per file since start (never reset): the plugin-rejection metric.
    rejections: Mutex<BTreeMap<PathBuf, u64>>,
    /// Files rejected because another file provides their plugin name, with that name: when
    /// the name is freed (its file removed or renamed to another name) they are loaded again,
    /// so a v1 → v2 file swap never leaves the name unserved.
    waiting: Mutex<BTreeMap<PathBuf, String>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("plugins", &self.plugins.load().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Registry {
            runtime,
            plugins: ArcSwap::default(),
            actions: ArcSwap::default(),
            errors: Mutex::default(),
            rejections: Mutex::default(),
            waiting: Mutex::default(),
        }
    }

    /// The runtime plugins run in.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Loads every `*.wasm` in `dir` (in file-name order). Files that fail are logged and
    /// recorded; they never stop the others from loading. Of two files that claim one plugin
    /// name, the first by file name serves it and the other is refused, as an error naming
    /// both (see [`LoadError::DuplicateName`]); the refused one is loaded if the first goes.
    pub async fn load_dir(&self, dir: &Path) -> std::io::Result<()> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_plugin_file(p) && p.is_file())
            .collect();
        files.sort();
        for file in files {
            self.try_load(&file).await;
        }
        self.retain_cached();
        Ok(())
    }

    /// Drops cached code no loaded plugin uses.
    fn retain_cached(&self) {
        let keep: std::collections::HashSet<String> = self
            .plugins
            .load()
            .values()
            .map(|p| p.info.sha256.clone())
            .chain(self.actions.load().values().map(|a| a.info.sha256.clone()))
            .collect();
        self.runtime.retain_cached(&keep);
    }

    /// Loads `file` and swaps it in, or records why not. On success: the plugin's name and
    /// version, and the names its file no longer provides.
    async fn try_load(&self, file: &Path) -> Option<(Arc<str>, String, Vec<Arc<str>>)> {
        let result = load_file(&self.runtime, file).await.and_then(|plugin| {
            let (name, version) = (plugin.info().name.clone(), plugin.info().version.clone());
            self.insert(plugin).map(|freed| (name, version, freed))
        });
        match result {
            Ok(loaded) => {
                self.forget_error(file);
                Some(loaded)
            }
            Err(e) => {
                self.record_error(file, &e);
                None
            }
        }
    }

    fn record_error(&self, file: &Path, error: &LoadError) {
        if let LoadError::DuplicateName { name, existing } = error {
            // Both files and the name in fields of their own: the line is about a conflict
            // between two files, not about this one alone.
            tracing::error!(file = %file.display(), plugin = %name, served_by = %existing, reason = %error, "plugin rejected: two files claim one plugin name");
            self.waiting
                .lock()
                .expect("lock poisoned")
                .insert(file.to_owned(), name.clone());
        } else {
            tracing::error!(file = %file.display(), reason = %error, "plugin rejected");
        }
        crate::metrics::metrics().plugin_reload_failures.inc();
        *self
            .rejections
            .lock()
            .expect("lock poisoned")
            .entry(file.to_owned())
            .or_default() += 1;
        self.errors
            .lock()
            .expect("lock poisoned")
            .insert(file.to_owned(), error.to_string());
    }

    /// Adds a plugin unless another file already provides its name. A plugin from a file
    /// that provided something else before (another name, or another world) replaces it;
    /// returns the names that file no longer provides.
    pub fn insert(&self, plugin: Loaded) -> Result<Vec<Arc<str>>, LoadError> {
        let (file, name) = (plugin.info().file.clone(), plugin.info().name.clone());
        let mut freed = match plugin {
            Loaded::Platform(p) => {
                swap_in(&self.plugins, p, |p| &p.info)?;
                let mut freed = remove_file_entries(&self.plugins, &file, Some(&name), |p| &p.info);
                freed.extend(remove_file_entries(&self.actions, &file, None, |a| &a.info));
                freed
            }
            Loaded::Action(a) => {
                swap_in(&self.actions, a, |a| &a.info)?;
                let mut freed = remove_file_entries(&self.actions, &file, Some(&name), |a| &a.info);
                freed.extend(remove_file_entries(&self.plugins, &file, None, |p| &p.info));
                freed
            }
        };
        // A name moving between worlds is not freed.
        freed.retain(|n| *n != name);
        Ok(freed)
    }

    /// Loads again the files that were waiting for one of the `freed` names (one round: a file
    /// loaded here frees nothing another waiting file could want, since it was refused for a
    /// name that was taken).
    async fn load_waiting(&self, freed: &[Arc<str>]) {
        if freed.is_empty() {
            return;
        }
        let files: Vec<PathBuf> = self
            .waiting
            .lock()
            .expect("lock poisoned")
            .iter()
            .filter(|(_, name)| freed.iter().any(|f| **f == **name))
            .map(|(file, _)| file.clone())
            .collect();
        for file in files {
            tracing::info!(file = %file.display(), "plugin name freed; loading the file that wanted it");
            if self.try_load(&file).await.is_some() {
                crate::metrics::metrics().plugin_reloads.inc();
            }
        }
    }

    /// Loads (or reloads) one file and swaps it in; on any failure the version already loaded
    /// keeps serving, and the failure is logged and kept for `GET /admin/plugins`.
    pub async fn reload_file(&self, file: &Path) {
        let started = std::time::Instant::now();
        if let Some((name, version, freed)) = self.try_load(file).await {
            crate::metrics::metrics().plugin_reloads.inc();
            tracing::info!(plugin = %name, version, file = %file.display(), ms = started.elapsed().as_millis() as u64, "plugin reloaded");
            self.load_waiting(&freed).await;
            self.retain_cached();
        }
    }

    /// Unloads whatever `file` provided (the file was removed); a file that was refused for
    /// one of its names is loaded in its place.
    pub async fn unload_file(&self, file: &Path) {
        let mut removed = remove_file_entries(&self.plugins, file, None, |p| &p.info);
        removed.extend(remove_file_entries(&self.actions, file, None, |a| &a.info));
        self.forget_error(file);
        for name in &removed {
            tracing::warn!(plugin = %name, file = %file.display(), "plugin unloaded: its file was removed");
        }
        self.load_waiting(&removed).await;
    }

    /// The action plugin serving `name`, if loaded.
    pub fn action(&self, name: &str) -> Option<Arc<ActionPlugin>> {
        self.actions.load().get(name).cloned()
    }

    /// Every loaded action plugin, by name.
    pub fn actions(&self) -> Vec<Arc<ActionPlugin>> {
        let mut all: Vec<_> = self.actions.load().values().cloned().collect();
        all.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        all
    }

    /// The plugin serving `name`, if loaded.
    pub fn get(&self, name: &str) -> Option<Arc<PlatformPlugin>> {
        self.plugins.load().get(name).cloned()
    }

    /// Every loaded plugin, by name.
    pub fn list(&self) -> Vec<Arc<PlatformPlugin>> {
        let mut all: Vec<_> = self.plugins.load().values().cloned().collect();
        all.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        all
    }

    /// The last load error of each file that failed to load.
    pub fn errors(&self) -> BTreeMap<PathBuf, String> {
        self.errors.lock().expect("lock poisoned").clone()
    }

    /// How many times each file was rejected since start.
    pub fn rejections(&self) -> BTreeMap<PathBuf, u64> {
        self.rejections.lock().expect("lock poisoned").clone()
    }

    fn forget_error(&self, file: &Path) {
        self.errors.lock().expect("lock poisoned").remove(file);
        self.waiting.lock().expect("lock poisoned").remove(file);
    }
}

/// Removes the entries of `map` loaded from `file`, except the one named `keep`; returns the
/// names removed.
fn remove_file_entries<P>(
    map: &ArcSwap<HashMap<Arc<str>, Arc<P>>>,
    file: &Path,
    keep: Option<&str>,
    info: fn(&P) -> &PluginInfo,
) -> Vec<Arc<str>> {
    let current = map.load();
    let gone: Vec<Arc<str>> = current
        .iter()
        .filter(|(name, p)| info(p).file == file && Some(&***name) != keep)
        .map(|(name, _)| name.clone())
        .collect();
    if !gone.is_empty() {
        let mut next = HashMap::clone(&current);
        for name in &gone {
            next.remove(name);
        }
        map.store(Arc::new(next));
    }
    gone
}

/// Swaps `plugin` into `map` (a new map; readers keep the old one), unless another file
/// already provides its name.
fn swap_in<P>(
    map: &ArcSwap<HashMap<Arc<str>, Arc<P>>>,
    plugin: P,
    info: fn(&P) -> &PluginInfo,
) -> Result<(), LoadError> {
    let current = map.load();
    let new = info(&plugin);
    if let Some(existing) = current.get(&new.name)
        && info(existing).file != new.file
    {
        return Err(LoadError::DuplicateName {
            name: new.name.to_string(),
            existing: info(existing).file.display().to_string(),
        });
    }
    tracing::info!(
        plugin = %new.name,
        version = %new.version,
        wit = %new.wit_version,
        file = %new.file.display(),
        from_cache = new.from_cache,
        "plugin loaded"
    );
    let mut next = HashMap::clone(&current);
    next.insert(new.name.clone(), Arc::new(plugin));
    map.store(Arc::new(next));
    Ok(())
}

/// Reads, compiles (off the async runtime), links and smoke-tests one plugin file. The world
/// it serves is read off its exports: `hookgate:plugin/platform@…` or `hookgate:plugin/action@…`.
pub async fn load_file(runtime: &Arc<Runtime>, file: &Path) -> Result<Loaded, LoadError> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| LoadError::Read(e.to_string()))?;
    check_header(&bytes)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let (compiler, hash) = (runtime.clone(), sha256.clone());
    let (component, from_cache) =
        tokio::task::spawn_blocking(move || compiler.compile(&bytes, &hash))
            .await
            .map_err(|e| LoadError::Invalid(format!("compiler task failed: {e}")))?
            .map_err(LoadError::Invalid)?;
    let label: Arc<str> = Arc::from(
        file.file_name()
            .map_or_else(|| "plugin".into(), |n| n.to_string_lossy())
            .as_ref(),
    );
    let is_action = component
        .component_type()
        .exports(runtime.engine())
        .any(|(name, _)| name.starts_with("hookgate:plugin/action@"));
    if is_action {
        let pre = ActionPlugin::link(runtime, &component).map_err(LoadError::WrongWorld)?;
        let meta = ActionPlugin::metadata(&pre, runtime, label)
            .await
            .map_err(LoadError::Metadata)?;
        let meta = PluginMetadata {
            name: meta.name,
            version: meta.version,
            wit_version: meta.wit_version,
            description: meta.description,
            secrets: SecretRequirement::None,
            secret_description: String::new(),
            suggested_max_body_bytes: None,
            has_handshake: false,
        };
        let info = info(meta, file.to_owned(), sha256, from_cache)?;
        return Ok(Loaded::Action(ActionPlugin::new(info, pre)));
    }
    let mut linker = runtime.linker.clone();
    // Rust's standard library makes components import WASI interfaces; they are granted as
    // traps, so a plugin compiles normally but cannot use them.
    super::stubs::stub_foreign_imports(&mut linker, &component)
        .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
    let instance_pre = linker
        .instantiate_pre(&component)
        .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
    // 1.3.0 exports `ingest`; 1.0.0 to 1.2.0 export `platform`.
    let single_call = component
        .component_type()
        .exports(runtime.engine())
        .any(|(name, _)| name.starts_with("hookgate:plugin/ingest@"));
    let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld(format!("{e:#}"));
    if single_call {
        let pre = bindings::v1_3::PlatformPluginPre::new(instance_pre).map_err(wrong_world)?;
        let meta = PlatformPlugin::metadata_v1_3(&pre, runtime, label)
            .await
            .map_err(LoadError::Metadata)?;
        let info = info(meta, file.to_owned(), sha256, from_cache)?;
        return Ok(Loaded::Platform(PlatformPlugin::single(info, pre)));
    }
    let pre = bindings::PlatformPluginPre::new(instance_pre).map_err(wrong_world)?;
    let meta = PlatformPlugin::metadata(&pre, runtime, label)
        .await
        .map_err(LoadError::Metadata)?;
    let info = info(meta, file.to_owned(), sha256, from_cache)?;
    Ok(Loaded::Platform(PlatformPlugin::split(info, pre)))
}

/// Tells a component from a core module or garbage before handing bytes to the compiler.
fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(LoadError::CoreModule),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(()),
        _ => Err(LoadError::Invalid(
            "missing the WebAssembly component header".into(),
        )),
    }
}

fn info(
    meta: PluginMetadata,
    file: PathBuf,
    sha256: String,
    from_cache: bool,
) -> Result<PluginInfo, LoadError> {
    let valid_name = !meta.name.is_empty()
        && meta.name.len() <= 64
        && meta
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_name {
        return Err(LoadError::BadMetadata(format!(
            "name {:?} must be 1-64 of [a-z0-9_-]",
            meta.name
        )));
    }
    let major = meta.wit_version.split('.').next().unwrap_or_default();
    if major != SUPPORTED_WIT_MAJOR {
        return Err(LoadError::BadMetadata(format!(
            "built for hookgate:plugin@{}, this host serves {SUPPORTED_WIT_MAJOR}.x",
            meta.wit_version
        )));
    }
    Ok(PluginInfo {
        name: Arc::from(meta.name.as_str()),
        version: meta.version,
        wit_version: meta.wit_version,
        description: meta.description,
        secrets: meta.secrets,
        suggested_max_body_bytes: meta.suggested_max_body_bytes,
        has_handshake: meta.has_handshake,
        file,
        sha256,
        loaded_at: SystemTime::now(),
        from_cache,
    })
}

/// Whether `path` names a plugin file (not a temporary or hidden one).
pub fn is_plugin_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".wasm") && !name.starts_with('.') && !name.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every first-party plugin, as the build script built it from this tree's WIT and SDK,
    /// links against the host's imports (platform plugins: `log`/`crypto` 1.0.0; `forward`, an
    /// action plugin: both versions and `wasi:http`) and answers its metadata call.
    #[tokio::test]
    async fn every_first_party_plugin_loads() {
        let runtime = Runtime::new(super::super::Limits {
            call_timeout: std::time::Duration::from_secs(1),
            memory_limit_bytes: 64 << 20,
        })
        .unwrap();
        let dir = Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR"));
        for (name, action) in [
            ("stripe", false),
            ("github", false),
            ("shopify", false),
            ("slack", false),
            ("standard-webhooks", false),
            ("forward-action", true),
        ] {
            let loaded = load_file(&runtime, &dir.join(format!("{name}.wasm")))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(matches!(loaded, Loaded::Action(_)), action, "{name}");
        }
    }

    fn test_runtime() -> Arc<Runtime> {
        Runtime::new(super::super::Limits {
            call_timeout: std::time::Duration::from_secs(1),
            memory_limit_bytes: 64 << 20,
        })
        .unwrap()
    }

    /// Where a test's log lines go, to be read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Two files claiming one name at start-up: the first by file name serves, the other is
    /// refused with an error line naming both files and the name, is counted, is kept for
    /// `hookgate check` (which lists `errors()`), and takes over only once the first goes.
    #[tokio::test]
    async fn two_files_claiming_one_name_at_start_up_is_an_error_naming_both() {
        let stripe =
            std::fs::read(Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR")).join("stripe.wasm"))
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (
            dir.path().join("a-stripe.wasm"),
            dir.path().join("stripe.wasm"),
        );
        std::fs::write(&first, &stripe).unwrap();
        std::fs::write(&second, &stripe).unwrap();
        let registry = Registry::new(test_runtime());
        let failures = crate::metrics::metrics().plugin_reload_failures.get();

        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let logs = logs.clone();
                move || logs.clone()
            })
            .with_ansi(false)
            .finish();
        {
            let _guard = tracing::subscriber::set_default(subscriber);
            registry.load_dir(dir.path()).await.unwrap();
        }

        assert_eq!(registry.get("stripe").unwrap().info.file, first);
        let errors = registry.errors();
        let error = &errors[&second];
        assert!(error.contains("already provided by"), "{error}");
        assert!(error.contains(&first.display().to_string()), "{error}");
        assert!(error.contains("remove one of the two files"), "{error}");
        assert_eq!(registry.rejections()[&second], 1);
        assert!(crate::metrics::metrics().plugin_reload_failures.get() > failures);
        let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains("two files claim one plugin name"))
            .unwrap_or_else(|| panic!("no conflict line in:\n{logs}"));
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("plugin=stripe"), "{line}");
        assert!(
            line.contains(&format!("file={}", second.display())),
            "{line}"
        );
        assert!(
            line.contains(&format!("served_by={}", first.display())),
            "{line}"
        );

        // The hot-reload rule is untouched: once the first file goes, the other serves.
        std::fs::remove_file(&first).unwrap();
        registry.unload_file(&first).await;
        assert_eq!(registry.get("stripe").unwrap().info.file, second);
        assert!(registry.errors().is_empty(), "{:?}", registry.errors());
    }

    /// The cache the service uses, end to end: a second start loads from it, and a forged
    /// entry (another plugin's genuine, tagged code under this wasm's name) is refused and
    /// recompiled rather than run.
    #[tokio::test]
    async fn a_restart_loads_from_the_cache_and_a_swapped_entry_is_recompiled() {
        let built = Path::new(env!("HOOKGATE_BUILT_PLUGINS_DIR"));
        let (plugins, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for name in ["stripe", "github"] {
            std::fs::copy(
                built.join(format!("{name}.wasm")),
                plugins.path().join(format!("{name}.wasm")),
            )
            .unwrap();
        }
        let start = || async {
            let runtime = test_runtime();
            runtime
                .enable_code_cache(data.path().join("plugin-cache"))
                .unwrap();
            let registry = Registry::new(runtime);
            registry.load_dir(plugins.path()).await.unwrap();
            registry
        };
        let first = start().await;
        assert!(!first.get("stripe").unwrap().info.from_cache);
        let second = start().await;
        assert!(second.get("stripe").unwrap().info.from_cache);
        assert!(second.get("github").unwrap().info.from_cache);

        let entries: Vec<PathBuf> = std::fs::read_dir(data.path().join("plugin-cache"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 2);
        let stripe_sha = &second.get("stripe").unwrap().info.sha256;
        let (stripe_entry, github_entry): (Vec<_>, Vec<_>) = entries
            .iter()
            .partition(|p| p.to_string_lossy().contains(stripe_sha.as_str()));
        std::fs::copy(github_entry[0], stripe_entry[0]).unwrap();
        let third = start().await;
        let stripe = third.get("stripe").unwrap();
        assert!(!stripe.info.from_cache, "the swapped entry is not used");
        assert_eq!(&*stripe.info.name, "stripe");
        assert!(third.get("github").unwrap().info.from_cache);
    }

    #[test]
    fn header_check_tells_modules_from_components() {
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0rest"),
            Err(LoadError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0rest").is_ok());
        assert!(matches!(
            check_header(b"garbage!"),
            Err(LoadError::Invalid(_))
        ));
        assert!(matches!(check_header(b""), Err(LoadError::Invalid(_))));
    }

    #[test]
    fn temporary_and_hidden_files_are_not_plugins() {
        assert!(is_plugin_file(Path::new("/p/stripe.wasm")));
        for name in [
            "/p/.stripe.wasm",
            "/p/stripe.wasm.tmp",
            "/p/stripe.wasm~",
            "/p/stripe.wasm.part",
            "/p/.stripe.wasm.swp",
            "/p/#stripe.wasm#",
            "/p/readme.txt",
        ] {
            assert!(!is_plugin_file(Path::new(name)), "{name}");
        }
    }
}
