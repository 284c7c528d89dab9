//! One buffered HTTP exchange with one upstream server: StoreFront servers and farm XML brokers
//! alike.
//!
//! The gateway answers Sessions Service calls in origin mode, so every upstream answer it uses is
//! read whole (bounded) before anything reaches the client. Which server to try, and whether a
//! failure may move on to another, is the caller's decision: [`Attempt`] says whether any byte of
//! the request can have reached the server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::protocols::http::client::HttpSession;
use pingora::protocols::http::v1::client::{http_req_header_to_wire, HttpSession as Http1Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, OrErr, RetryType};
use tokio::io::AsyncWriteExt;

use super::trust::Trust;

/// How long an idle pooled connection to a server is kept; well under IIS's 120 s default so the
/// server does not close it under us.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Times a request that changes nothing is sent again after meeting a pooled connection the
/// server had closed ([`HttpClient::exchange`]).
pub const MAX_STALE_RESENDS: usize = 1;
/// Informational (1xx) answers skipped before the real one; the XML service sends `100 Continue`.
const MAX_INFORMATIONAL: usize = 8;

/// A complete answer from a server.
#[derive(Debug)]
pub struct Exchange {
    pub header: ResponseHeader,
    pub body: Bytes,
    /// The server that answered.
    pub backend: SocketAddr,
    /// Time from the connect attempt to the end of the answer.
    pub elapsed: Duration,
}

/// Why no answer could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("no healthy server is available")]
    NoBackend,
    #[error("no server accepted the connection")]
    ConnectFailed,
    #[error("connecting to the servers timed out")]
    ConnectTimeout,
    #[error("the server did not answer in time")]
    Timeout,
    #[error("the server's answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the exchange with the server broke off")]
    Broken,
    /// The TLS handshake failed: mostly a certificate that the configured CA did not issue, or
    /// that does not name the configured `host`.
    #[error("the TLS handshake with the servers failed (certificate refused?)")]
    TlsFailed,
}

impl UpstreamError {
    /// The `kind` metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::NoBackend => "no_backend",
            UpstreamError::ConnectFailed => "connect_failed",
            UpstreamError::ConnectTimeout => "connect_timeout",
            UpstreamError::Timeout => "timeout",
            UpstreamError::TooLarge(_) => "too_large",
            UpstreamError::Broken => "broken",
            UpstreamError::TlsFailed => "tls_failed",
        }
    }

    /// The error once every server of a pool failed to connect (or none was available); a
    /// refused TLS handshake says most about what to fix, so it wins.
    pub fn no_connection(tried_any: bool, timed_out: bool, tls: bool) -> UpstreamError {
        match (tried_any, timed_out, tls) {
            (false, _, _) => UpstreamError::NoBackend,
            (true, _, true) => UpstreamError::TlsFailed,
            (true, true, false) => UpstreamError::ConnectTimeout,
            (true, false, false) => UpstreamError::ConnectFailed,
        }
    }
}

/// How one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// No connection: nothing was sent, another server may take the request. `tls` when the
    /// TCP connection stood but its TLS handshake failed.
    NotConnected { timed_out: bool, tls: bool },
    /// The request (or part of it) may have reached the server.
    Failed(UpstreamError),
}

/// May a request be sent a second time, when a pooled connection turns out to have been closed
/// by the server before any answer?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Never: it changes something on the server (disconnect, logoff, a launch), and it may have
    /// been read before the connection closed.
    Never,
    /// It changes nothing (a listing, a health check, a token introspection): sent again on
    /// another connection.
    IfStale,
}

impl Replay {
    /// [`Replay::IfStale`] for a request that changes nothing, [`Replay::Never`] otherwise.
    pub fn if_read_only(read_only: bool) -> Replay {
        if read_only {
            Replay::IfStale
        } else {
            Replay::Never
        }
    }
}

/// Where and how to talk to one kind of server.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// HTTPS.
    pub tls: bool,
    /// The CA the server's certificate must chain to; the system's roots when `None`.
    pub trust: Option<&'a Trust>,
    /// `Host` header and TLS SNI; `None` means the server's address.
    pub host: Option<&'a str>,
    /// `Host` header when it differs from the TLS name (a URL's `host:port`).
    pub authority: Option<&'a str>,
    pub connect_timeout: Duration,
    /// Bound on the whole exchange, from the request's first byte to the answer's last.
    pub read_timeout: Duration,
    /// Largest answer body read.
    pub max_response_bytes: usize,
}

