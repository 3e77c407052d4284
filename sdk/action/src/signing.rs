//! Signatures made by the host with a key from the route's config (`hookgate:plugin/signing`):
//! the key is handed over per call and the host does the arithmetic natively, so a plugin
//! carries no RSA code of its own.

/// The RS256 (RSASSA-PKCS1-v1_5 / SHA-256) signature of `message` under `private_key_pem`, an
/// RSA private key in PEM (PKCS#8 `BEGIN PRIVATE KEY`, as in a Google service-account key, or
/// PKCS#1 `BEGIN RSA PRIVATE KEY`). The error says what is wrong with the key without quoting
/// it. Outside the gateway (a plugin's native unit tests) there is no host to sign: an error.
pub fn rs256_sign(private_key_pem: &str, message: &[u8]) -> Result<Vec<u8>, String> {
    imp::rs256_sign(private_key_pem, message)
}

#[cfg(target_arch = "wasm32")]
mod imp {
    pub fn rs256_sign(private_key_pem: &str, message: &[u8]) -> Result<Vec<u8>, String> {
        crate::bindings::hookgate::plugin::signing::rs256_sign(private_key_pem, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub fn rs256_sign(_private_key_pem: &str, _message: &[u8]) -> Result<Vec<u8>, String> {
        Err("RS256 signing is only available inside the gateway".into())
    }
}
