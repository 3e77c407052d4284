//! What a plugin may import from the host: logging and natively-run crypto. This is a platform
//! plugin's whole grant; every other import (the WASI interfaces Rust's standard library
//! references) is linked to a trap, so a plugin has no clock, filesystem, environment or
//! network. Action plugins get the same two imports (see `action_host`) plus `wasi:http`.
//!
//! Each operation has exactly one implementation: [`write_log`] for `log`, the SDK's native
//! crypto (`hookgate_sdk::crypto`, the RustCrypto crates plugins' unit tests also run) for
//! `crypto`. Every binding of the `hookgate:plugin` package generates its own `log::Host` and
//! `crypto::Host` traits with its own copies of the enums, identical but for their path;
//! [`host_imports!`] implements them for a store type as conversions into that one
//! implementation, so a new package version or store type is one line, not another copy.

use super::state::CallState;
use hookgate_sdk::log::Level;

/// Lines a single plugin call may log; more are dropped (and counted) so a chatty or hostile
/// plugin cannot flood the host log.
const MAX_LOG_LINES_PER_CALL: u32 = 32;
/// Longest log message kept, in bytes.
const MAX_LOG_LINE_BYTES: usize = 1024;

/// The host side of the `log` import: one line into the host log, attributed to the calling
/// plugin, within the call's line budget and cut to [`MAX_LOG_LINE_BYTES`].
pub(super) fn write_log(call: &mut CallState, level: Level, message: String) {
    if call.log_lines >= MAX_LOG_LINES_PER_CALL {
        return;
    }
    call.log_lines += 1;
    let mut message = message;
    if message.len() > MAX_LOG_LINE_BYTES {
        let cut = (0..=MAX_LOG_LINE_BYTES)
            .rev()
            .find(|i| message.is_char_boundary(*i))
            .unwrap_or(0);
        message.truncate(cut);
    }
    let plugin = &*call.plugin;
    match level {
        Level::Trace => tracing::trace!(plugin, "{message}"),
        Level::Debug => tracing::debug!(plugin, "{message}"),
        Level::Info => tracing::info!(plugin, "{message}"),
        Level::Warn => tracing::warn!(plugin, "{message}"),
        Level::Error => tracing::error!(plugin, "{message}"),
    }
}

/// Implements the `log` and `crypto` host imports of one binding of the `hookgate:plugin`
/// package for a store type: `host_imports!(path::to::hookgate::plugin for State, |s| call)`,
/// where `call` is the store's [`CallState`] reached from `s: &mut State`. Each function only
/// converts the binding's types and calls [`write_log`] or `hookgate_sdk::crypto`.
macro_rules! host_imports {
    ($($package:ident)::+ for $state:ty, |$s:ident| $call:expr) => {
        const _: () = {
            use $($package)::+::{crypto, log};
            use hookgate_sdk::crypto as native;

            impl log::Host for $state {
                fn log(&mut self, level: log::Level, message: String) {
                    use hookgate_sdk::log::Level;
                    let level = match level {
                        log::Level::Trace => Level::Trace,
                        log::Level::Debug => Level::Debug,
                        log::Level::Info => Level::Info,
                        log::Level::Warn => Level::Warn,
                        log::Level::Error => Level::Error,
                    };
                    let $s = self;
                    $crate::runtime::host_imports::write_log($call, level, message);
                }
            }

            fn hash(algorithm: crypto::HashAlgorithm) -> native::Hash {
                match algorithm {
                    crypto::HashAlgorithm::Sha1 => native::Hash::Sha1,
                    crypto::HashAlgorithm::Sha256 => native::Hash::Sha256,
                    crypto::HashAlgorithm::Sha512 => native::Hash::Sha512,
                }
            }

            /// Runs a host-side computation for the guest and charges its time to the call.
            fn timed<T>(state: &mut $state, f: impl FnOnce() -> T) -> T {
                let started = std::time::Instant::now();
                let out = f();
                let $s = state;
                let call: &mut $crate::runtime::state::CallState = $call;
                call.charge_host_time(started.elapsed());
                out
            }

            impl crypto::Host for $state {
                fn hmac(
                    &mut self,
                    algorithm: crypto::HashAlgorithm,
                    key: Vec<u8>,
                    prefix: Vec<u8>,
                    message: Vec<u8>,
                ) -> Vec<u8> {
                    timed(self, || native::hmac(hash(algorithm), &key, &[&prefix, &message]))
                }

                fn hmac_verify(
                    &mut self,
                    algorithm: crypto::HashAlgorithm,
                    key: Vec<u8>,
                    prefix: Vec<u8>,
                    message: Vec<u8>,
                    expected: Vec<u8>,
                ) -> bool {
                    timed(self, || {
                        native::hmac_verify(hash(algorithm), &key, &[&prefix, &message], &expected)
                    })
                }

                fn sha256(&mut self, message: Vec<u8>) -> Vec<u8> {
                    timed(self, || native::sha256(&[&message]))
                }

                fn ed25519_verify(
                    &mut self,
                    public_key: Vec<u8>,
                    message: Vec<u8>,
                    signature: Vec<u8>,
                ) -> bool {
                    timed(self, || native::ed25519_verify(&public_key, &message, &signature))
                }

                fn ecdsa_p256_verify(
                    &mut self,
                    public_key: Vec<u8>,
                    message: Vec<u8>,
                    signature: Vec<u8>,
                ) -> bool {
                    timed(self, || {
                        native::ecdsa_p256_verify(&public_key, &message, &signature)
                    })
                }
            }
        };
    };
}
pub(super) use host_imports;

