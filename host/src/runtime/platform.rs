//! A loaded platform plugin and the per-request call sequence: handshake → verify → normalize,
//! all in one fresh instance.

use super::bindings::{self, Event, HandshakeResponse, Request, VerifyContext, VerifyError};
use super::call::{backstop, settle};
use super::engine::{PluginFault, Runtime};
use super::state::CallState;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// What a plugin reported about itself at load time, plus where it came from.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    /// Name sources refer to.
    pub name: Arc<str>,
    /// Plugin version.
    pub version: String,
    /// WIT package version it was built against.
    pub wit_version: String,
    /// Description.
    pub description: String,
    /// Whether it needs secrets.
    pub secrets: bindings::SecretRequirement,
    /// Largest body the platform sends.
    pub suggested_max_body_bytes: Option<u64>,
    /// Whether it answers handshakes.
    pub has_handshake: bool,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// Whether its machine code came from the compiled-code cache (no compilation).
    pub from_cache: bool,
}

/// Why a plugin could not sign a test request (`hookgate send`).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The plugin has no signer, or its signer declines.
    #[error(
        "plugin {plugin} (hookgate:plugin@{wit_version}) cannot sign test requests: signing needs a plugin built with the 1.2.0 SDK that implements Platform::sign"
    )]
    Unsupported {
        /// Plugin name.
        plugin: String,
        /// The WIT version it was built against.
        wit_version: String,
    },
    /// The plugin refused this request or secret; the message says why.
    #[error("plugin {plugin} cannot sign this request: {message}")]
    Invalid {
        /// Plugin name.
        plugin: String,
        /// The plugin's reason.
        message: String,
    },
    /// The plugin trapped, timed out or ran out of memory.
    #[error(transparent)]
    Fault(#[from] PluginFault),
}

/// A compiled, pre-instantiated platform plugin.
pub struct PlatformPlugin {
    /// What it is.
    pub info: PluginInfo,
    pre: bindings::PlatformPluginPre<CallState>,
    /// The optional 1.2.0 `signer` export, found at load time.
    signer: Option<bindings::signer::GuestIndices>,
    calls: AtomicU64,
    failures: AtomicU64,
}

impl std::fmt::Debug for PlatformPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformPlugin")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The result of running a request through a plugin.
#[derive(Debug)]
pub enum Outcome {
    /// A handshake the plugin answered; nothing is stored.
    Handshake(HandshakeResponse),
    /// The request is not genuine: 401, nothing stored.
    Refused(VerifyError),
    /// The request is genuine.
    Verified(Verified),
}

/// A request whose signature the plugin verified, with its normalized events or the reason it
/// could not be normalized. Only this module can create one: storage accepts nothing else, so
/// nothing unverified can ever be acknowledged.
#[derive(Debug)]
pub struct Verified {
    request: Request,
    normalized: Result<Vec<Event>, String>,
}

impl Verified {
    /// The verified request (its body is the exact bytes received) and its events, or the
    /// normalization error to dead-letter the payload with.
    pub fn into_parts(self) -> (Request, Result<Vec<Event>, String>) {
        (self.request, self.normalized)
    }
}

/// How the checks before normalization can end early.
enum Step {
    Handshake(HandshakeResponse),
    Refused(VerifyError),
}

