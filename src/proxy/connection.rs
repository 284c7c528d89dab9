//! A client connection's life: the gateway runs the HTTP/1.1 keep-alive loop around Pingora's
//! proxy itself, because Pingora bounds each read of a request header, not the header as a whole
//! (a header trickled one byte a minute never ends), keeps idle keep-alive connections forever and
//! accepts any number of connections (see the reference notes on Pingora, §10.1).
//!
//! Per connection, in order:
//! 1. over [`ClientLimits::max_connections`] the connection is closed at once;
//! 2. before each request the connection may sit idle for [`ClientLimits::idle`] (waiting for
//!    the first byte, the first request included), then it is closed;
//! 3. from its first byte, the request header must arrive whole within [`ClientLimits::header`];
//!    Pingora tells the gateway the header is in through `on_connection_reuse` (the hook it runs
//!    right after parsing a header when the connection carries a user context, which this loop
//!    always sets), and from then on the request runs to its end;
//! 4. the body of a Sessions Service request is bounded by the store's own deadline
//!    ([`super::body`]).
//!
//! Every connection closed by these limits is counted by reason. A request whose header never
//! reached the gateway's hooks (Pingora answered a malformed request line or header with 400, or
//! a CONNECT with 405, or the client stopped in the middle of its header) is counted in
//! `sessiongate_requests_unparsed_total` and has an access line with reason `unparsed`.
//!
//! HTTPS connections are served the same way. Every client stream is wrapped
//! ([`super::client_stream`]): it peeks by reading ahead, and sends each answer in one write.
//! An HTTP/2 connection (ALPN `h2`) is handed to Pingora's own HTTP/2 loop after its first bytes
//! (the client preface) arrived within the idle and header limits: it holds its permit of
//! [`ClientLimits::max_connections`] for as long as it is open, is closed after
//! [`ClientLimits::idle`] without an open stream (Pingora's `h2_idle_timeout`, set in wiring),
//! and each of its requests is bounded by HTTP/2 itself (64 KiB of headers, 100 streams at once)
//! rather than by the header deadline, which is an HTTP/1 concern.
//!
//! The connection is served in a task of its own, spawned here, and Pingora's accept task ends
//! at once: Pingora's task holds its (TLS) handshake future inline, about 9 KiB for every
//! connection, TLS or not, for as long as the connection lives. The gateway's task holds only
//! this loop, so 10,000 idle connections cost tens of MiB instead of over a hundred
//! (`scripts/idle-connections`, docs/reliability.md).

use std::any::Any;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, ServerApp};
use pingora::protocols::http::ServerSession;
use pingora::protocols::{Stream, ALPN};
use pingora::server::ShutdownWatch;
use tokio::sync::{Notify, Semaphore};

use super::client_stream::ClientStream;
use super::request_id::RequestId;
use crate::metrics::{self, ConnectionDrop};

/// The bounds on a client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// Time from a request's first byte to the end of its header.
    pub header: Duration,
    /// Time a connection may wait for the first byte of its next request.
    pub idle: Duration,
    /// Open client connections at most, per listener service.
    pub max_connections: usize,
}

/// The signal that a request's header has been parsed, carried on the connection as Pingora's
/// connection user context.
#[derive(Default)]
pub struct HeaderParsed {
    notify: Notify,
    parsed: AtomicBool,
}

/// Tell the connection loop waiting on `context` that the header is in.
pub fn header_parsed(context: Box<dyn Any + Send + Sync>) {
    if let Ok(signal) = context.downcast::<Arc<HeaderParsed>>() {
        signal.parsed.store(true, Ordering::Relaxed);
        signal.notify.notify_one();
    }
}

/// A request that ended before its header reached the gateway: counted, and an access line
/// with what is known (the peer; never a byte of the request).
fn unparsed(peer: Option<IpAddr>) {
    metrics::request_unparsed();
    let request_id = RequestId::generate();
    tracing::info!(
        target: crate::logging::access::TARGET,
        request_id = request_id.as_str(),
        client = %peer.map(|ip| ip.to_string()).unwrap_or_default(),
        method = "-",
        path = "-",
        store = metrics::NO_STORE,
        operation = "none",
        pool = "-",
        status = 0u64,
        reason = "unparsed",
    );
}

/// Pingora's HTTP proxy `A` behind the client limits.
pub struct Limited<A> {
    inner: Arc<A>,
    limits: ClientLimits,
    permits: Arc<Semaphore>,
}

impl<A> Limited<A> {
    pub fn new(inner: A, limits: ClientLimits) -> Limited<A> {
        Limited {
            inner: Arc::new(inner),
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            limits,
        }
    }
}

/// How one request on the connection ended.
enum Turn {
    /// The connection can carry another request.
    Reused(Stream),
    /// The connection is done (closed by either side, or refused).
    Closed,
    /// A limit closed it.
    Dropped(ConnectionDrop),
}

/// Length of the HTTP/2 client connection preface (RFC 9113 §3.4).
const H2_PREFACE_LEN: usize = 24;

