//! One relayed request to a farm's XML brokers: the body as it will be sent (exact
//! `Content-Length`), to a healthy broker over a pooled connection, the answer read whole
//! (bounded by the farm's `max_response_bytes`) within the farm's time budget.
//!
//! Failover: a request that reached no broker (no connection) always moves on to the next one.
//! One that may have reached a broker moves on only if it is read-only; so does a read-only
//! request a broker answered with a 5xx. Anything else is answered as the broker answered.

use std::net::SocketAddr;

use bytes::Bytes;

use crate::backend::exchange::{Attempt, Exchange, HttpClient, Replay, UpstreamError};
use crate::backend::farm::client::{request_header, target};
use crate::backend::farm::FarmMember;
use crate::metrics;

/// Send `body` to a broker of `member`; `read_only` allows resending it to another.
pub async fn forward(
    http: &HttpClient,
    member: &FarmMember,
    body: Bytes,
    read_only: bool,
) -> Result<Exchange, UpstreamError> {
    let farm = &member.farm;
    let budget = farm.connect_timeout + farm.timeout;
    match pingora::time::timeout(budget, attempts(http, member, body, read_only)).await {
        Ok(result) => result,
        Err(_) => Err(UpstreamError::Timeout),
    }
}

async fn attempts(
    http: &HttpClient,
    member: &FarmMember,
    body: Bytes,
    read_only: bool,
) -> Result<Exchange, UpstreamError> {
    let FarmMember { farm, pool, trust } = member;
    let header = request_header(body.len()).map_err(|_| UpstreamError::Broken)?;
    let target = target(farm, trust.as_ref());
    let mut tried: Vec<SocketAddr> = Vec::new();
    let (mut timed_out, mut tls) = (false, false);
    let mut last = None;
    let replay = Replay::if_read_only(read_only);
    while let Some(addr) = pool.select(&tried) {
        if !tried.is_empty() {
            metrics::relay_failover(&farm.name);
        }
        tried.push(addr);
        let failure = match http.exchange(&target, addr, &header, &body, replay).await {
            Err(Attempt::NotConnected {
                timed_out: t,
                tls: s,
            }) => {
                timed_out |= t;
                tls |= s;
                continue;
            }
            Err(Attempt::Failed(e)) => Err(e),
            Ok(ex) if ex.header.status.is_server_error() => Ok(ex),
            Ok(ex) => return Ok(ex),
        };
        if !read_only {
            return failure;
        }
        tracing::warn!(farm = %farm.name, backend = %addr, "broker failed a read-only relayed request; trying the next one");
        last = Some(failure);
    }
    last.unwrap_or(Err(UpstreamError::no_connection(
        !tried.is_empty(),
        timed_out,
        tls,
    )))
}