impl Target<'_> {
    /// The peer for `addr`, with every timeout and the pool's idle limit set: the one place that
    /// decides how the gateway connects to a server.
    pub fn peer(&self, addr: SocketAddr) -> HttpPeer {
        let sni = self.host.unwrap_or_default().to_string();
        let mut peer = HttpPeer::new(addr, self.tls, sni);
        if let (true, Some(trust)) = (self.tls, self.trust) {
            trust.apply(&mut peer);
        }
        peer.options.connection_timeout = Some(self.connect_timeout);
        peer.options.total_connection_timeout = Some(self.connect_timeout);
        peer.options.read_timeout = Some(self.read_timeout);
        peer.options.write_timeout = Some(self.read_timeout);
        peer.options.idle_timeout = Some(POOL_IDLE_TIMEOUT);
        peer
    }

    /// The Host header for a server: the configured name, else its address.
    pub fn host_header(&self, addr: SocketAddr) -> String {
        self.authority
            .or(self.host)
            .map_or_else(|| addr.to_string(), str::to_string)
    }
}

/// Read the final answer's header (skipping a bounded number of 1xx) and its whole body, at
/// most `limit` bytes.
///
/// A 1xx past the bound, or a `101`, is an error and never read as the final answer: Pingora has
/// no body reader after a 1xx, and reading a body there panics (see the reference, §10.3).
async fn read_answer(session: &mut HttpSession, limit: usize) -> pingora::Result<Bytes> {
    let mut informational = 0;
    loop {
        session.read_response_header().await?;
        let status = session.response_header().map(|h| h.status.as_u16());
        match status {
            Some(101) => return Error::e_explain(ErrorType::InvalidHTTPHeader, "101 answer"),
            Some(100..=199) if informational < MAX_INFORMATIONAL => informational += 1,
            Some(100..=199) => {
                return Error::e_explain(ErrorType::InvalidHTTPHeader, "too many 1xx answers")
            }
            Some(_) => break,
            None => return Error::e_explain(ErrorType::InvalidHTTPHeader, "no header"),
        }
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = session.read_response_body().await? {
        if buf.len() + chunk.len() > limit {
            return Error::e_explain(ErrorType::Custom("too large"), "answer too large");
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Send the request: over HTTP/1, its header and body in one write.
///
/// Pingora's HTTP/1 client flushes the header on its own, so a request would leave in two
/// segments (two `sendto`s, and a server that waits for the body waits for the second). The
/// gateway's requests are all POSTs of a body it holds whole, with an exact `Content-Length`, so
/// the header and the body are written together and the connection is handed back to a fresh
/// client session, which reads the answer. Nothing Pingora learns from the written request
/// matters to that reading: it only needs it for `HEAD`, upgrades and `Connection: close`, which
/// the gateway never sends.
async fn send(
    session: HttpSession,
    peer: &HttpPeer,
    request: &RequestHeader,
    body: &Bytes,
) -> pingora::Result<HttpSession> {
    match session {
        HttpSession::H1(h1) => {
            let mut wire = http_req_header_to_wire(request).ok_or_else(|| {
                Error::explain(ErrorType::InvalidHTTPHeader, "request line not writable")
            })?;
            wire.extend_from_slice(body);
            let mut stream = h1.into_inner();
            stream
                .write_all(&wire)
                .await
                .or_err(ErrorType::WriteError, "writing the request")?;
            stream
                .flush()
                .await
                .or_err(ErrorType::WriteError, "flushing the request")?;
            Ok(HttpSession::H1(Http1Session::new_with_options(
                stream, peer,
            )))
        }
        mut other => {
            other
                .write_request_header(Box::new(request.clone()))
                .await?;
            if !body.is_empty() {
                other.write_request_body(body.clone(), true).await?;
            }
            other.finish_request_body().await?;
            Ok(other)
        }
    }
}

/// Is a connect error the TLS handshake's (certificate refused, name mismatch, protocol)?
pub fn tls_failure(kind: &ErrorType) -> bool {
    matches!(
        kind,
        ErrorType::TLSHandshakeFailure | ErrorType::InvalidCert | ErrorType::HandshakeError
    )
}

/// A failed connect, logged: a TLS failure with its cause (an unknown issuer, a name that does
/// not match), which holds no secret, only certificate facts and the SNI.
fn not_connected(e: &Error, target: &Target<'_>, addr: SocketAddr) -> Attempt {
    let tls = tls_failure(e.etype());
    if tls {
        let why = e
            .context
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::warn!(backend = %addr, sni = target.host.unwrap_or_default(), error = %why, "TLS handshake with upstream failed");
    } else {
        tracing::warn!(backend = %addr, error = e.etype().as_str(), "connect to upstream failed");
    }
    Attempt::NotConnected {
        timed_out: e.etype() == &ErrorType::ConnectTimedout,
        tls,
    }
}

/// What a failed exchange (after the connection stood) means.
fn failure(e: &Error, addr: SocketAddr, limit: usize) -> UpstreamError {
    match e.etype() {
        ErrorType::ReadTimedout | ErrorType::WriteTimedout => UpstreamError::Timeout,
        ErrorType::Custom("too large") => UpstreamError::TooLarge(limit),
        _ => {
            // The kind only: a malformed answer's error carries its raw header as context.
            tracing::warn!(backend = %addr, error = e.etype().as_str(), "exchange with upstream failed");
            UpstreamError::Broken
        }
    }
}

/// Sends requests over pooled connections (Pingora's connector: reuse, TLS, timeouts).
pub struct HttpClient {
    connector: Connector,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient {
            connector: Connector::new(None),
        }
    }
}

impl HttpClient {
    /// Send `request` with `body` (exact length, set by the caller) to `addr` and read the whole
    /// answer. `Host` is set here.
    ///
    /// A pooled connection can have been closed by the server just as it was taken (an idle
    /// timeout racing the request): the request then meets a closed connection before any
    /// answer. A request that changes nothing ([`Replay::IfStale`]) is sent again, on another
    /// connection, up to [`MAX_STALE_RESENDS`] times; any other is never sent twice.
    pub async fn exchange(
        &self,
        target: &Target<'_>,
        addr: SocketAddr,
        request: &RequestHeader,
        body: &Bytes,
        replay: Replay,
    ) -> Result<Exchange, Attempt> {
        let started = Instant::now();
        let peer = target.peer(addr);
        let mut request = request.clone();
        if request
            .insert_header("host", target.host_header(addr))
            .is_err()
        {
            return Err(Attempt::Failed(UpstreamError::Broken));
        }
        let mut resends = 0;
        // The read timeout bounds the answer across a resend too: a resend has what is left.
        let mut budget = target.read_timeout;
        loop {
            let (session, reused) = match self.connector.get_http_session(&peer).await {
                Ok(s) => s,
                Err(e) => return Err(not_connected(&e, target, addr)),
            };
            let sent = Instant::now();
            let (header, body) = match self
                .once(target, &peer, session, &request, body, budget)
                .await
            {
                Ok(answered) => answered,
                Err(e)
                    if reused
                        && replay == Replay::IfStale
                        && resends < MAX_STALE_RESENDS
                        && stale(&e) =>
                {
                    resends += 1;
                    budget = budget.saturating_sub(sent.elapsed());
                    tracing::debug!(backend = %addr, error = e.etype().as_str(), "a pooled connection was closed by the server; sending again");
                    continue;
                }
                Err(e) => {
                    return Err(Attempt::Failed(failure(
                        &e,
                        addr,
                        target.max_response_bytes,
                    )))
                }
            };
            return Ok(Exchange {
                header,
                body,
                backend: addr,
                elapsed: started.elapsed(),
            });
        }
    }

    /// One exchange over `session`; the connection goes back to the pool when the answer ended
    /// cleanly.
    async fn once(
        &self,
        target: &Target<'_>,
        peer: &HttpPeer,
        session: HttpSession,
        request: &RequestHeader,
        body: &Bytes,
        budget: Duration,
    ) -> pingora::Result<(ResponseHeader, Bytes)> {
        let limit = target.max_response_bytes;
        let exchange = async {
            let mut session = send(session, peer, request, body).await?;
            let body = read_answer(&mut session, limit).await?;
            Ok::<_, Box<Error>>((session, body))
        };
        // This bounds the whole answer against a server that trickles bytes: Pingora's client
        // session applies no timeout of its own to the reads.
        let (mut session, body) = match pingora::time::timeout(budget, exchange).await {
            Err(_) => return Error::e_explain(ErrorType::ReadTimedout, "the answer took too long"),
            Ok(answered) => answered?,
        };
        let header = session
            .response_header()
            .cloned()
            .ok_or_else(|| Error::explain(ErrorType::InvalidHTTPHeader, "no answer header"))?;
        if session.response_done() {
            self.connector
                .release_http_session(session, peer, Some(POOL_IDLE_TIMEOUT))
                .await;
        }
        Ok((header, body))
    }
}

/// Did the exchange meet a connection the server had already closed: the request could not be
/// written, or the connection closed (or was reset) before the answer's header? Pingora marks the
/// latter [`RetryType::ReusedOnly`]: worth another try only on a connection that was reused.
fn stale(e: &Error) -> bool {
    matches!(e.retry, RetryType::ReusedOnly) || e.etype() == &ErrorType::WriteError
}
