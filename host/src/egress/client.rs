//! The one outbound HTTP/1.1 exchange of an action: resolve, check, connect to the checked
//! address, optional TLS, send, and hand back a response whose body is capped in size and
//! bounded by the request's total deadline.

use super::Egress;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, timeout_at};
use wasmtime_wasi_http::{Error, WasiBody};

/// A failed request: the code the guest sees and the reason the host records.
#[derive(Debug)]
pub(super) struct Failure {
    pub code: Error,
    pub reason: String,
}

fn fail<T>(code: Error, reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        code,
        reason: reason.into(),
    })
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Sends `request` under the egress policy.
pub(super) async fn send(
    egress: &Egress,
    mut request: http::Request<WasiBody>,
) -> Result<http::Response<WasiBody>, Failure> {
    let deadline = Instant::now() + egress.total_timeout;
    let uri = request.uri().clone();
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => {
            return fail(
                Error::HttpRequestUriInvalid,
                format!("unsupported scheme {other:?}: only http and https"),
            );
        }
    };
    let Some(host) = uri.host() else {
        return fail(Error::HttpRequestUriInvalid, "the URL has no host");
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });

    let connect_deadline = Instant::now() + egress.connect_timeout;
    let resolved = match timeout_at(
        connect_deadline,
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    {
        Err(_) => return fail(Error::DnsTimeout, format!("resolving {host} timed out")),
        Ok(Err(e)) => {
            return fail(
                Error::DnsError {
                    rcode: Some(e.to_string()),
                    info_code: None,
                },
                format!("resolving {host}: {e}"),
            );
        }
        Ok(Ok(addrs)) => addrs.collect::<Vec<SocketAddr>>(),
    };
    let mut allowed = Vec::with_capacity(resolved.len());
    let mut refusal = None;
    for addr in resolved {
        match egress.policy.check(addr.ip()) {
            Ok(()) => allowed.push(addr),
            Err(why) => refusal = refusal.or(Some(why)),
        }
    }
    if allowed.is_empty() {
        let why = refusal.unwrap_or_else(|| "it resolves to no address".into());
        return fail(
            Error::DestinationIpProhibited,
            format!("refused by egress policy: {host}: {why}"),
        );
    }

    let mut last_error = None;
    let mut tcp = None;
    for addr in allowed {
        match timeout_at(connect_deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                tcp = Some(stream);
                break;
            }
            Ok(Err(e)) => last_error = Some(format!("connecting to {addr}: {e}")),
            Err(_) => {
                return fail(
                    Error::ConnectionTimeout,
                    format!("connecting to {addr} timed out"),
                );
            }
        }
    }
    let Some(tcp) = tcp else {
        return fail(
            Error::ConnectionRefused,
            last_error.unwrap_or_else(|| format!("cannot connect to {host}")),
        );
    };
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if https {
        let name = match rustls::pki_types::ServerName::try_from(host.clone()) {
            Ok(name) => name,
            Err(e) => return fail(Error::HttpRequestUriInvalid, format!("{host}: {e}")),
        };
        let connector = tokio_rustls::TlsConnector::from(egress.tls.clone());
        match timeout_at(connect_deadline, connector.connect(name, tcp)).await {
            Ok(Ok(tls)) => Box::new(tls),
            Ok(Err(e)) => return fail(Error::TlsCertificateError, format!("TLS with {host}: {e}")),
            Err(_) => {
                return fail(
                    Error::ConnectionTimeout,
                    format!("TLS with {host} timed out"),
                );
            }
        }
    } else {
        Box::new(tcp)
    };

    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake::<_, WasiBody>(TokioIo::new(stream)).await {
            Ok(parts) => parts,
            Err(e) => return fail(Error::HttpProtocolError, format!("HTTP handshake: {e}")),
        };
    tokio::spawn(async move {
        // Ends when the response body is dropped or the peer closes; errors surface through
        // the response itself.
        let _ = connection.await;
    });
    let path = uri
        .path_and_query()
        .map_or_else(|| http::uri::PathAndQuery::from_static("/"), Clone::clone);
    *request.uri_mut() = http::Uri::from(path);

    let response = match timeout_at(deadline, sender.send_request(request)).await {
        Err(_) => {
            return fail(
                Error::HttpResponseTimeout,
                format!("no response within {} ms", egress.total_timeout.as_millis()),
            );
        }
        Ok(Err(e)) => {
            return fail(
                Error::HttpProtocolError,
                format!("request to {host} failed: {e}"),
            );
        }
        Ok(Ok(response)) => response,
    };
    if let Some(length) = response.body().size_hint().exact()
        && length > egress.max_response_bytes
    {
        return fail(
            Error::HttpResponseBodySize(Some(length)),
            format!(
                "response body of {length} bytes exceeds the {} byte cap",
                egress.max_response_bytes
            ),
        );
    }
    let cap = egress.max_response_bytes;
    Ok(response.map(|body| {
        CappedBody {
            inner: body,
            remaining: cap,
            cap,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
        }
        .boxed_unsync()
    }))
}

/// A response body that fails once it exceeds the size cap or the request's deadline.
struct CappedBody {
    inner: hyper::body::Incoming,
    remaining: u64,
    cap: u64,
    deadline: Pin<Box<Sleep>>,
}

impl Body for CappedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(this.cap)))));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::Hyper(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Error::HttpResponseTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