impl<A: HttpServerApp + Send + Sync + 'static> Limited<A> {
    /// Serve the connection's requests until it closes or a limit closes it.
    async fn serve(self: &Arc<Self>, stream: Stream, shutdown: &ShutdownWatch) {
        let mut stream = ClientStream::wrap(stream);
        if stream.selected_alpn_proto() == Some(ALPN::H2) {
            return match self.preface(&mut stream).await {
                Ok(()) => {
                    // Pingora's loop for HTTP/2 (the blanket `ServerApp` of an HTTP app).
                    ServerApp::process_new(&self.inner, stream, shutdown).await;
                }
                Err(Some(reason)) => metrics::connection_dropped(reason),
                Err(None) => {}
            };
        }
        // Looked up once per connection (Pingora caches it for `client_addr` too), while the
        // socket is surely open.
        let peer = stream
            .get_socket_digest()
            .and_then(|d| d.peer_addr().and_then(|a| a.as_inet()).map(|a| a.ip()));
        let mut first = true;
        loop {
            match self.turn(stream, first, peer, shutdown).await {
                Turn::Reused(next) if !*shutdown.borrow() => {
                    stream = next;
                    first = false;
                }
                Turn::Reused(_) | Turn::Closed => return,
                Turn::Dropped(reason) => {
                    metrics::connection_dropped(reason);
                    return;
                }
            }
        }
    }

    /// Wait for an HTTP/2 client's preface: its first byte within the idle limit, the whole
    /// of it within the header limit. `Err(None)` when the client went away.
    async fn preface(&self, stream: &mut Stream) -> Result<(), Option<ConnectionDrop>> {
        let mut preface = [0u8; H2_PREFACE_LEN];
        match pingora::time::timeout(self.limits.idle, stream.try_peek(&mut preface[..1])).await {
            Err(_) => return Err(Some(ConnectionDrop::IdleTimeout)),
            Ok(Err(_)) => return Err(None),
            Ok(Ok(_)) => {}
        }
        match pingora::time::timeout(self.limits.header, stream.try_peek(&mut preface)).await {
            Err(_) => Err(Some(ConnectionDrop::HeaderTimeout)),
            Ok(Err(_)) => Err(None),
            Ok(Ok(_)) => Ok(()),
        }
    }

    /// Wait for the next request (`first`: the connection's first), then serve it within the
    /// header deadline.
    async fn turn(
        self: &Arc<Self>,
        mut stream: Stream,
        first: bool,
        peer: Option<IpAddr>,
        shutdown: &ShutdownWatch,
    ) -> Turn {
        let mut byte = [0u8; 1];
        let waiting = pingora::time::timeout(self.limits.idle, stream.try_peek(&mut byte));
        let mut stopping = shutdown.clone();
        let waited = if first {
            // A connection accepted just before the server began to stop (in a graceful upgrade,
            // the next process accepts the ones after) has its request on the way: serve it
            // within the grace period rather than close it unanswered.
            waiting.await
        } else {
            tokio::select! {
                waited = waiting => waited,
                // A server that stops closes idle keep-alive connections at once; their clients
                // retry on a new connection, which the next process accepts.
                _ = stopping.changed() => return Turn::Closed,
            }
        };
        match waited {
            Err(_) => return Turn::Dropped(ConnectionDrop::IdleTimeout),
            Ok(Err(_)) => return Turn::Closed,
            Ok(Ok(_)) => {}
        }
        let signal = Arc::new(HeaderParsed::default());
        let mut session = ServerSession::new_http1(stream);
        // Pingora's own per-read timer: never longer than the whole header may take.
        session.set_keepalive(Some(self.limits.header.as_secs().max(1)));
        session.set_connection_user_context(Some(Box::new(signal.clone())));
        let work = self.inner.process_new_http(session, shutdown);
        tokio::pin!(work);
        let served = tokio::select! {
            served = &mut work => served,
            () = signal.notify.notified() => work.await,
            () = pingora::time::sleep(self.limits.header) => {
                return Turn::Dropped(ConnectionDrop::HeaderTimeout)
            }
        };
        match served {
            // Pingora's persistent settings only carry its keep-alive timer, which this loop
            // replaces, and a user context, which this loop sets anew.
            Some(reused) => Turn::Reused(reused.consume().0),
            None => {
                // Pingora also ends a request it has not read when the server stops.
                if !signal.parsed.load(Ordering::Relaxed) && !*shutdown.borrow() {
                    unparsed(peer);
                }
                Turn::Closed
            }
        }
    }
}

#[async_trait]
impl<A: HttpServerApp + Send + Sync + 'static> ServerApp for Limited<A> {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics::connection_dropped(ConnectionDrop::OverCapacity);
            return None;
        };
        let this = self.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = metrics::OpenConnection::new();
            this.serve(stream, &shutdown).await;
        });
        None
    }

    async fn cleanup(&self) {
        self.inner.http_cleanup().await;
    }
}
