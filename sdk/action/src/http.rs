//! A small blocking HTTP client for action plugins, over `wasi:http/outgoing-handler`.
//!
//! ```ignore
//! use hookgate_sdk::http::{Method, Request};
//!
//! let response = Request::new(Method::Post, "https://example.com/hooks")
//!     .header("content-type", "application/json")
//!     .body(br#"{"hello":"world"}"#.to_vec())
//!     .send()?;
//! if response.status == 429 {
//!     let wait = response.header("retry-after");
//! }
//! ```
//!
//! Every request goes through the host, under its egress policy: timeouts, a response-size cap,
//! no redirects, and no private addresses unless the operator allows them. A refusal of that
//! policy is [`HttpError::Refused`], distinct from a destination that is down, because retrying
//! it cannot help.
//!
//! Off wasm (unit tests on the host target) there is no network: [`Request::send`] validates
//! the request, then fails with [`HttpError::Other`]. Keep the decisions about a response in
//! pure functions that take a [`Response`], and test those.

use crate::bindings::wasi::http::types as wt;
use std::fmt;

/// How much of a response body is kept. The rest is not read: actions look at a body for an
/// error snippet or a small acknowledgement, never for bulk data, and the host caps responses
/// as well.
pub const MAX_RESPONSE_BODY_BYTES: usize = 1 << 20;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
    /// OPTIONS.
    Options,
}

impl Method {
    /// Whether requests with this method carry a body, and so a `content-length` even when the
    /// body is empty (some servers answer 411 to a bodiless POST).
    fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }
}

/// The scheme of a [`Url`]: only HTTP and HTTPS exist for the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http`.
    Http,
    /// `https`.
    Https,
}

/// An absolute `http`/`https` URL split into the parts `wasi:http` wants. Parsed by hand, with
/// no URL crate, because the parts are all the host needs: it resolves and polices the
/// authority itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme.
    pub scheme: Scheme,
    /// `host[:port]`, as written (IPv6 literals keep their brackets).
    pub authority: String,
    /// The path and query, starting with `/`; the fragment is dropped (it is never sent).
    pub path_with_query: String,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL. Refuses other schemes, a missing host,
    /// a bad port, credentials in the URL (they would end up in logs; send an `authorization`
    /// header instead), and whitespace or control characters.
    pub fn parse(url: &str) -> Result<Url, HttpError> {
        let invalid = |why: &str| HttpError::InvalidRequest(format!("URL {why}"));
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace or control characters"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("is not absolute (expected http:// or https://)"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid("scheme must be http or https")),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.contains('@') {
            return Err(invalid(
                "must not contain credentials (use an authorization header)",
            ));
        }
        check_authority(authority).map_err(invalid)?;
        let path_with_query = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Ok(Url {
            scheme,
            authority: authority.to_owned(),
            path_with_query,
        })
    }
}

