//! Scripted upstreams: raw TCP servers on loopback that a test scripts request by request (what
//! to answer, when to reset, how slowly to trickle), each counting the requests and bytes it
//! received. They speak just enough HTTP/1.1 to read a request (head, then a `Content-Length`
//! body) and write whatever bytes the script says, so a test can send answers no real server
//! would (lint allowances come from `mod.rs`).
//!
//! Each upstream runs its own single-threaded Tokio runtime on a thread of its own; dropping it
//! stops the runtime, which closes every connection it still holds.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Longest an upstream waits for the next bytes of a request, or to hand bytes to the socket.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest [`Act::Hang`] holds a connection when the upstream is not dropped first.
const HANG_LIMIT: Duration = Duration::from_secs(60);
/// Larger request heads end the connection.
const MAX_HEAD: usize = 64 * 1024;

/// One request as an upstream read it.
#[derive(Debug, Clone)]
pub struct Received {
    /// 0 for the first request this upstream read, then 1, 2, ... across all its connections.
    pub index: usize,
    /// 0 for the first request read on its connection, then 1, 2, ...
    pub on_connection: usize,
    /// The request line and headers, as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl Received {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    pub fn body_has(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.body).contains(needle)
    }
}

/// One step of what an upstream does after reading a request. A script that ends without
/// [`Act::Close`], [`Act::Reset`] or [`Act::Hang`] keeps the connection for the next request.
#[derive(Debug, Clone)]
pub enum Act {
    /// Write these bytes at once.
    Send(Vec<u8>),
    /// Write `bytes` `times` over (a huge answer without holding it in memory).
    Repeat {
        bytes: Vec<u8>,
        times: usize,
    },
    /// Write `bytes` `chunk` bytes at a time, pausing `every` after each chunk.
    Trickle {
        bytes: Vec<u8>,
        chunk: usize,
        every: Duration,
    },
    Pause(Duration),
    /// Close the connection (FIN).
    Close,
    /// Abort the connection: `SO_LINGER` 0, so the peer gets a RST.
    Reset,
    /// Say nothing more and keep the connection open until the upstream is dropped.
    Hang,
}

type Script = Arc<dyn Fn(&Received) -> Vec<Act> + Send + Sync>;

#[derive(Default)]
struct Counts {
    bytes: AtomicUsize,
    received: Mutex<Vec<Received>>,
}

impl Counts {
    /// Keep a request, numbered in the order requests were read.
    fn record(&self, on_connection: usize, head: String, body: Vec<u8>) -> Received {
        let mut all = self.received.lock().unwrap();
        let received = Received {
            index: all.len(),
            on_connection,
            head,
            body,
        };
        all.push(received.clone());
        received
    }
}

/// A running scripted upstream; stopped on drop.
pub struct Upstream {
    pub addr: SocketAddr,
    counts: Arc<Counts>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    /// Serve on a fresh loopback port; `script` decides what to do with each request read.
    pub fn start(script: impl Fn(&Received) -> Vec<Act> + Send + Sync + 'static) -> Upstream {
        let listener = super::listener();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let counts = Arc::new(Counts::default());
        let (stop, stopped) = watch::channel(false);
        let script: Script = Arc::new(script);
        let shared = counts.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(accept(listener, script, shared, stopped));
        });
        Upstream {
            addr,
            counts,
            stop,
            thread: Some(thread),
        }
    }

    /// Do the same with every request.
    pub fn always(acts: Vec<Act>) -> Upstream {
        Upstream::start(move |_| acts.clone())
    }

    /// Requests read completely (head and body).
    pub fn requests(&self) -> usize {
        self.counts.received.lock().unwrap().len()
    }

    /// Bytes received, counted as they arrive (a request cut short counts too).
    pub fn bytes(&self) -> usize {
        self.counts.bytes.load(Ordering::SeqCst)
    }

    /// How many requests read so far `matches` accepts.
    pub fn count(&self, matches: impl Fn(&Received) -> bool) -> usize {
        self.counts
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| matches(r))
            .count()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(
    listener: std::net::TcpListener,
    script: Script,
    counts: Arc<Counts>,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    let for_connections = stopped.clone();
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let stop = for_connections.clone();
                tokio::spawn(connection(stream, script.clone(), counts.clone(), stop));
            }
        }
    }
}

/// Serve one connection: read a request, play its script, until the script ends the connection
/// or the peer goes away.
async fn connection(
    mut stream: TcpStream,
    script: Script,
    counts: Arc<Counts>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut buf = Vec::new();
    for on_connection in 0.. {
        let Some((head, body)) = read_request(&mut stream, &mut buf, &counts).await else {
            return;
        };
        let received = counts.record(on_connection, head, body);
        for act in script(&received) {
            let written = match act {
                Act::Send(bytes) => write(&mut stream, &bytes).await,
                Act::Repeat { bytes, times } => repeat(&mut stream, &bytes, times).await,
                Act::Trickle {
                    bytes,
                    chunk,
                    every,
                } => trickle(&mut stream, &bytes, chunk, every).await,
                Act::Pause(d) => {
                    tokio::time::sleep(d).await;
                    true
                }
                Act::Close => return,
                Act::Reset => {
                    let _ = stream.set_zero_linger();
                    return;
                }
                Act::Hang => {
                    let _ = tokio::time::timeout(HANG_LIMIT, stopped.wait_for(|s| *s)).await;
                    return;
                }
            };
            if !written {
                return;
            }
        }
    }
}

/// Read one request (head, then as many body bytes as `Content-Length` says) from `stream`,
/// keeping what follows it in `buf`. `None` when the peer closed, went quiet or sent no HTTP.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    counts: &Counts,
) -> Option<(String, Vec<u8>)> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        read_more(stream, buf, counts).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let end = head_end + content_length(&head);
    while buf.len() < end {
        read_more(stream, buf, counts).await?;
    }
    let body = buf[head_end..end].to_vec();
    buf.drain(..end);
    Some((head, body))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, counts: &Counts) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(IO_TIMEOUT, stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            counts.bytes.fetch_add(n, Ordering::SeqCst);
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
        _ => None,
    }
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// Write all of `bytes`; `false` when the peer is gone.
async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    matches!(
        tokio::time::timeout(IO_TIMEOUT, stream.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

async fn repeat(stream: &mut TcpStream, bytes: &[u8], times: usize) -> bool {
    for _ in 0..times {
        if !write(stream, bytes).await {
            return false;
        }
    }
    true
}

async fn trickle(stream: &mut TcpStream, bytes: &[u8], chunk: usize, every: Duration) -> bool {
    for piece in bytes.chunks(chunk.max(1)) {
        if !write(stream, piece).await {
            return false;
        }
        tokio::time::sleep(every).await;
    }
    true
}

/// A complete HTTP/1.1 answer: status line (`"200 OK"`), headers, exact `Content-Length`, body.
pub fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut bytes = head(status, headers);
    bytes.truncate(bytes.len() - 2);
    bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// An answer's head only, with exactly these headers (the test decides the framing).
pub fn head(status: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// `n` informational `100 Continue` answers.
pub fn continues(n: usize) -> Vec<u8> {
    b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n)
}

/// Run `f` and say how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}