// Platform plugins: the 1.0.0 binding, which serves every 1.x platform plugin.
host_imports!(super::bindings::hookgate::plugin for CallState, |s| s);

impl super::bindings::hookgate::plugin::types::Host for CallState {}
impl super::bindings::hookgate::plugin::platform_types::Host for CallState {}

#[cfg(test)]
mod tests {
    use super::super::action_host::ActionState;
    use super::super::bindings::{action::hookgate::plugin as v1_1, hookgate::plugin as v1_0};
    use super::{CallState, MAX_LOG_LINES_PER_CALL};
    use hookgate_sdk::crypto::{self as native, Hash};
    use std::time::Duration;
    use v1_0::crypto::{HashAlgorithm as Alg1_0, Host as Crypto1_0};
    use v1_1::crypto::{HashAlgorithm as Alg1_1, Host as Crypto1_1};

    fn call() -> CallState {
        let second = Duration::from_secs(1);
        CallState::new("test".into(), 1 << 20, second, second)
    }

    /// Every binding maps its hash enum onto the same native hash: a swapped arm would answer
    /// with another algorithm's MAC.
    #[test]
    fn every_binding_answers_with_the_native_crypto() {
        const KEY: &[u8] = b"key";
        const PREFIX: &[u8] = b"v0:1:";
        const BODY: &[u8] = b"body";
        let v = <[u8]>::to_vec;
        let (mut platform, mut action) = (call(), ActionState::new(call(), None, None));
        for (hash, alg1_0, alg1_1) in [
            (Hash::Sha1, Alg1_0::Sha1, Alg1_1::Sha1),
            (Hash::Sha256, Alg1_0::Sha256, Alg1_1::Sha256),
            (Hash::Sha512, Alg1_0::Sha512, Alg1_1::Sha512),
        ] {
            let want = native::hmac(hash, KEY, &[PREFIX, BODY]);
            let macs = [
                Crypto1_0::hmac(&mut platform, alg1_0, v(KEY), v(PREFIX), v(BODY)),
                Crypto1_0::hmac(&mut action, alg1_0, v(KEY), v(PREFIX), v(BODY)),
                Crypto1_1::hmac(&mut action, alg1_1, v(KEY), v(PREFIX), v(BODY)),
            ];
            assert!(macs.iter().all(|mac| *mac == want), "{hash:?}");
            let verified = [
                Crypto1_0::hmac_verify(&mut platform, alg1_0, v(KEY), v(PREFIX), v(BODY), v(&want)),
                Crypto1_0::hmac_verify(&mut action, alg1_0, v(KEY), v(PREFIX), v(BODY), v(&want)),
                Crypto1_1::hmac_verify(&mut action, alg1_1, v(KEY), v(PREFIX), v(BODY), v(&want)),
            ];
            assert_eq!(verified, [true; 3], "{hash:?}");
        }
        let digest = native::sha256(&[BODY]);
        assert_eq!(Crypto1_0::sha256(&mut platform, v(BODY)), digest);
        assert_eq!(Crypto1_1::sha256(&mut action, v(BODY)), digest);
    }

    /// Both versions of `log` spend the one budget of the call they belong to.
    #[test]
    fn every_binding_logs_within_the_call_budget() {
        let mut action = ActionState::new(call(), None, None);
        for _ in 0..MAX_LOG_LINES_PER_CALL {
            v1_0::log::Host::log(&mut action, v1_0::log::Level::Info, "old".into());
            v1_1::log::Host::log(&mut action, v1_1::log::Level::Info, "new".into());
        }
        assert_eq!(action.call.log_lines, MAX_LOG_LINES_PER_CALL);
    }
}
