//! Test harness: the real gateway and the simulated StoreFront store on ephemeral loopback ports,
//! and a small HTTP/1.x client over raw sockets (so tests control framing byte for byte).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod canary;
pub mod corpus;
pub mod farm;
pub mod introspection;
pub mod load;
pub mod process;
pub mod raw;
pub mod relay;
pub mod scripted;
pub mod tls;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sessiongate::server::{standalone, wait_for_listener, Handoff, Running};
use sessiongate::sim::storefront::StoreFrontSim;

pub const SESSION_PARAMS: &str = "application/vnd.citrix.sessionparams+xml";
pub const LAUNCH_PARAMS: &str = "application/vnd.citrix.launchparams+xml";
pub const SESSION_STATE: &str = "application/vnd.citrix.sessionstate+xml";
pub const SESSION_RESULTS: &str = "application/vnd.citrix.sessionresults+xml";
pub const LAUNCH_DATA: &str = "application/vnd.citrix.launchdata+xml";
pub const ALICE: &str = "CitrixAuth demo-token-alice";
pub const BOB: &str = "CitrixAuth demo-token-bob";

/// A loopback listener on a port the system picks. Servers under test are handed it (see
/// [`Handoff`]) instead of binding a port found free a moment before, which another test could
/// take in between.
pub fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("loopback listener")
}

/// Run a service on a fresh loopback port handed over to it: `make` gets the address to listen
/// on. The port accepts connections from the moment it is bound.
pub fn serve<S>(make: impl FnOnce(&str) -> S) -> (SocketAddr, Running)
where
    S: pingora::services::ServiceWithDependents + 'static,
{
    let listener = listener();
    let addr = listener.local_addr().expect("bound address");
    let handoff = Handoff::start(vec![listener]).expect("hand-over");
    let running = Running::spawn(standalone(make(&addr.to_string()), Some(&handoff)));
    (addr, running)
}

/// A port nobody listens on right now, for addresses that must refuse connections (small race,
/// acceptable on loopback).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("ephemeral port")
}

pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// Seconds since the Unix epoch, as token claims count time.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Call `probe` every 20 ms until `done` accepts what it returned or `timeout` has passed, and
/// return the last value: for conditions the gateway reaches on its own time (a metric recorded
/// after the answer was written, a health check that has run), instead of a fixed sleep.
pub fn poll_until<T>(
    timeout: Duration,
    mut probe: impl FnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe();
        if done(&value) || Instant::now() > deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Panics so far on the gateway's proxy threads (Pingora names them after the service), counted
/// from the first call, which installs the hook: a panic in a task the gateway spawned does not
/// always reach the client, and nothing read from the network may cause one.
pub fn gateway_panics() -> usize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            if thread.name() == Some(sessiongate::server::PROXY_SERVICE) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

/// A running simulated StoreFront server.
pub struct Sim {
    pub sim: Arc<StoreFrontSim>,
    pub addr: SocketAddr,
    _running: Running,
}

impl Sim {
    pub fn start(sim: Arc<StoreFrontSim>) -> Sim {
        let (addr, running) = serve(|addr| sim.service(addr));
        Sim {
            sim,
            addr,
            _running: running,
        }
    }

    pub fn demo() -> Sim {
        Sim::start(StoreFrontSim::demo())
    }
}

/// A running gateway.
pub struct Gateway {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub config: sessiongate::config::Config,
    _running: Running,
}

/// A store section in front of `upstream` with extra YAML lines (indented 4 spaces).
pub fn store_yaml(path: &str, public: &str, upstream: SocketAddr, extra: &str) -> String {
    format!(
        "  - path: {path}\n    public_url: {public}\n{extra}    storefront:\n      upstreams: [\"{upstream}\"]\n      upstream_path: /Citrix/Store\n      connect_timeout_ms: 500\n      read_timeout_ms: 2000\n      health_check_interval_ms: 0\n"
    )
}

impl Gateway {
    /// Start a gateway whose YAML is `stores` (the list items) on fresh ports.
    pub fn start_with_stores(stores: &str) -> Gateway {
        Gateway::start_with("", stores)
    }

    /// [`Gateway::start_with_stores`] with more top-level YAML (`top`, whole lines).
    pub fn start_with(top: &str, stores: &str) -> Gateway {
        let (client, admin_listener) = (listener(), listener());
        let addr = client.local_addr().expect("bound address");
        let admin = admin_listener.local_addr().expect("bound address");
        let handoff = Handoff::start(vec![client, admin_listener]).expect("hand-over");
        let yaml = format!(
            "listen: [\"{addr}\"]\nadmin_listen: \"{admin}\"\nthreads: 1\ngrace_period_seconds: 0\nupgrade_socket: {}\n{top}stores:\n{stores}",
            handoff.socket().display()
        );
        let config = sessiongate::config::from_yaml(&yaml, "test").expect("test config");
        let server = sessiongate::server::build(&config, Some(Handoff::opt())).expect("server");
        drop(handoff);
        let running = Running::spawn(server);
        assert!(
            wait_for_listener(addr, Duration::from_secs(10)),
            "gateway did not start"
        );
        assert!(
            wait_for_listener(admin, Duration::from_secs(10)),
            "admin did not start"
        );
        Gateway {
            addr,
            admin,
            config,
            _running: running,
        }
    }

    /// One store at /Citrix/Store in front of `upstream`, public URL https://ws.example.com/Citrix/Store.
    pub fn start(upstream: SocketAddr, extra: &str) -> Gateway {
        Gateway::start_with_stores(&store_yaml(
            "/Citrix/Store",
            "https://ws.example.com/Citrix/Store",
            upstream,
            extra,
        ))
    }

    pub fn metrics(&self) -> String {
        let r = send(self.admin, &get("/metrics"));
        assert_eq!(r.status, 200);
        r.text()
    }

    /// The value of one metric sample (`name{labels}` exactly as exposed), 0 when absent.
    ///
    /// Metrics are recorded in Pingora's `logging` phase, just after the answer is written, so a
    /// client can read its answer a moment before its request is counted: wait for `expected`
    /// for up to 2 s and return the last value seen.
    pub fn metric(&self, sample: &str, expected: f64) -> f64 {
        metric_at(self.admin, sample, expected)
    }
}

/// [`Gateway::metric`] of the gateway whose admin listener is `admin`.
pub fn metric_at(admin: SocketAddr, sample: &str, expected: f64) -> f64 {
    let read = || {
        let r = send(admin, &get("/metrics"));
        assert_eq!(r.status, 200);
        r.text()
            .lines()
            .find_map(|l| l.strip_prefix(sample).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    poll_until(Duration::from_secs(2), read, |value| *value == expected)
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The gateway's machine-readable reason (`x-sessiongate-reason`), "" when absent.
    pub fn reason(&self) -> &str {
        self.header("x-sessiongate-reason").unwrap_or("")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn keeps_alive(&self) -> bool {
        !self
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }
}

/// A client connection that can carry several requests.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Conn {
            reader: BufReader::new(stream),
        }
    }

    /// The socket, for a test that reads it raw from here on.
    pub fn into_stream(self) -> TcpStream {
        self.reader.into_inner()
    }

    pub fn reader_mut(&mut self) -> &mut BufReader<TcpStream> {
        &mut self.reader
    }

    /// One line of the answer, line ending included.
    pub fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("line");
        line
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write");
    }

    /// Read one response. `head` says the request was HEAD (no body follows).
    pub fn read_response(&mut self, head: bool) -> Response {
        // One reader of responses (`raw`); here anything but a response fails the test.
        raw::read_response(&mut self.reader, head)
            .unwrap_or_else(|reply| panic!("no response: {reply:?}"))
    }

    /// Send one request and read its response.
    pub fn roundtrip(&mut self, request: &[u8]) -> Response {
        self.write(request);
        let head = request.starts_with(b"HEAD ");
        self.read_response(head)
    }
}