impl PlatformPlugin {
    pub(crate) fn new(info: PluginInfo, pre: bindings::PlatformPluginPre<CallState>) -> Self {
        // Absent from 1.0.0/1.1.0 builds; a lookup failure only means "cannot sign".
        let signer = bindings::signer::GuestIndices::new(pre.instance_pre()).ok();
        PlatformPlugin {
            info,
            pre,
            signer,
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }

    /// Calls since load.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that ended in a fault since load.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Calls `metadata` in a fresh, limited instance.
    pub(crate) async fn metadata(
        pre: &bindings::PlatformPluginPre<CallState>,
        runtime: &Runtime,
        label: Arc<str>,
    ) -> Result<bindings::PluginMetadata, PluginFault> {
        let mut store = runtime.store(label.clone(), 0);
        let backstop = backstop(store.data());
        let result = async {
            let instance = pre.instantiate_async(&mut store).await?;
            store.data_mut().start_call();
            instance
                .hookgate_plugin_platform()
                .call_metadata(&mut store)
                .await
        };
        let result = tokio::time::timeout(backstop, result).await;
        settle(result, store.data(), &label, runtime)
    }

    /// Signs a test request in a fresh, limited instance: the headers to add so that `verify`
    /// accepts `request` under `secret`. Not on the ingest path (`hookgate send` only).
    pub async fn sign(
        &self,
        runtime: &Runtime,
        request: &bindings::signer::Request,
        context: &bindings::signer::SignContext,
    ) -> Result<Vec<(String, Vec<u8>)>, SignError> {
        let unsupported = || SignError::Unsupported {
            plugin: self.info.name.to_string(),
            wit_version: self.info.wit_version.clone(),
        };
        let indices = self.signer.as_ref().ok_or_else(unsupported)?;
        let mut store = runtime.store(self.info.name.clone(), request.body.len());
        let backstop = backstop(store.data());
        let call = async {
            let instance = self
                .pre
                .instance_pre()
                .instantiate_async(&mut store)
                .await?;
            let signer = indices.load(&mut store, &instance)?;
            store.data_mut().start_call();
            signer.call_sign(&mut store, request, context).await
        };
        let result = tokio::time::timeout(backstop, call).await;
        match settle(result, store.data(), &self.info.name, runtime)? {
            Ok(headers) => Ok(headers.into_iter().map(|h| (h.name, h.value)).collect()),
            Err(bindings::signer::SignError::Unsupported) => Err(unsupported()),
            Err(bindings::signer::SignError::Invalid(message)) => Err(SignError::Invalid {
                plugin: self.info.name.to_string(),
                message,
            }),
        }
    }

    /// Runs `request` through the plugin: handshake (when the plugin has one), verify, and
    /// normalize, each call under its own CPU deadline, all in one fresh instance.
    pub async fn process(
        &self,
        runtime: &Runtime,
        request: Request,
        context: &VerifyContext,
    ) -> Result<Outcome, PluginFault> {
        let started = std::time::Instant::now();
        let result = self.run_checks(runtime, request, context).await;
        crate::metrics::metrics().plugin_call(
            &self.info.name,
            started.elapsed(),
            result.as_ref().err().map(PluginFault::kind),
        );
        result
    }

    async fn run_checks(
        &self,
        runtime: &Runtime,
        request: Request,
        context: &VerifyContext,
    ) -> Result<Outcome, PluginFault> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let _slot = runtime
            .slots
            .acquire()
            .await
            .expect("the slot semaphore is never closed");
        let mut store = runtime.store(self.info.name.clone(), request.body.len());
        let backstop = backstop(store.data());
        let has_handshake = self.info.has_handshake;
        let checks = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let api = instance.hookgate_plugin_platform();
            if has_handshake {
                store.data_mut().start_call();
                if let Some(answer) = api.call_handshake(&mut store, &request, context).await? {
                    return Ok(Err(Step::Handshake(answer)));
                }
            }
            // Only POSTs carry events; any other method is a handshake or nothing.
            if request.method != "POST" {
                return Ok(Err(Step::Refused(VerifyError::MissingSignature)));
            }
            store.data_mut().start_call();
            if let Err(reason) = api.call_verify(&mut store, &request, context).await? {
                return Ok(Err(Step::Refused(reason)));
            }
            Ok(Ok(instance))
        };
        let result = tokio::time::timeout(backstop, checks).await;
        let instance = match settle(result, store.data(), &self.info.name, runtime) {
            Ok(Ok(instance)) => instance,
            Ok(Err(Step::Handshake(h))) => return Ok(Outcome::Handshake(h)),
            Ok(Err(Step::Refused(r))) => return Ok(Outcome::Refused(r)),
            Err(fault) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                return Err(fault);
            }
        };
        // From here on the request is verified: a fault while normalizing must not lose it (some
        // platforms never retry), so it becomes a normalization error and the payload is stored
        // dead-lettered.
        store.data_mut().start_call();
        let call = instance
            .hookgate_plugin_platform()
            .call_normalize(&mut store, &request);
        let result = tokio::time::timeout(backstop, call).await;
        let normalized = settle(result, store.data(), &self.info.name, runtime).unwrap_or_else(|fault| {
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(plugin = %self.info.name, kind = %fault.kind(), error = %fault, "plugin failed after verification; payload dead-lettered");
            Err(format!("plugin fault while normalizing: {fault}"))
        });
        Ok(Outcome::Verified(Verified {
            request,
            normalized,
        }))
    }
}