/// Checks `host[:port]`: a non-empty host and, when present, a port of 1 to 65535 digits-only.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || ":.".contains(c))
        {
            return Err("has an invalid IPv6 address");
        }
        match after {
            "" => (addr, None),
            p => (
                addr,
                Some(
                    p.strip_prefix(':')
                        .ok_or("has junk after the IPv6 address")?,
                ),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("has no host");
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:~%".contains(c))
    {
        return Err("has an invalid host");
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && matches!(port.parse::<u32>(), Ok(1..=65_535));
        if !valid {
            return Err("has an invalid port");
        }
    }
    Ok(())
}

/// Whether `name` is a valid header name (an RFC 9110 token).
pub fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` can be sent as a header value: no CR, LF or NUL (header injection), and no
/// other control character except tab.
pub fn is_valid_header_value(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || !c.is_control())
}

/// Headers as `wasi:http` takes them: lower-case names and byte values.
type WireHeaders = Vec<(String, Vec<u8>)>;

/// An outbound HTTP request, built fluently and sent with [`Request::send`].
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl fmt::Debug for Request {
    /// Shows header names only: header values are where credentials and signatures live.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

impl Request {
    /// A request with no headers and an empty body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header; a repeated name is sent several times. `content-length` is computed from
    /// the body, so one set here is ignored.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers added so far, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// Checks the request and lists the headers to send, `content-length` included. Shared by
    /// the wasm and native paths so that tests see the same validation errors as the gateway.
    fn prepare(&self) -> Result<(Url, WireHeaders), HttpError> {
        let url = Url::parse(&self.url)?;
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        for (name, value) in &self.headers {
            if !is_valid_header_name(name) {
                return Err(HttpError::InvalidRequest(format!(
                    "invalid header name {name:?}"
                )));
            }
            if !is_valid_header_value(value) {
                // The value is not quoted: it may be a credential.
                return Err(HttpError::InvalidRequest(format!(
                    "header {name} has a control character in its value"
                )));
            }
            if !name.eq_ignore_ascii_case("content-length") {
                headers.push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
            }
        }
        if self.method.has_body() || !self.body.is_empty() {
            headers.push((
                "content-length".into(),
                self.body.len().to_string().into_bytes(),
            ));
        }
        Ok((url, headers))
    }

    /// Sends the request and waits for the response, reading at most
    /// [`MAX_RESPONSE_BODY_BYTES`] of its body. Redirects are not followed: a 3xx is returned
    /// like any other status.
    pub fn send(&self) -> Result<Response, HttpError> {
        let (url, headers) = self.prepare()?;
        imp::send(self.method, &url, headers, &self.body)
    }
}

/// A response: status, headers and (at most [`MAX_RESPONSE_BODY_BYTES`] of) the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Every header in order, names in lower case; values that are not UTF-8 are converted
    /// lossily.
    pub headers: Vec<(String, String)>,
    /// The body, or its first [`MAX_RESPONSE_BODY_BYTES`].
    pub body: Vec<u8>,
    /// Whether the body is incomplete: longer than the cap, or the connection failed after the
    /// status line. The status and headers are the destination's answer either way.
    pub body_truncated: bool,
}

impl Response {
    /// A response with a status and nothing else, for tests.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            ..Default::default()
        }
    }

    /// Adds a header, for tests.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Sets the body, for tests.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no response. The variants are what an action needs to decide between
/// retrying and giving up; the text says what exactly happened, for the attempt history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// DNS, connect, send or response timed out: worth retrying.
    Timeout(String),
    /// The destination could not be reached or dropped the connection (refused, reset, DNS
    /// failure, TLS failure): worth retrying.
    Connect(String),
    /// The host's egress policy refused the request (a private address, a denied
    /// destination): retrying cannot help until the operator changes the policy.
    Refused(String),
    /// The request itself is invalid (URL, method, headers, size): retrying cannot help.
    InvalidRequest(String),
    /// Anything else, e.g. an internal error of the host.
    Other(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Timeout(what) => write!(f, "timed out: {what}"),
            HttpError::Connect(what) => write!(f, "connection failed: {what}"),
            HttpError::Refused(why) => write!(f, "refused by egress policy: {why}"),
            HttpError::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            HttpError::Other(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for HttpError {}

/// Maps a `wasi:http` error code to [`HttpError`]. Compiled on every target so that the
/// mapping is unit-tested natively, though only wasm builds call it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn from_error_code(code: wt::ErrorCode) -> HttpError {
    use wt::ErrorCode as E;
    let text = |what: &str, detail: Option<String>| match detail {
        Some(d) if !d.is_empty() => format!("{what} ({d})"),
        _ => what.to_owned(),
    };
    match code {
        E::DnsTimeout => HttpError::Timeout("DNS lookup".into()),
        E::ConnectionTimeout => HttpError::Timeout("connecting".into()),
        E::ConnectionReadTimeout => HttpError::Timeout("reading the response".into()),
        E::ConnectionWriteTimeout => HttpError::Timeout("sending the request".into()),
        E::HttpResponseTimeout => HttpError::Timeout("waiting for the response".into()),

        E::DnsError(p) => HttpError::Connect(text("DNS error", p.rcode)),
        E::DestinationNotFound => HttpError::Connect("destination not found".into()),
        E::DestinationUnavailable => HttpError::Connect("destination unavailable".into()),
        E::DestinationIpUnroutable => HttpError::Connect("destination IP unroutable".into()),
        E::ConnectionRefused => HttpError::Connect("connection refused".into()),
        E::ConnectionTerminated => HttpError::Connect("connection terminated".into()),
        E::ConnectionLimitReached => HttpError::Connect("connection limit reached".into()),
        E::TlsProtocolError => HttpError::Connect("TLS protocol error".into()),
        E::TlsCertificateError => HttpError::Connect("TLS certificate error".into()),
        E::TlsAlertReceived(p) => HttpError::Connect(text("TLS alert", p.alert_message)),
        E::HttpResponseIncomplete => HttpError::Connect("response incomplete".into()),

        E::DestinationIpProhibited => HttpError::Refused("destination IP prohibited".into()),
        E::HttpRequestDenied => HttpError::Refused("request denied".into()),

        E::HttpRequestLengthRequired => HttpError::InvalidRequest("length required".into()),
        E::HttpRequestBodySize(_) => HttpError::InvalidRequest("request body too large".into()),
        E::HttpRequestMethodInvalid => HttpError::InvalidRequest("invalid method".into()),
        E::HttpRequestUriInvalid => HttpError::InvalidRequest("invalid URI".into()),
        E::HttpRequestUriTooLong => HttpError::InvalidRequest("URI too long".into()),
        E::HttpRequestHeaderSectionSize(_) | E::HttpRequestHeaderSize(_) => {
            HttpError::InvalidRequest("request headers too large".into())
        }
        E::HttpRequestTrailerSectionSize(_) | E::HttpRequestTrailerSize(_) => {
            HttpError::InvalidRequest("request trailers too large".into())
        }

        E::HttpResponseHeaderSectionSize(_) | E::HttpResponseHeaderSize(_) => {
            HttpError::Other("response headers too large".into())
        }
        E::HttpResponseBodySize(_) => HttpError::Other("response body too large".into()),
        E::HttpResponseTrailerSectionSize(_) | E::HttpResponseTrailerSize(_) => {
            HttpError::Other("response trailers too large".into())
        }
        E::HttpResponseTransferCoding(c) => {
            HttpError::Other(text("unsupported response transfer coding", c))
        }
        E::HttpResponseContentCoding(c) => {
            HttpError::Other(text("unsupported response content coding", c))
        }
        E::HttpUpgradeFailed => HttpError::Other("HTTP upgrade failed".into()),
        E::HttpProtocolError => HttpError::Other("HTTP protocol error".into()),
        E::LoopDetected => HttpError::Other("loop detected".into()),
        E::ConfigurationError => HttpError::Other("host configuration error".into()),
        E::InternalError(m) => HttpError::Other(text("host internal error", m)),
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::{
        HttpError, MAX_RESPONSE_BODY_BYTES, Method, Response, Scheme, Url, WireHeaders, wt,
    };
    use crate::bindings::wasi::http::outgoing_handler;
    use crate::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

    /// Largest read asked of the host at once; bounded so the guest never allocates more than
    /// the remaining cap.
    const READ_CHUNK: u64 = 64 * 1024;

    pub fn send(
        method: Method,
        url: &Url,
        headers: WireHeaders,
        body: &[u8],
    ) -> Result<Response, HttpError> {
        let fields = wt::Fields::from_list(&headers).map_err(|e| match e {
            wt::HeaderError::Forbidden => {
                HttpError::InvalidRequest("a header is forbidden by the host".into())
            }
            wt::HeaderError::InvalidSyntax => {
                HttpError::InvalidRequest("a header is invalid".into())
            }
            wt::HeaderError::Immutable => HttpError::Other("headers are immutable".into()),
        })?;
        let request = wt::OutgoingRequest::new(fields);
        let invalid = |what: &str| HttpError::InvalidRequest(format!("host rejected the {what}"));
        request
            .set_method(&match method {
                Method::Get => wt::Method::Get,
                Method::Head => wt::Method::Head,
                Method::Post => wt::Method::Post,
                Method::Put => wt::Method::Put,
                Method::Patch => wt::Method::Patch,
                Method::Delete => wt::Method::Delete,
                Method::Options => wt::Method::Options,
            })
            .map_err(|()| invalid("method"))?;
        request
            .set_scheme(Some(&match url.scheme {
                Scheme::Http => wt::Scheme::Http,
                Scheme::Https => wt::Scheme::Https,
            }))
            .map_err(|()| invalid("scheme"))?;
        request
            .set_authority(Some(&url.authority))
            .map_err(|()| invalid("authority"))?;
        request
            .set_path_with_query(Some(&url.path_with_query))
            .map_err(|()| invalid("path"))?;
        let outgoing_body = request
            .body()
            .map_err(|()| HttpError::Other("request body already taken".into()))?;

        // Hand the request over first and stream the body afterwards: the host consumes the
        // body while sending, so writing a large body before `handle` could fill its buffer
        // with no reader and block forever.
        let future = outgoing_handler::handle(request, None).map_err(super::from_error_code)?;
        let sent = {
            let stream = outgoing_body
                .write()
                .map_err(|()| HttpError::Other("request body stream already taken".into()))?;
            match write_all(&stream, body) {
                Ok(()) => stream.blocking_flush().map_err(|_| Sent::HandedOver),
                Err(e) => Err(Sent::Failed(e)),
            }
            // The stream is a child of the body and must be dropped before `finish`.
        };
        let sent = match sent {
            Ok(()) => wt::OutgoingBody::finish(outgoing_body, None).map_err(|_| Sent::HandedOver),
            Err(e) => {
                drop(outgoing_body);
                Err(e)
            }
        };

        // When sending the body failed, the response future usually holds the real reason
        // (refused, connection reset...), which says more than "stream closed"; and a server
        // may answer early without reading the body (401, 413), which is its real answer. A 2xx
        // is not trusted when part of the body never reached the host. Once every byte has,
        // a failing flush or finish means the host's sender is gone, which it is as soon as
        // the whole declared body went out and the answer came back: that 2xx is real (taking
        // it for a failure resent delivered events).
        match (await_response(&future), sent) {
            (Ok(response), Ok(()) | Err(Sent::HandedOver)) => read_response(response),
            (Ok(response), Err(Sent::Failed(e))) if (200..300).contains(&response.status()) => {
                Err(e)
            }
            (Ok(response), Err(Sent::Failed(_))) => read_response(response),
            (Err(e), _) => Err(e),
        }
    }

    /// How sending a request body failed.
    enum Sent {
        /// Some bytes were never written to the host.
        Failed(HttpError),
        /// Every byte was written; the final flush or finish failed (the response, or its
        /// failure, says what happened).
        HandedOver,
    }

    /// Writes all of `bytes`, as fast as the host's `check-write` budget allows.
    fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), HttpError> {
        while !bytes.is_empty() {
            let budget = stream.check_write().map_err(stream_error)?;
            if budget == 0 {
                stream.subscribe().block();
                continue;
            }
            let n = usize::try_from(budget)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            stream.write(&bytes[..n]).map_err(stream_error)?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn await_response(
        future: &wt::FutureIncomingResponse,
    ) -> Result<wt::IncomingResponse, HttpError> {
        loop {
            match future.get() {
                Some(Ok(Ok(response))) => return Ok(response),
                Some(Ok(Err(code))) => return Err(super::from_error_code(code)),
                Some(Err(())) => {
                    return Err(HttpError::Other("response already taken".into()));
                }
                None => future.subscribe().block(),
            }
        }
    }

    fn read_response(response: wt::IncomingResponse) -> Result<Response, HttpError> {
        let status = response.status();
        let headers = {
            let fields = response.headers();
            fields
                .entries()
                .into_iter()
                .map(|(name, value)| {
                    let value = String::from_utf8(value)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                    (name.to_ascii_lowercase(), value)
                })
                .collect()
            // `fields` is a child of the response and is dropped here, before the response.
        };
        let mut out = Response {
            status,
            headers,
            body: Vec::new(),
            body_truncated: false,
        };
        let Ok(body) = response.consume() else {
            out.body_truncated = true;
            return Ok(out);
        };
        match body.stream() {
            Ok(stream) => {
                out.body_truncated = !read_capped(&stream, &mut out.body);
                drop(stream);
            }
            Err(()) => out.body_truncated = true,
        }
        // The rest of the body is deliberately left unread: dropping the body lets the host
        // discard it instead of copying it into the guest.
        drop(body);
        Ok(out)
    }

    /// Reads into `buf` up to the cap; returns whether the whole body was read. A failure
    /// after the status line only truncates the body: the destination has already answered.
    fn read_capped(stream: &InputStream, buf: &mut Vec<u8>) -> bool {
        loop {
            let room = MAX_RESPONSE_BODY_BYTES - buf.len();
            if room == 0 {
                // Full: the body is complete only if nothing follows.
                return matches!(stream.blocking_read(1), Err(StreamError::Closed));
            }
            match stream.blocking_read(READ_CHUNK.min(room as u64)) {
                Ok(chunk) => buf.extend_from_slice(&chunk),
                Err(StreamError::Closed) => return true,
                Err(StreamError::LastOperationFailed(_)) => return false,
            }
        }
    }

    fn stream_error(e: StreamError) -> HttpError {
        match e {
            StreamError::Closed => HttpError::Connect("connection closed while sending".into()),
            StreamError::LastOperationFailed(err) => match wt::http_error_code(&err) {
                Some(code) => super::from_error_code(code),
                None => HttpError::Connect(err.to_debug_string()),
            },
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::{HttpError, Method, Response, Url, WireHeaders};

    pub fn send(
        _method: Method,
        _url: &Url,
        _headers: WireHeaders,
        _body: &[u8],
    ) -> Result<Response, HttpError> {
        Err(HttpError::Other(
            "outbound HTTP is only available inside the gateway".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_authority_and_path() {
        let u = Url::parse("https://example.com/hooks?x=1#frag").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.authority, "example.com");
        assert_eq!(u.path_with_query, "/hooks?x=1");

        let u = Url::parse("HTTP://127.0.0.1:8080").unwrap();
        assert_eq!(
            (u.scheme, u.authority.as_str(), u.path_with_query.as_str()),
            (Scheme::Http, "127.0.0.1:8080", "/")
        );
        assert_eq!(
            Url::parse("http://h?q").unwrap().path_with_query,
            "/?q".to_owned()
        );
        let u = Url::parse("https://[::1]:8443/a").unwrap();
        assert_eq!(u.authority, "[::1]:8443");
    }

    #[test]
    fn bad_urls_are_invalid_requests() {
        for bad in [
            "",
            "example.com/hooks",
            "ftp://example.com/",
            "https://",
            "https:///path",
            "https://user:pw@example.com/",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://example.com:80a/",
            "https://example.com:/",
            "https://exa mple.com/",
            "https://example.com/a\nb",
            "https://[::1/",
            "https://[::1]x/",
            "https://ex<ample.com/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(HttpError::InvalidRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn headers_are_validated_and_content_length_computed() {
        let req = Request::new(Method::Post, "https://example.com/")
            .header("Content-Type", "application/json")
            .header("content-length", "999")
            .body(b"{}".to_vec());
        let (_, headers) = req.prepare().unwrap();
        assert_eq!(
            headers,
            vec![
                ("content-type".to_owned(), b"application/json".to_vec()),
                ("content-length".to_owned(), b"2".to_vec()),
            ]
        );
        let (_, headers) = Request::new(Method::Get, "https://example.com/")
            .prepare()
            .unwrap();
        assert!(headers.is_empty());

        let bad_name = Request::new(Method::Get, "https://e.com/").header("bad name", "v");
        assert!(matches!(
            bad_name.prepare(),
            Err(HttpError::InvalidRequest(_))
        ));
        let injected = Request::new(Method::Get, "https://e.com/").header("x", "a\r\nb: c");
        match injected.prepare() {
            Err(HttpError::InvalidRequest(msg)) => assert!(!msg.contains("a\r\nb")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn natively_send_validates_then_reports_no_network() {
        assert!(matches!(
            Request::new(Method::Post, "ftp://x/").send(),
            Err(HttpError::InvalidRequest(_))
        ));
        assert_eq!(
            Request::new(Method::Post, "https://example.com/").send(),
            Err(HttpError::Other(
                "outbound HTTP is only available inside the gateway".into()
            ))
        );
    }

    #[test]
    fn response_headers_are_case_insensitive() {
        let r = Response::new(429)
            .with_header("Retry-After", "5")
            .with_body("slow down");
        assert_eq!(r.header("retry-after"), Some("5"));
        assert_eq!(r.header("RETRY-AFTER"), Some("5"));
        assert_eq!(r.header("location"), None);
        assert!(!r.is_success());
        assert!(Response::new(204).is_success());
    }

    #[test]
    fn error_codes_map_to_what_an_action_decides_on() {
        use wt::ErrorCode as E;
        let cases = [
            (E::ConnectionTimeout, "timeout"),
            (E::ConnectionReadTimeout, "timeout"),
            (E::HttpResponseTimeout, "timeout"),
            (E::DnsTimeout, "timeout"),
            (E::ConnectionRefused, "connect"),
            (E::ConnectionTerminated, "connect"),
            (
                E::DnsError(wt::DnsErrorPayload {
                    rcode: Some("NXDOMAIN".into()),
                    info_code: None,
                }),
                "connect",
            ),
            (E::DestinationIpProhibited, "refused"),
            (E::HttpRequestDenied, "refused"),
            (E::HttpRequestUriInvalid, "invalid"),
            (E::InternalError(Some("boom".into())), "other"),
        ];
        for (code, want) in cases {
            let got = from_error_code(code);
            let kind = match &got {
                HttpError::Timeout(_) => "timeout",
                HttpError::Connect(_) => "connect",
                HttpError::Refused(_) => "refused",
                HttpError::InvalidRequest(_) => "invalid",
                HttpError::Other(_) => "other",
            };
            assert_eq!(kind, want, "{got:?}");
        }
        assert_eq!(
            from_error_code(E::DnsError(wt::DnsErrorPayload {
                rcode: Some("NXDOMAIN".into()),
                info_code: None,
            }))
            .to_string(),
            "connection failed: DNS error (NXDOMAIN)"
        );
        assert_eq!(
            from_error_code(E::DestinationIpProhibited).to_string(),
            "refused by egress policy: destination IP prohibited"
        );
    }
}
