//! A loaded platform plugin and its per-request call, in one fresh instance: a 1.3.0 plugin's
//! single `process` (the request lowered into the guest once), or an older plugin's sequence
//! handshake → verify → normalize.

use super::bindings::{self, Event, HandshakeResponse, Request, VerifyContext, VerifyError, v1_3};
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

/// What one request is checked with (1.3's `source-context`; older plugins get its first three
/// fields as their `verify-context`).
pub type SourceContext = v1_3::SourceContext;
/// What a test request is signed with (1.3's `sign-context`; older signers get all but the
/// settings).
pub type SignContext = v1_3::SignContext;

/// How a plugin is called, by the interface it exports.
enum Interface {
    /// 1.0.0 to 1.2.0: `platform` (handshake, verify, normalize as separate calls) and, from
    /// 1.2.0, the optional `signer` export, found at load time.
    Split {
        pre: bindings::PlatformPluginPre<CallState>,
        signer: Option<bindings::signer::GuestIndices>,
    },
    /// 1.3.0: `ingest`, one call per request.
    Single(v1_3::PlatformPluginPre<CallState>),
}

/// A compiled, pre-instantiated platform plugin.
pub struct PlatformPlugin {
    /// What it is.
    pub info: PluginInfo,
    interface: Interface,
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
    answer: Option<HandshakeResponse>,
}

impl Verified {
    /// The verified request (its body is the exact bytes received) and its events, or the
    /// normalization error to dead-letter the payload with.
    pub fn into_parts(self) -> (Request, Result<Vec<Event>, String>) {
        (self.request, self.normalized)
    }

    /// The answer the platform requires once the events are stored (1.3 plugins), when the
    /// plugin gave one with a 2xx status; `None` for hookgate's own.
    pub fn answer(&self) -> Option<&HandshakeResponse> {
        self.answer.as_ref()
    }

    /// Takes the answer out (the rest is consumed by [`Verified::into_parts`]).
    pub fn take_answer(&mut self) -> Option<HandshakeResponse> {
        self.answer.take()
    }
}

/// How the checks before normalization can end early.
enum Step {
    Handshake(HandshakeResponse),
    Refused(VerifyError),
}

impl PlatformPlugin {
    /// A 1.0.0 to 1.2.0 plugin.
    pub(crate) fn split(info: PluginInfo, pre: bindings::PlatformPluginPre<CallState>) -> Self {
        // Absent from 1.0.0/1.1.0 builds; a lookup failure only means "cannot sign".
        let signer = bindings::signer::GuestIndices::new(pre.instance_pre()).ok();
        PlatformPlugin::with(info, Interface::Split { pre, signer })
    }

    /// A 1.3.0 plugin.
    pub(crate) fn single(info: PluginInfo, pre: v1_3::PlatformPluginPre<CallState>) -> Self {
        PlatformPlugin::with(info, Interface::Single(pre))
    }

