//! A TLS client stream that can wait for its next bytes without consuming them.
//!
//! The connection loop ([`super::connection`]) waits for the first byte of each request by
//! peeking, so that a connection's idle time and its header time are bounded apart. Pingora's
//! plain TCP stream peeks; its TLS stream does not (`try_peek` answers "unsupported" at once),
//! which would let an idle HTTPS connection run into the header deadline instead. This wrapper
//! reads the bytes asked for and keeps them for the next read.
//!
//! Everything else (TLS details, ALPN, digests) is the wrapped stream's.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
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

/// Bytes read ahead are at most what a peek asks for: the HTTP/2 preface (24 bytes) at most.
const READ_AHEAD_CHUNK: usize = 64;

/// `inner` with bytes read ahead.
#[derive(Debug)]
pub struct Peekable {
    inner: Stream,
    ahead: BytesMut,
}

impl Peekable {
    /// `stream` able to peek: TLS streams are wrapped, others (which peek already) are not.
    pub fn wrap(stream: Stream) -> Stream {
        if stream.get_ssl_digest().is_some() {
            Box::new(Peekable {
                inner: stream,
                ahead: BytesMut::new(),
            })
        } else {
            stream
        }
    }
}

#[async_trait]
impl Peek for Peekable {
    /// Wait until `buf.len()` bytes are there and copy them out, leaving them to be read.
    async fn try_peek(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        while self.ahead.len() < buf.len() {
            let mut chunk = [0u8; READ_AHEAD_CHUNK];
            let want = (buf.len() - self.ahead.len()).min(READ_AHEAD_CHUNK);
            let Some(room) = chunk.get_mut(..want) else {
                break;
            };
            let n = self.inner.read(room).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.ahead
                .extend_from_slice(room.get(..n).unwrap_or_default());
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

impl AsyncRead for Peekable {
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
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Peekable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for Peekable {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await;
    }
}

impl UniqueID for Peekable {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for Peekable {
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

impl GetTimingDigest for Peekable {
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

impl GetProxyDigest for Peekable {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for Peekable {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}
