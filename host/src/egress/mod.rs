//! Outbound HTTP of action plugins, policed by the host. An action writes ordinary
//! `wasi:http` client code; every request it makes comes here, where the host resolves the
//! name itself, refuses non-global addresses (unless allowed), connects to exactly the address
//! it checked (no second lookup for a rebinding DNS server to exploit), and bounds the connect,
//! the whole exchange and the response size. Redirects are never followed: `wasi:http` hands
//! the 3xx to the action, which treats it as a failure.

mod client;
pub mod policy;
mod pool;

pub use policy::AddressPolicy;

use crate::config::EgressConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

/// The egress settings shared by every action call.
#[derive(Debug)]
pub struct Egress {
    policy: AddressPolicy,
    connect_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: u64,
    tls: Arc<rustls::ClientConfig>,
    pool: Arc<pool::Pool>,
}

impl Egress {
    /// Builds the policy from `[egress]`.
    pub fn new(config: &EgressConfig) -> Result<Arc<Egress>, String> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Arc::new(Egress {
            policy: AddressPolicy::new(&config.allow_private).with_ports(&config.allow_ports),
            connect_timeout: config.connect_timeout,
            total_timeout: config.timeout,
            max_response_bytes: config.max_response_bytes,
            tls: Arc::new(tls),
            pool: Arc::default(),
        }))
    }

    /// The total time one outbound request may take.
    pub fn total_timeout(&self) -> Duration {
        self.total_timeout
    }
}

/// The `wasi:http` hooks of one action call: every request goes through [`Egress`], and the
/// reason of the last refusal is kept so the host can put it in the attempt history (the guest
/// only sees an error code).
pub struct EgressHooks {
    egress: Option<Arc<Egress>>,
    refusal: Arc<Mutex<Option<String>>>,
}

impl EgressHooks {
    /// Hooks for one call; without `egress` every request is denied (outbound HTTP belongs
    /// to deliveries, not to `metadata` or `check-config`).
    pub fn new(egress: Option<Arc<Egress>>) -> EgressHooks {
        EgressHooks {
            egress,
            refusal: Arc::default(),
        }
    }

    /// Why the host refused or failed the call's last outbound request, if it did.
    pub fn last_refusal(&self) -> Option<String> {
        self.refusal.lock().expect("lock poisoned").clone()
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>;

impl WasiHttpHooks for EgressHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _io: IoFuture,
    ) -> Box<
        dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), wasmtime_wasi_http::Error>>
            + Send,
    > {
        let (egress, refusal) = (self.egress.clone(), self.refusal.clone());
        Box::new(async move {
            let sent = match &egress {
                Some(egress) => client::send(egress, request).await,
                None => Err(client::Failure {
                    code: wasmtime_wasi_http::Error::HttpRequestDenied,
                    reason: "outbound HTTP is only available while delivering".into(),
                }),
            };
            match sent {
                Ok(response) => {
                    let done: IoFuture = Box::new(std::future::ready(Ok(())));
                    Ok((response, done))
                }
                Err(failure) => {
                    *refusal.lock().expect("lock poisoned") = Some(failure.reason.clone());
                    tracing::info!(reason = %failure.reason, "outbound request failed");
                    Err(failure.code)
                }
            }
        })
    }
}