    fn with(info: PluginInfo, interface: Interface) -> Self {
        PlatformPlugin {
            info,
            interface,
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

    /// Calls a 1.3.0 plugin's `metadata` in a fresh, limited instance, as the older record.
    pub(crate) async fn metadata_v1_3(
        pre: &v1_3::PlatformPluginPre<CallState>,
        runtime: &Runtime,
        label: Arc<str>,
    ) -> Result<bindings::PluginMetadata, PluginFault> {
        let m = in_fresh_instance(pre, runtime, &label, 0, async |store, instance| {
            instance.hookgate_plugin_ingest().call_metadata(store).await
        })
        .await?;
        Ok(bindings::PluginMetadata {
            name: m.name,
            version: m.version,
            wit_version: m.wit_version,
            description: m.description,
            secrets: match m.secrets {
                v1_3::SecretRequirement::Required => bindings::SecretRequirement::Required,
                v1_3::SecretRequirement::Optional => bindings::SecretRequirement::Optional,
                v1_3::SecretRequirement::None => bindings::SecretRequirement::None,
            },
            secret_description: m.secret_description,
            suggested_max_body_bytes: m.suggested_max_body_bytes,
            has_handshake: m.has_handshake,
        })
    }

    /// Checks a source's `config` table (JSON) with the plugin, as the config is loaded: the
    /// plugin's refusal, or a fault. Plugins older than 1.3.0 take no settings.
    pub async fn check_config(
        &self,
        runtime: &Runtime,
        config: &str,
    ) -> Result<Result<(), ConfigRefusal>, PluginFault> {
        let pre = match &self.interface {
            Interface::Single(pre) => pre,
            Interface::Split { .. } if config.trim() == "{}" => return Ok(Ok(())),
            Interface::Split { .. } => {
                return Ok(Err(ConfigRefusal {
                    key: String::new(),
                    message: format!(
                        "is not supported by plugin {} (built for hookgate:plugin@{}; per-source settings need 1.3.0)",
                        self.info.name, self.info.wit_version
                    ),
                }));
            }
        };
        let label = &self.info.name;
        let checked = in_fresh_instance(
            pre,
            runtime,
            label,
            config.len(),
            async |store, instance| {
                instance
                    .hookgate_plugin_ingest()
                    .call_check_config(store, config)
                    .await
            },
        )
        .await?;
        Ok(checked.map_err(|e| ConfigRefusal {
            key: e.key,
            message: e.message,
        }))
    }

    /// Calls a 1.0.0 to 1.2.0 plugin's `metadata` in a fresh, limited instance.
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

    /// Signs a test request in a fresh, limited instance: the headers to add (and, for a
    /// platform that signs inside the body, the body to send) so that the plugin accepts
    /// `request` under `context.secret`. Not on the ingest path (`hookgate send` only).
    pub async fn sign(
        &self,
        runtime: &Runtime,
        request: &Request,
        context: &SignContext,
    ) -> Result<SignedRequest, SignError> {
        let unsupported = || SignError::Unsupported {
            plugin: self.info.name.to_string(),
            wit_version: self.info.wit_version.clone(),
        };
        let invalid = |message| SignError::Invalid {
            plugin: self.info.name.to_string(),
            message,
        };
        match &self.interface {
            Interface::Single(pre) => {
                let label = &self.info.name;
                let signed = in_fresh_instance(
                    pre,
                    runtime,
                    label,
                    request.body.len(),
                    async |store, instance| {
                        instance
                            .hookgate_plugin_ingest()
                            .call_sign(store, request, context)
                            .await
                    },
                )
                .await?;
                match signed {
                    Ok(signed) => Ok(SignedRequest {
                        headers: signed
                            .headers
                            .into_iter()
                            .map(|h| (h.name, h.value))
                            .collect(),
                        body: signed.body,
                    }),
                    Err(v1_3::SignError::Unsupported) => Err(unsupported()),
                    Err(v1_3::SignError::Invalid(message)) => Err(invalid(message)),
                }
            }
            Interface::Split { pre, signer } => {
                let indices = signer.as_ref().ok_or_else(unsupported)?;
                let mut store = runtime.store(self.info.name.clone(), request.body.len());
                let backstop = backstop(store.data());
                // The 1.2.0 signer's own copies of the types; off the ingest path, so a copy.
                let request = bindings::signer::Request {
                    method: request.method.clone(),
                    url: request.url.clone(),
                    headers: request
                        .headers
                        .iter()
                        .map(|h| bindings::signer::Header {
                            name: h.name.clone(),
                            value: h.value.clone(),
                        })
                        .collect(),
                    body: request.body.clone(),
                };
                let context = bindings::signer::SignContext {
                    secret: context.secret.clone(),
                    now_unix_secs: context.now_unix_secs,
                    nonce: context.nonce.clone(),
                };
                let call = async {
                    let instance = pre.instance_pre().instantiate_async(&mut store).await?;
                    let signer = indices.load(&mut store, &instance)?;
                    store.data_mut().start_call();
                    signer.call_sign(&mut store, &request, &context).await
                };
                let result = tokio::time::timeout(backstop, call).await;
                match settle(result, store.data(), &self.info.name, runtime)? {
                    Ok(headers) => Ok(SignedRequest {
                        headers: headers.into_iter().map(|h| (h.name, h.value)).collect(),
                        body: None,
                    }),
                    Err(bindings::signer::SignError::Unsupported) => Err(unsupported()),
                    Err(bindings::signer::SignError::Invalid(message)) => Err(invalid(message)),
                }
            }
        }
    }

    /// Runs `request` through the plugin in one fresh instance: a 1.3.0 plugin's `process`, or
    /// an older plugin's handshake (when it has one), verify and normalize, each call under its
    /// own CPU deadline.
    pub async fn process(
        &self,
        runtime: &Runtime,
        request: Request,
        context: &SourceContext,
    ) -> Result<Outcome, PluginFault> {
        let started = std::time::Instant::now();
        self.calls.fetch_add(1, Ordering::Relaxed);
        let result = {
            let _slot = runtime
                .slots
                .acquire()
                .await
                .expect("the slot semaphore is never closed");
            match &self.interface {
                Interface::Single(pre) => self.run_single(pre, runtime, request, context).await,
                Interface::Split { pre, .. } => {
                    let context = VerifyContext {
                        secrets: context.secrets.clone(),
                        tolerance_secs: context.tolerance_secs,
                        now_unix_secs: context.now_unix_secs,
                    };
                    self.run_split(pre, runtime, request, &context).await
                }
            }
        };
        if result.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        crate::metrics::metrics().plugin_call(
            &self.info.name,
            started.elapsed(),
            result.as_ref().err().map(PluginFault::kind),
        );
        result
    }

    /// 1.3.0: one call answers everything. When it faults, the host cannot tell whether the
    /// request had verified, so it asks `verify` alone in a fresh instance: a genuine request
    /// is stored dead-lettered with the fault (some platforms never retry a 503), anything
    /// else gets the fault's 503.
    async fn run_single(
        &self,
        pre: &v1_3::PlatformPluginPre<CallState>,
        runtime: &Runtime,
        request: Request,
        context: &SourceContext,
    ) -> Result<Outcome, PluginFault> {
        let label = &self.info.name;
        let processed = in_fresh_instance(
            pre,
            runtime,
            label,
            request.body.len(),
            async |store, instance| {
                instance
                    .hookgate_plugin_ingest()
                    .call_process(store, &request, context)
                    .await
            },
        )
        .await;
        let outcome = match processed {
            Ok(outcome) => outcome,
            Err(fault) if request.method == "POST" => {
                return self
                    .after_fault(pre, runtime, request, context, fault)
                    .await;
            }
            Err(fault) => return Err(fault),
        };
        Ok(match outcome {
            v1_3::Outcome::Handshake(answer) => Outcome::Handshake(response(answer)),
            v1_3::Outcome::Refused(reason) => Outcome::Refused(verify_error(reason)),
            // Only POSTs carry events, whatever a plugin answers.
            v1_3::Outcome::Accepted(_) if request.method != "POST" => {
                Outcome::Refused(VerifyError::MissingSignature)
            }
            v1_3::Outcome::Accepted(accepted) => {
                let answer = accepted.response.map(response).filter(|r| {
                    let ok = (200..300).contains(&r.status);
                    if !ok {
                        tracing::warn!(plugin = %self.info.name, status = r.status, "plugin chose a non-2xx answer to an accepted webhook; answering as usual");
                    }
                    ok
                });
                Outcome::Verified(Verified {
                    request,
                    normalized: accepted
                        .events
                        .map(|events| events.into_iter().map(event).collect()),
                    answer,
                })
            }
        })
    }

    /// After `process` faulted: `verify` alone decides between storing the request
    /// dead-lettered (genuine) and the fault's 503.
    async fn after_fault(
        &self,
        pre: &v1_3::PlatformPluginPre<CallState>,
        runtime: &Runtime,
        request: Request,
        context: &SourceContext,
        fault: PluginFault,
    ) -> Result<Outcome, PluginFault> {
        let label = &self.info.name;
        let verified = in_fresh_instance(
            pre,
            runtime,
            label,
            request.body.len(),
            async |store, instance| {
                instance
                    .hookgate_plugin_ingest()
                    .call_verify(store, &request, context)
                    .await
            },
        )
        .await;
        match verified {
            Ok(Ok(())) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(plugin = %self.info.name, kind = %fault.kind(), error = %fault, "plugin failed on a genuine request; payload dead-lettered");
                Ok(Outcome::Verified(Verified {
                    request,
                    normalized: Err(format!("plugin fault while normalizing: {fault}")),
                    answer: None,
                }))
            }
            Ok(Err(reason)) => Ok(Outcome::Refused(verify_error(reason))),
            Err(_) => Err(fault),
        }
    }

    /// 1.0.0 to 1.2.0: handshake, verify, normalize, each its own call in one instance.
    async fn run_split(
        &self,
        pre: &bindings::PlatformPluginPre<CallState>,
        runtime: &Runtime,
        request: Request,
        context: &VerifyContext,
    ) -> Result<Outcome, PluginFault> {
        let mut store = runtime.store(self.info.name.clone(), request.body.len());
        let backstop = backstop(store.data());
        let has_handshake = self.info.has_handshake;
        let checks = async {
            let instance = pre.instantiate_async(&mut store).await?;
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
        let instance = match settle(result, store.data(), &self.info.name, runtime)? {
            Ok(instance) => instance,
            Err(Step::Handshake(h)) => return Ok(Outcome::Handshake(h)),
            Err(Step::Refused(r)) => return Ok(Outcome::Refused(r)),
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
            answer: None,
        }))
    }
}

