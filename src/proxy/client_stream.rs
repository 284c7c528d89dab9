//! A client connection's stream as the gateway serves it: it can wait for the next request
//! without consuming it, and it sends each answer in one write.
//!
//! Waiting. The connection loop ([`super::connection`]) waits for the first bytes of each request
//! by peeking, so that a connection's idle time and its header time are bounded apart. Pingora's
//! TLS stream cannot peek (`try_peek` answers "unsupported" at once), and its TCP stream peeks by
//! reading exactly the bytes asked for and putting them back: one more 1-byte `recvfrom` for every
//! request. This stream, asked to peek, reads what has arrived (up to [`READ_AHEAD_BYTES`]) and
//! hands it to the reads that follow, so Pingora's header reader finds the request there.
//!
//! Writing. Pingora writes an answer's header, then its body, and flushes at the end. Its own
//! write buffer (1,460 bytes, allocated for each connection for as long as it lives) held the
//! header but not the body after it, so every answer left in two `sendto`s. This stream gathers
//! the writes until the flush instead, in a buffer that exists only while an answer is being
//! written: an idle connection holds none, and the listener sets Pingora's to zero. A write that
//! would take the buffer past [`GATHER_LIMIT_BYTES`] sends what is gathered first, and one that
//! is larger alone goes straight through, so memory stays bounded whatever the answer's size.
//!
//! Everything else (TLS details, ALPN, digests) is the wrapped stream's.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Buf, BytesMut};
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::{SslDigest, TlsRef};
use pingora::protocols::{
    GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl, Stream,
    TimingDigest, UniqueID, UniqueIDType, ALPN,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// Bytes read at once while peeking: a whole Sessions Service request, header and body, fits.
pub const READ_AHEAD_BYTES: usize = 4096;
/// Bytes of an answer gathered before they are sent.
pub const GATHER_LIMIT_BYTES: usize = 16 * 1024;

/// `inner` with the bytes read ahead and the answer being gathered.
#[derive(Debug)]
pub struct ClientStream {
    inner: Stream,
    ahead: BytesMut,
    out: BytesMut,
}

impl ClientStream {
    /// `stream`, served by the gateway's rules.
    pub fn wrap(stream: Stream) -> Stream {
        Box::new(ClientStream {
            inner: stream,
            ahead: BytesMut::new(),
            out: BytesMut::new(),
        })
    }

    /// Read what has arrived into `ahead`. The buffer is given back while nothing has come, so
    /// a connection waiting for its next request holds none.
    fn poll_read_ahead(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        self.ahead.reserve(READ_AHEAD_BYTES);
        let read = pin!(self.inner.read_buf(&mut self.ahead));
        let polled = read.poll(cx);
        if self.ahead.is_empty() && !matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.ahead = BytesMut::new();
        }
        polled
    }

    /// Send what is gathered, then give the buffer back.
    fn poll_send_gathered(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while !self.out.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.out.advance(n);
        }
        self.out = BytesMut::new();
        Poll::Ready(Ok(()))
    }
}

#[async_trait]
impl Peek for ClientStream {
    /// Wait until `buf.len()` bytes are there and copy them out, leaving them to be read.
    async fn try_peek(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        while self.ahead.len() < buf.len() {
            let n = std::future::poll_fn(|cx| self.poll_read_ahead(cx)).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        match self.ahead.get(..buf.len()) {
            Some(ahead) => {
                buf.copy_from_slice(ahead);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.ahead.is_empty() {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        let n = self.ahead.len().min(buf.remaining());
        if let Some(ahead) = self.ahead.get(..n) {
            buf.put_slice(ahead);
        }
        self.ahead.advance(n);
        if self.ahead.is_empty() {
            self.ahead = BytesMut::new();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.out.len() + buf.len() > GATHER_LIMIT_BYTES {
            ready!(self.poll_send_gathered(cx))?;
            if buf.len() > GATHER_LIMIT_BYTES {
                return Pin::new(&mut self.inner).poll_write(cx, buf);
            }
        }
        self.out.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_send_gathered(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_send_gathered(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[async_trait]
impl Shutdown for ClientStream {
    async fn shutdown(&mut self) {
        // What is gathered goes first, as a buffered writer's shutdown sends its buffer.
        if std::future::poll_fn(|cx| self.poll_send_gathered(cx))
            .await
            .is_ok()
        {
            self.inner.shutdown().await;
        }
    }
}

impl UniqueID for ClientStream {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for ClientStream {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for ClientStream {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for ClientStream {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for ClientStream {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[cfg(test)]
#[path = "client_stream_tests.rs"]
mod tests;