/// Send one request on a new connection.
pub fn send(addr: SocketAddr, request: &[u8]) -> Response {
    Conn::open(addr).roundtrip(request)
}

pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: gw.test\r\n\r\n").into_bytes()
}

/// A request with the given headers and a body with Content-Length.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: gw.test\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r.into_bytes()
}

/// A well-formed sessions POST.
pub fn sessions_post(path: &str, auth: &str, accept: &str, body: &str) -> Vec<u8> {
    request(
        "POST",
        path,
        &[
            ("Authorization", auth),
            ("Accept", accept),
            ("Content-Type", SESSION_PARAMS),
        ],
        body,
    )
}

pub fn params(client: &str, inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>{client}</clientName>{inner}</sessionparams>"
    )
}

pub fn launch_params(client: &str) -> String {
    format!(
        "<launchparams xmlns=\"http://citrix.com/delivery-services/1-0/launchparams\"><clientName>{client}</clientName></launchparams>"
    )
}

pub fn available(gw: &Gateway, auth: &str, body: &str) -> Response {
    send(
        gw.addr,
        &sessions_post(
            "/Citrix/Store/sessions/v1/available",
            auth,
            SESSION_STATE,
            body,
        ),
    )
}

/// POST `disconnect` or `logoff` (`op`) through the gateway.
pub fn results(gw: &Gateway, op: &str, auth: &str, body: &str) -> Response {
    let path = format!("/Citrix/Store/sessions/v1/{op}");
    send(gw.addr, &sessions_post(&path, auth, SESSION_RESULTS, body))
}

/// GET the store's resources (a passthrough path) with a token.
pub fn resources(gw: &Gateway, auth: &str) -> Response {
    send(
        gw.addr,
        &request(
            "GET",
            "/Citrix/Store/resources/v2",
            &[("Authorization", auth)],
            "",
        ),
    )
}

/// Values of every `<url>` element in a document.
pub fn urls(xml: &str) -> Vec<String> {
    xml.split("<url>")
        .skip(1)
        .filter_map(|s| s.split("</url>").next())
        .map(str::to_string)
        .collect()
}
