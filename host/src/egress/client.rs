//! The one outbound HTTP/1.1 exchange of an action: a pooled connection, or resolve, check,
//! connect to the checked address and optional TLS; then send, and hand back a response
//! whose body is capped in size and bounded by the request's total deadline.

use super::Egress;
use super::pool::{Conn, Destination, Pool};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
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

/// Sends `request` under the egress policy, on a pooled keep-alive connection when one to
/// the same destination is idle.
pub(super) async fn send(
    egress: &Egress,
    mut request: http::Request<WasiBody>,
) -> Result<http::Response<WasiBody>, Failure> {
    let deadline = Instant::now() + egress.total_timeout;
    let to = destination(request.uri())?;
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| http::uri::PathAndQuery::from_static("/"), Clone::clone);
    *request.uri_mut() = http::Uri::from(path);
    let metrics = crate::metrics::metrics();
    let (mut conn, mut pooled) = match egress.pool.take(&to) {
        Some(conn) => (conn, true),
        None => (connect(egress, &to).await?, false),
    };
    metrics.egress_connection(pooled);
    let response = loop {
        match timeout_at(deadline, conn.sender.try_send_request(request)).await {
            Err(_) => {
                return fail(
                    Error::HttpResponseTimeout,
                    format!("no response within {} ms", egress.total_timeout.as_millis()),
                );
            }
            Ok(Ok(response)) => break response,
            Ok(Err(mut e)) => match e.take_message() {
                // The destination closed an idle connection just as it was taken: nothing
                // was sent, so the request goes out once more on a new connection.
                Some(unsent) if pooled => {
                    request = unsent;
                    conn = connect(egress, &to).await?;
                    pooled = false;
                    metrics.egress_connection(false);
                }
                _ => {
                    return fail(
                        Error::HttpProtocolError,
                        format!("request to {} failed: {}", to.host, e.into_error()),
                    );
                }
            },
        }
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
    let reuse = Reuse {
        pool: egress.pool.clone(),
        to,
        conn,
    };
    Ok(response.map(|body| {
        CappedBody {
            inner: body,
            remaining: cap,
            cap,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            reuse: Some(reuse),
        }
        .boxed_unsync()
    }))
}

/// The destination a request URL names: only http and https, and a host is required.
fn destination(uri: &http::Uri) -> Result<Destination, Failure> {
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
    Ok(Destination { https, host, port })
}

/// A new connection to `to`: resolve, check every address against the policy, connect to an
/// allowed one, TLS when https, HTTP/1.1 handshake — all within the connect timeout.
async fn connect(egress: &Egress, to: &Destination) -> Result<Conn, Failure> {
    let opened = std::time::Instant::now();
    let Destination { https, host, port } = to;
    if let Err(why) = egress.policy.check_port(*port) {
        return fail(
            Error::DestinationIpProhibited,
            format!("refused by egress policy: {host}: {why}"),
        );
    }
    let connect_deadline = Instant::now() + egress.connect_timeout;
    let resolved = match timeout_at(
        connect_deadline,
        tokio::net::lookup_host((host.as_str(), *port)),
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
    let stream: Box<dyn Stream> = if *https {
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

    let (sender, connection) =
        match hyper::client::conn::http1::handshake::<_, WasiBody>(TokioIo::new(stream)).await {
            Ok(parts) => parts,
            Err(e) => return fail(Error::HttpProtocolError, format!("HTTP handshake: {e}")),
        };
    tokio::spawn(async move {
        // Runs until the peer closes or the last sender (the pool's, or an unfinished
        // response's) is dropped; errors surface through the responses themselves.
        let _ = connection.await;
    });
    Ok(Conn { sender, opened })
}

/// What a response needs to hand its connection back once its body has been read.
struct Reuse {
    pool: Arc<Pool>,
    to: Destination,
    conn: Conn,
}

impl Reuse {
    /// Back to the pool as soon as hyper has finished with the exchange.
    fn release(self) {
        let Reuse { pool, to, mut conn } = self;
        // Without a runtime (dropped at shutdown) the connection simply closes.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if conn.sender.ready().await.is_ok() {
                pool.put(to, conn);
            }
        });
    }
}

/// A response body that fails once it exceeds the size cap or the request's deadline.
struct CappedBody {
    inner: hyper::body::Incoming,
    remaining: u64,
    cap: u64,
    deadline: Pin<Box<Sleep>>,
    /// Taken when the body ends cleanly; dropped (closing the connection) on any error or
    /// when the reader gives up early, since a half-read exchange cannot carry another.
    reuse: Option<Reuse>,
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
                        this.reuse = None;
                        return Poll::Ready(Some(Err(Error::HttpResponseBodySize(Some(this.cap)))));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.reuse = None;
                Poll::Ready(Some(Err(Error::Hyper(e))))
            }
            Poll::Ready(None) => {
                if let Some(reuse) = this.reuse.take() {
                    reuse.release();
                }
                Poll::Ready(None)
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.reuse = None;
                    Poll::Ready(Some(Err(Error::HttpResponseTimeout)))
                }
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

impl Drop for CappedBody {
    fn drop(&mut self) {
        // A body that needs no reading (204, an empty 200) ends without a last poll.
        if let Some(reuse) = self.reuse.take()
            && self.inner.is_end_stream()
        {
            reuse.release();
        }
    }
}
