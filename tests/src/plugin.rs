//! Plugin files for tests that exercise hot reload.

/// The same component with a custom section appended: a different file (and hash) that
/// behaves identically, i.e. a new build of the plugin.
pub fn rebuilt(wasm: &[u8], tag: &str) -> Vec<u8> {
    let name = b"hookgate-test-build";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(tag.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0); // custom section id
    out.push(u8::try_from(payload.len()).expect("short tag"));
    out.extend_from_slice(&payload);
    out
}
