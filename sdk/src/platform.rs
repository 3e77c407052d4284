//! The trait a platform plugin implements, and what it declares about itself.

use crate::{ConfigError, Event, NormalizeError, Request, Settings, VerifyContext, VerifyError};

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

/// An HTTP answer a plugin chooses: to a handshake, or to an accepted webhook where the
/// platform requires a particular one ([`Platform::answer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Vec<u8>,
}

impl Response {
    /// A 200 response with a body and content type.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A response with `status` and no body.
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// What [`Platform::sign`] signs with; the host supplies all of it (a plugin has no clock and no
/// randomness of its own).
#[derive(Debug, Clone, PartialEq)]
pub struct SignContext {
    /// The secret to sign with, as configured (the source's first secret).
    pub secret: Vec<u8>,
    /// The current time, Unix seconds.
    pub now_unix_secs: i64,
    /// A fresh random token for platforms whose requests carry a unique delivery id.
    pub nonce: String,
    /// The source's settings, as [`VerifyContext::settings`].
    pub settings: Settings,
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

/// A platform plugin. All functions are pure: they see only their arguments. For each request
/// the host makes one call, in which the SDK runs [`Platform::handshake`], then (for a POST)
/// [`Platform::verify`], then [`Platform::normalize`] and [`Platform::answer`], on one copy of
/// the request.
pub trait Platform {
    /// Static facts about the plugin.
    fn metadata() -> Metadata;

    /// Checks a source's settings (its `config` table) when the gateway loads its config; a
    /// refusal is a config error naming the source and the key. The default takes none.
    fn check_config(settings: &Settings) -> Result<(), ConfigError> {
        settings.only(&[])
    }

    /// Answers a handshake, or `None` for an ordinary webhook. Must authenticate the handshake
    /// itself where the platform signs it. Declare it in [`Metadata::with_handshake`] too: the
    /// host sends requests other than POSTs only to plugins that do.
    fn handshake(_request: &Request, _context: &VerifyContext) -> Option<Response> {
        None
    }

    /// Whether the request is genuine.
    fn verify(request: &Request, context: &VerifyContext) -> Result<(), VerifyError>;

    /// Turns a verified request into events.
    fn normalize(request: &Request, settings: &Settings) -> Result<Vec<Event>, NormalizeError>;

    /// The answer the platform requires to an accepted webhook (Adyen's `[accepted]`), sent
    /// after the durable write, to redeliveries too; `None` (the default) for hookgate's own.
    /// Only a 2xx status is used.
    fn answer(_request: &Request, _settings: &Settings) -> Option<Response> {
        None
    }

    /// The headers that make `request` (a POST carrying the operator's body, URL and extra
    /// headers) pass [`Platform::verify`] under `context.secret`, plus any header the platform
    /// always sends that [`Platform::normalize`] needs. Used by `hookgate send` to test a source
    /// end to end without the platform; the default cannot sign. For platforms that sign
    /// inside the body it sees the body [`Platform::sign_body`] returned.
    fn sign(
        _request: &Request,
        _context: &SignContext,
    ) -> Result<Vec<(String, String)>, SignError> {
        Err(SignError::Unsupported)
    }

    /// For platforms that sign inside the body (Mailgun's `signature` object, Adyen's per-item
    /// HMAC, Linear's `webhookTimestamp`): the body to send instead of the operator's, made
    /// genuine under `context`. The default keeps the operator's body.
    fn sign_body(_request: &Request, _context: &SignContext) -> Result<Option<Vec<u8>>, SignError> {
        Ok(None)
    }
}

/// A test request's signature: the headers to add and, when the platform signs inside the
/// body, the body to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `(lower-case name, value)` to add.
    pub headers: Vec<(String, String)>,
    /// The body to send instead, if any.
    pub body: Option<Vec<u8>>,
}

/// Signs `request` as `hookgate send` does: [`Platform::sign_body`] first, then
/// [`Platform::sign`] over the request carrying that body.
pub fn sign_request<P: Platform>(
    mut request: Request,
    context: &SignContext,
) -> Result<Signed, SignError> {
    let body = P::sign_body(&request, context)?;
    if let Some(body) = &body {
        request.body.clone_from(body);
    }
    let headers = P::sign(&request, context)?
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    Ok(Signed { headers, body })
}
