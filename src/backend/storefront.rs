//! Sessions Service calls to the StoreFront servers of a pool.
//!
//! A POST is never replayed: only a failure to connect (no byte sent) moves on to the next
//! server of the pool.

use std::net::SocketAddr;

use bytes::Bytes;
use pingora::http::RequestHeader;

use super::exchange::{Attempt, HttpClient, Target};
pub use super::exchange::{Exchange, UpstreamError};
use crate::config::StoreFront;
use crate::routing::Pool;

/// How the gateway talks to the servers of `sf`.
pub fn target(sf: &StoreFront) -> Target<'_> {
    Target {
        tls: sf.tls,
        host: sf.host.as_deref(),
        connect_timeout: sf.connect_timeout,
        read_timeout: sf.read_timeout,
        max_response_bytes: sf.max_response_bytes,
    }
}

/// The Host header for a server: the configured name, else its address.
pub fn host_header(sf: &StoreFront, addr: SocketAddr) -> String {
    target(sf).host_header(addr)
}

/// Sends requests to StoreFront servers over pooled connections.
#[derive(Default)]
pub struct StoreFrontClient {
    http: HttpClient,
}

impl StoreFrontClient {
    /// Send `request` with `body` to a server of `pool` and read the whole answer (at most
    /// `sf.max_response_bytes`).
    pub async fn send(
        &self,
        sf: &StoreFront,
        pool: Option<&Pool>,
        request: RequestHeader,
        body: Bytes,
    ) -> Result<Exchange, UpstreamError> {
        let started = std::time::Instant::now();
        let target = target(sf);
        let mut tried: Vec<SocketAddr> = Vec::new();
        let mut timed_out = false;
        while let Some(addr) = pool.and_then(|p| p.select(&tried)) {
            tried.push(addr);
            match self.http.exchange(&target, addr, &request, &body).await {
                // Failed connects to other servers are part of what this call cost.
                Ok(exchange) => {
                    return Ok(Exchange {
                        elapsed: started.elapsed(),
                        ..exchange
                    })
                }
                Err(Attempt::NotConnected { timed_out: t }) => timed_out |= t,
                Err(Attempt::Failed(e)) => return Err(e),
            }
        }
        Err(UpstreamError::no_connection(!tried.is_empty(), timed_out))
    }
}
