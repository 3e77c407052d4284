//! The trait a platform plugin implements, and what it declares about itself.

use crate::{Event, NormalizeError, Request, VerifyContext, VerifyError};

/// Whether a plugin needs configured secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRequirement {
    /// Verification is impossible without a secret; a source without one is a config error.
    Required,
    /// Secrets are used when configured.
    Optional,
    /// No shared secrets (public-key schemes).
    None,
}

/// Static facts about a plugin, reported once at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The name sources use in `plugin = "..."`; lower case `[a-z0-9-]`.
    pub name: String,
    /// One-line description for operators.
    pub description: String,
    /// Whether secrets are needed.
    pub secrets: SecretRequirement,
    /// What the platform calls the secret, for messages.
    pub secret_description: String,
    /// The largest body the platform documents sending.
    pub suggested_max_body_bytes: Option<u64>,
    /// Whether [`Platform::handshake`] can answer anything.
    pub has_handshake: bool,
}

impl Metadata {
    /// Metadata with a name and description; secrets default to required.
    pub fn new(name: &str, description: &str) -> Self {
        Metadata {
            name: name.into(),
            description: description.into(),
            secrets: SecretRequirement::Required,
            secret_description: "signing secret".into(),
            suggested_max_body_bytes: None,
            has_handshake: false,
        }
    }

    /// Sets whether secrets are needed.
    pub fn secrets(mut self, requirement: SecretRequirement) -> Self {
        self.secrets = requirement;
        self
    }

    /// Sets what the platform calls the secret.
    pub fn secret_description(mut self, text: &str) -> Self {
        self.secret_description = text.into();
        self
    }

    /// Sets the largest body the platform sends.
    pub fn suggested_max_body_bytes(mut self, bytes: u64) -> Self {
        self.suggested_max_body_bytes = Some(bytes);
        self
    }

    /// Declares that [`Platform::handshake`] is implemented.
    pub fn with_handshake(mut self) -> Self {
        self.has_handshake = true;
        self
    }
}

/// A response to a platform handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl HandshakeResponse {
    /// A 200 response with a body and content type.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        HandshakeResponse {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }
}

/// What [`Platform::sign`] signs with; the host supplies all of it (a plugin has no clock and no
/// randomness of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignContext {
    /// The secret to sign with, as configured (the source's first secret).
    pub secret: Vec<u8>,
    /// The current time, Unix seconds.
    pub now_unix_secs: i64,
    /// A fresh random token for platforms whose requests carry a unique delivery id.
    pub nonce: String,
}

impl SignContext {
    /// The secret as text, for platforms whose secrets are strings.
    pub fn secret_str(&self) -> Result<&str, SignError> {
        std::str::from_utf8(&self.secret)
            .map(str::trim)
            .map_err(|_| SignError::invalid("the secret is not UTF-8"))
    }
}

/// Why [`Platform::sign`] could not sign a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The plugin does not sign (the default).
    Unsupported,
    /// Something the platform always sends is missing, or the secret is unusable.
    Invalid(String),
}

impl SignError {
    /// An [`SignError::Invalid`] with a message for the operator.
    pub fn invalid(message: impl Into<String>) -> Self {
        SignError::Invalid(message.into())
    }
}

/// A platform plugin. All functions are pure: they see only their arguments.
pub trait Platform {
    /// Static facts about the plugin.
    fn metadata() -> Metadata;

    /// Answers a handshake, or `None` for an ordinary webhook. Must authenticate the handshake
    /// itself where the platform signs it. Only called when metadata declares a handshake.
    fn handshake(_request: &Request, _context: &VerifyContext) -> Option<HandshakeResponse> {
        None
    }

    /// Whether the request is genuine.
    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError>;

    /// Turns a verified request into events.
    fn normalize(request: &Request) -> Result<Vec<Event>, NormalizeError>;

    /// The headers that make `request` (a POST carrying the operator's body, URL and extra
    /// headers) pass [`Platform::verify`] under `context.secret`, plus any header the platform
    /// always sends that [`Platform::normalize`] needs. Used by `hookgate send` to test a source
    /// end to end without the platform; the default cannot sign.
    fn sign(
        _request: &Request,
        _context: &SignContext,
    ) -> Result<Vec<(String, String)>, SignError> {
        Err(SignError::Unsupported)
    }
}