/// Runs `call` on a fresh, limited instance of a 1.3.0 plugin, under the call's CPU deadline
/// and its wall-clock backstop: every 1.3.0 call goes through here.
async fn in_fresh_instance<T>(
    pre: &v1_3::PlatformPluginPre<CallState>,
    runtime: &Runtime,
    label: &Arc<str>,
    input_len: usize,
    call: impl AsyncFnOnce(&mut wasmtime::Store<CallState>, v1_3::PlatformPlugin) -> wasmtime::Result<T>,
) -> Result<T, PluginFault> {
    let mut store = runtime.store(label.clone(), input_len);
    let backstop = backstop(store.data());
    let result = async {
        let instance = pre.instantiate_async(&mut store).await?;
        store.data_mut().start_call();
        call(&mut store, instance).await
    };
    let result = tokio::time::timeout(backstop, result).await;
    settle(result, store.data(), label, runtime)
}

/// A test request's signature, from [`PlatformPlugin::sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// `(name, value)` headers to add.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body to send instead of the operator's, for platforms that sign inside the body.
    pub body: Option<Vec<u8>>,
}

/// A plugin's refusal of a source's `config` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRefusal {
    /// The key at fault; empty for the table as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn response(r: v1_3::Response) -> HandshakeResponse {
    HandshakeResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

fn verify_error(e: v1_3::VerifyError) -> VerifyError {
    match e {
        v1_3::VerifyError::MissingSignature => VerifyError::MissingSignature,
        v1_3::VerifyError::MalformedSignature(s) => VerifyError::MalformedSignature(s),
        v1_3::VerifyError::SignatureMismatch => VerifyError::SignatureMismatch,
        v1_3::VerifyError::MissingTimestamp => VerifyError::MissingTimestamp,
        v1_3::VerifyError::TimestampOutsideTolerance(t) => {
            VerifyError::TimestampOutsideTolerance(t)
        }
        v1_3::VerifyError::NoSecretConfigured => VerifyError::NoSecretConfigured,
    }
}

fn event(e: v1_3::Event) -> Event {
    Event {
        platform_event_id: e.platform_event_id,
        event_type: e.event_type,
        occurred_at: e.occurred_at,
        entity_id: e.entity_id,
        entity_type: e.entity_type,
        user_id: e.user_id,
        amount: e.amount,
        currency: e.currency,
        metadata: e.metadata,
        payload: match e.payload {
            v1_3::Payload::WholeBody => bindings::Payload::WholeBody,
            v1_3::Payload::Json(s) => bindings::Payload::Json(s),
        },
    }
}
