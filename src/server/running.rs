//! Running a Pingora server on a thread beside others (the demo, the tests), and handing it
//! listening sockets the caller already bound.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{Fds, RunArgs, Server, ShutdownSignal, ShutdownSignalWatch};
use pingora::services::ServiceWithDependents;
use tokio::sync::Notify;

/// How long a hand-over waits for the receiving server to open its socket.
const HANDOFF_TIMEOUT: Duration = Duration::from_secs(15);

/// Listening sockets bound by the caller, handed to a server the way one gateway process hands
/// its sockets to the next in a graceful upgrade (Pingora's fd transfer over a Unix socket). The
/// port is never free between binding and serving, so nothing else can take it meanwhile.
///
/// Give [`Handoff::socket`] to the server as its upgrade socket and start it with
/// [`Handoff::opt`]; the server takes the sockets while it bootstraps.
pub struct Handoff {
    socket: PathBuf,
    sender: Option<JoinHandle<()>>,
}

impl Handoff {
    /// Start handing `listeners` over through a fresh socket path.
    pub fn start(listeners: Vec<TcpListener>) -> std::io::Result<Handoff> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let socket = std::env::temp_dir().join(format!(
            "sessiongate-handoff-{}-{}.sock",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut fds = Fds::new();
        for listener in &listeners {
            // The receiving runtime expects a non-blocking socket, as a running server's is.
            listener.set_nonblocking(true)?;
            fds.add(listener.local_addr()?.to_string(), raw_fd(listener));
        }
        let path = socket.clone();
        let sender = std::thread::spawn(move || {
            let deadline = Instant::now() + HANDOFF_TIMEOUT;
            while !path.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if let Some(p) = path.to_str() {
                if let Err(e) = fds.send_to_sock(p) {
                    tracing::warn!(socket = p, error = %e, "listening sockets not handed over");
                }
            }
            // The receiver holds duplicates now; the caller's copies may close.
            drop(listeners);
        });
        Ok(Handoff {
            socket,
            sender: Some(sender),
        })
    }

    /// The upgrade socket the receiving server must be configured with.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Pingora's switches for the receiving server: take the sockets over.
    pub fn opt() -> Opt {
        Opt {
            upgrade: true,
            ..Default::default()
        }
    }
}

impl Drop for Handoff {
    /// Waits until the sockets are handed over (or the hand-over gave up). The socket file is the
    /// receiver's: it removes it once it has the sockets, and must find it still there.
    fn drop(&mut self) {
        if let Some(t) = self.sender.take() {
            let _ = t.join();
        }
    }
}

#[cfg(unix)]
fn raw_fd(listener: &TcpListener) -> std::os::fd::RawFd {
    use std::os::fd::AsRawFd;
    listener.as_raw_fd()
}

/// A one-thread server around `service` that stops at once when told: how the simulators run
/// beside the gateway in the demo and in the tests. With `handoff`, it serves the sockets handed
/// over instead of binding its own.
pub fn standalone(
    service: impl ServiceWithDependents + 'static,
    handoff: Option<&Handoff>,
) -> Server {
    let mut conf = ServerConf {
        threads: 1,
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..Default::default()
    };
    let opt = handoff.map(|h| {
        conf.upgrade_sock = h.socket().display().to_string();
        Handoff::opt()
    });
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    server.add_service(service);
    server
}

/// A shutdown signal driven by the owner of a [`Running`] server instead of Unix signals.
struct NotifySignal(Arc<Notify>);

#[async_trait]
impl ShutdownSignalWatch for NotifySignal {
    async fn recv(&self) -> ShutdownSignal {
        self.0.notified().await;
        ShutdownSignal::FastShutdown
    }
}

/// A server running on its own thread; stopped when dropped.
pub struct Running {
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Run `server` on a new thread.
    pub fn spawn(server: Server) -> Running {
        let stop = Arc::new(Notify::new());
        let signal = NotifySignal(stop.clone());
        let thread = std::thread::spawn(move || {
            server.run(RunArgs {
                shutdown_signal: Box::new(signal),
            })
        });
        Running {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop the server and wait for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Wait until something accepts connections on `addr`; `false` after `timeout`.
pub fn wait_for_listener(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
