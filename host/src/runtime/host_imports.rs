//! What a platform plugin may import: logging and natively-run crypto. This is the plugin's
//! whole grant; every other import (the WASI interfaces Rust's standard library references) is
//! linked to a trap, so a plugin has no clock, filesystem, environment or network.

use super::bindings::hookgate::plugin::{crypto, log, platform_types, types};
use super::state::CallState;
use hookgate_sdk::crypto as native;

/// Lines a single plugin call may log; more are dropped (and counted) so a chatty or hostile
/// plugin cannot flood the host log.
const MAX_LOG_LINES_PER_CALL: u32 = 32;
/// Longest log message kept, in bytes.
const MAX_LOG_LINE_BYTES: usize = 1024;

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String) {
        if self.log_lines >= MAX_LOG_LINES_PER_CALL {
            return;
        }
        self.log_lines += 1;
        let mut message = message;
        if message.len() > MAX_LOG_LINE_BYTES {
            let cut = (0..=MAX_LOG_LINE_BYTES)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
        }
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

fn hash(alg: crypto::HashAlgorithm) -> native::Hash {
    match alg {
        crypto::HashAlgorithm::Sha1 => native::Hash::Sha1,
        crypto::HashAlgorithm::Sha256 => native::Hash::Sha256,
        crypto::HashAlgorithm::Sha512 => native::Hash::Sha512,
    }
}

impl crypto::Host for CallState {
    fn hmac(
        &mut self,
        algorithm: crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
    ) -> Vec<u8> {
        native::hmac(hash(algorithm), &key, &[&prefix, &message])
    }

    fn hmac_verify(
        &mut self,
        algorithm: crypto::HashAlgorithm,
        key: Vec<u8>,
        prefix: Vec<u8>,
        message: Vec<u8>,
        expected: Vec<u8>,
    ) -> bool {
        native::hmac_verify(hash(algorithm), &key, &[&prefix, &message], &expected)
    }

    fn sha256(&mut self, message: Vec<u8>) -> Vec<u8> {
        native::sha256(&[&message])
    }

    fn ed25519_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        native::ed25519_verify(&public_key, &message, &signature)
    }

    fn ecdsa_p256_verify(
        &mut self,
        public_key: Vec<u8>,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> bool {
        native::ecdsa_p256_verify(&public_key, &message, &signature)
    }
}

impl types::Host for CallState {}
impl platform_types::Host for CallState {}
