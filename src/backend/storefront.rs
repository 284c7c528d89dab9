//! One buffered HTTP exchange with a StoreFront server of a pool.
//!
//! Sessions Service calls are answered in origin mode: the gateway sends the validated request
//! itself and reads the whole answer (bounded) before the client sees a byte, so an answer that
//! cannot be rewritten becomes a 502 instead of a half-sent 200, and `Content-Length` is exact.
//!
//! A POST is never replayed: only a failure to connect (no byte sent) moves on to the next
//! server of the pool.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};

use crate::config::StoreFront;
use crate::routing::Pool;

/// How long an idle pooled connection to a server is kept; well under IIS's 120 s default so the
/// server does not close it under us.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Informational (1xx) answers skipped before the real one; the XML service sends `100 Continue`.
const MAX_INFORMATIONAL: usize = 8;

/// A complete answer from a server.
#[derive(Debug)]
pub struct Exchange {
    pub header: ResponseHeader,
    pub body: Bytes,
    /// The server that answered.
    pub backend: SocketAddr,
    /// Time from the first connect attempt to the end of the answer.
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
        }
    }
}

/// Sends requests to StoreFront servers over pooled connections.
pub struct StoreFrontClient {
    connector: Connector,
}

impl Default for StoreFrontClient {
    fn default() -> Self {
        StoreFrontClient {
            connector: Connector::new(None),
        }
    }
}

fn peer(sf: &StoreFront, addr: SocketAddr) -> HttpPeer {
    let sni = sf.host.clone().unwrap_or_default();
    let mut peer = HttpPeer::new(addr, sf.tls, sni);
    peer.options.connection_timeout = Some(sf.connect_timeout);
    peer.options.total_connection_timeout = Some(sf.connect_timeout);
    peer.options.read_timeout = Some(sf.read_timeout);
    peer.options.write_timeout = Some(sf.read_timeout);
    peer.options.idle_timeout = Some(POOL_IDLE_TIMEOUT);
    peer
}

/// The Host header for a server: the configured name, else its address.
pub fn host_header(sf: &StoreFront, addr: SocketAddr) -> String {
    sf.host.clone().unwrap_or_else(|| addr.to_string())
}

impl StoreFrontClient {
    /// Send `request` with `body` to a server of `pool` and read the whole answer (at most
    /// `sf.max_response_bytes`). `Host` is set here, for the server chosen.
    pub async fn send(
        &self,
        sf: &StoreFront,
        pool: &Pool,
        mut request: RequestHeader,
        body: Bytes,
    ) -> Result<Exchange, UpstreamError> {
        let started = Instant::now();
        let mut tried: Vec<SocketAddr> = Vec::new();
        let mut timed_out = false;
        loop {
            let Some(addr) = pool.select(&tried) else {
                return Err(match (tried.is_empty(), timed_out) {
                    (true, _) => UpstreamError::NoBackend,
                    (false, true) => UpstreamError::ConnectTimeout,
                    (false, false) => UpstreamError::ConnectFailed,
                });
            };
            tried.push(addr);
            let peer = peer(sf, addr);
            let (mut session, _reused) = match self.connector.get_http_session(&peer).await {
                Ok(s) => s,
                Err(e) => {
                    // Nothing was sent: the next server may take it.
                    timed_out |= e.etype() == &ErrorType::ConnectTimedout;
                    tracing::warn!(backend = %addr, error = %e, "connect to StoreFront server failed");
                    continue;
                }
            };
            if request
                .insert_header("host", host_header(sf, addr))
                .is_err()
            {
                return Err(UpstreamError::Broken);
            }
            let exchange = async {
                session
                    .write_request_header(Box::new(request.clone()))
                    .await?;
                if !body.is_empty() {
                    session.write_request_body(body.clone(), true).await?;
                }
                session.finish_request_body().await?;
                let mut informational = 0;
                loop {
                    session.read_response_header().await?;
                    let status = session.response_header().map(|h| h.status.as_u16());
                    match status {
                        Some(100..=199) if informational < MAX_INFORMATIONAL => informational += 1,
                        Some(_) => break,
                        None => return Error::e_explain(ErrorType::InvalidHTTPHeader, "no header"),
                    }
                }
                let mut buf = BytesMut::new();
                while let Some(chunk) = session.read_response_body().await? {
                    if buf.len() + chunk.len() > sf.max_response_bytes {
                        return Error::e_explain(
                            ErrorType::Custom("too large"),
                            "answer too large",
                        );
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok::<_, Box<Error>>(buf.freeze())
            };
            // The read timeout bounds each read; this bounds the whole answer against a server
            // that trickles bytes.
            let outcome = tokio::time::timeout(sf.read_timeout, exchange).await;
            let result = match outcome {
                Err(_) => Err(UpstreamError::Timeout),
                Ok(Err(e)) => Err(match e.etype() {
                    ErrorType::ReadTimedout | ErrorType::WriteTimedout => UpstreamError::Timeout,
                    ErrorType::Custom("too large") => {
                        UpstreamError::TooLarge(sf.max_response_bytes)
                    }
                    _ => {
                        tracing::warn!(backend = %addr, error = %e, "exchange with StoreFront server failed");
                        UpstreamError::Broken
                    }
                }),
                Ok(Ok(body)) => match session.response_header() {
                    Some(h) => Ok(Exchange {
                        header: h.clone(),
                        body,
                        backend: addr,
                        elapsed: started.elapsed(),
                    }),
                    None => Err(UpstreamError::Broken),
                },
            };
            if result.is_ok() && session.response_done() {
                self.connector
                    .release_http_session(session, &peer, Some(POOL_IDLE_TIMEOUT))
                    .await;
            }
            return result;
        }
    }
}
