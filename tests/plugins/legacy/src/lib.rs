//! A platform plugin as a third party built it before 1.3.0: straight on the 1.2.0 WIT, with
//! separate `handshake`, `verify` and `normalize` calls and the `signer` export. Requests carry
//! `x-legacy-signature: <hex HMAC-SHA256 of the body>`; bodies are `{"id": …, "type": …}`. A GET
//! with `?challenge=` is answered with the challenge.
#![allow(missing_docs, unsafe_code)]

wit_bindgen::generate!({
    world: "hookgate:plugin/signing-platform-plugin@1.2.0",
    path: [
        "../../../wit/deps/wasi-io@0.2.12.wit",
        "../../../wit/deps/wasi-clocks@0.2.12.wit",
        "../../../wit/deps/wasi-random@0.2.12.wit",
        "../../../wit/deps/wasi-filesystem@0.2.12.wit",
        "../../../wit/deps/wasi-sockets@0.2.12.wit",
        "../../../wit/deps/wasi-cli@0.2.12.wit",
        "../../../wit/deps/wasi-http@0.2.12.wit",
        "../../../wit/hookgate-plugin@1.2.0",
    ],
});

use exports::hookgate::plugin::{platform, signer};
use hookgate::plugin::crypto::{self, HashAlgorithm};
use hookgate::plugin::platform_types::{
    Event, HandshakeResponse, Payload, PluginMetadata, SecretRequirement, VerifyError,
};
use hookgate::plugin::types::{Header, Request, VerifyContext};

const SIGNATURE: &str = "x-legacy-signature";

struct Legacy;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `"key":"value"` of a flat JSON object, enough for this test plugin's bodies.
fn field(body: &str, key: &str) -> Option<String> {
    let at = body.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = body[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

impl platform::Guest for Legacy {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            name: "legacy".into(),
            version: "1.2.0".into(),
            wit_version: "1.2.0".into(),
            description: "a plugin built for hookgate:plugin@1.2.0".into(),
            secrets: SecretRequirement::Required,
            secret_description: "shared secret".into(),
            suggested_max_body_bytes: None,
            has_handshake: true,
        }
    }

    fn handshake(request: Request, _: VerifyContext) -> Option<HandshakeResponse> {
        let challenge = request.url.split_once("challenge=")?.1.to_owned();
        (request.method == "GET").then(|| HandshakeResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: challenge.into_bytes(),
        })
    }

    fn verify(request: Request, context: VerifyContext) -> Result<(), VerifyError> {
        let header = request
            .headers
            .iter()
            .find(|h| h.name == SIGNATURE)
            .ok_or(VerifyError::MissingSignature)?;
        let text = std::str::from_utf8(&header.value)
            .map_err(|_| VerifyError::MalformedSignature("not UTF-8".into()))?;
        let expected =
            unhex(text.trim()).ok_or(VerifyError::MalformedSignature("not hex".into()))?;
        if context.secrets.is_empty() {
            return Err(VerifyError::NoSecretConfigured);
        }
        let genuine = context.secrets.iter().any(|secret| {
            crypto::hmac_verify(HashAlgorithm::Sha256, secret, &[], &request.body, &expected)
        });
        genuine.then_some(()).ok_or(VerifyError::SignatureMismatch)
    }

    fn normalize(request: Request) -> Result<Vec<Event>, String> {
        let body = String::from_utf8(request.body).map_err(|_| "body is not UTF-8".to_owned())?;
        let id = field(&body, "id").ok_or("body has no id")?;
        let kind = field(&body, "type").unwrap_or_else(|| "ping".into());
        Ok(vec![Event {
            platform_event_id: id.clone(),
            event_type: format!("legacy.{kind}"),
            occurred_at: None,
            entity_id: Some(id),
            entity_type: Some("legacy".into()),
            user_id: None,
            amount: None,
            currency: None,
            metadata: Vec::new(),
            payload: Payload::WholeBody,
        }])
    }
}

impl signer::Guest for Legacy {
    fn sign(
        request: signer::Request,
        context: signer::SignContext,
    ) -> Result<Vec<signer::Header>, signer::SignError> {
        let mac = crypto::hmac(HashAlgorithm::Sha256, &context.secret, &[], &request.body);
        Ok(vec![Header {
            name: SIGNATURE.into(),
            value: hex(&mac).into_bytes(),
        }])
    }
}

export!(Legacy);
