//! Slow, idle and greedy clients are cut off by the gateway's own limits (`clients:`), each
//! closed connection counted, while well-behaved clients keep being served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";
const DROPPED: &str = "sessiongate_client_connections_dropped_total";

/// A valid `available` request.
fn valid() -> Vec<u8> {
    sessions_post(AVAILABLE, ALICE, SESSION_STATE, &params("C", ""))
}

/// A gateway in front of the demo store whose client limits are `timeout_ms` (header, body and
/// idle) and `max_connections`.
fn limited(sim: &Sim, max_connections: usize, timeout_ms: u64) -> Gateway {
    let top = format!(
        "clients:\n  header_timeout_ms: {timeout_ms}\n  body_timeout_ms: {timeout_ms}\n  idle_timeout_ms: {timeout_ms}\n  max_connections: {max_connections}\n"
    );
    let stores = store_yaml(
        "/Citrix/Store",
        "https://ws.example.com/Citrix/Store",
        sim.addr,
        "",
    );
    Gateway::start_with(&top, &stores)
}

/// The counter of connections dropped for `reason` (process-wide: tests run in parallel, so
/// callers compare against a value read before).
fn dropped(gw: &Gateway, reason: &str) -> f64 {
    gw.metrics()
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{DROPPED}{{reason=\"{reason}\"}} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Wait (bounded) until the gateway closes `stream`; how long that took from `since`.
fn closed_after(stream: &mut TcpStream, since: Instant) -> Duration {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return since.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return since.elapsed(),
            Err(e) => panic!("the gateway did not close the connection: {e}"),
        }
    }
}

/// The status of a valid request on a new connection, 0 when the connection was closed first.
fn try_status(addr: SocketAddr) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = valid();
    let mut head = [0u8; 12];
    match stream
        .write_all(&request)
        .and_then(|()| stream.read_exact(&mut head))
    {
        Ok(()) => String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0),
        Err(_) => 0,
    }
}

fn valid_request_works(addr: SocketAddr) {
    let r = send(addr, &valid());
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_trickled_header_is_cut_off_as_a_whole_not_per_byte() {
    let sim = Sim::demo();
    let gw = limited(&sim, 100, 800);
    let before = dropped(&gw, "header_timeout");
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    let started = Instant::now();
    // One byte every 100 ms: each read is quick, the header never ends.
    let request = valid();
    for b in request.iter().take(30) {
        if stream.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = closed_after(&mut stream, started);
    assert!(took < Duration::from_millis(2500), "closed after {took:?}");
    assert_eq!(
        gw.metric(
            &format!("{DROPPED}{{reason=\"header_timeout\"}}"),
            before + 1.0
        ),
        before + 1.0
    );
    valid_request_works(gw.addr);
}

#[test]
fn idle_connections_are_closed_the_first_request_too() {
    let sim = Sim::demo();
    let gw = limited(&sim, 100, 800);
    let before = dropped(&gw, "idle_timeout");
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(gw.addr).unwrap();
    let started = Instant::now();
    // A kept-alive connection after one request.
    let mut conn = Conn::open(gw.addr);
    let r = conn.roundtrip(&valid());
    assert!(r.status == 200 && r.keeps_alive(), "{}", r.text());
    let took = closed_after(&mut silent, started);
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    let mut kept = conn.into_stream();
    closed_after(&mut kept, started);
    assert_eq!(
        gw.metric(
            &format!("{DROPPED}{{reason=\"idle_timeout\"}}"),
            before + 2.0
        ),
        before + 2.0
    );
}

#[test]
fn a_half_sent_second_request_is_cut_off() {
    let sim = Sim::demo();
    let gw = limited(&sim, 100, 800);
    let mut conn = Conn::open(gw.addr);
    let r = conn.roundtrip(&valid());
    assert_eq!(r.status, 200);
    conn.write(b"POST /Citrix/Store/sessions/v1/available HTTP/1.1\r\nHost: gw\r\n");
    let started = Instant::now();
    let took = closed_after(&mut conn.into_stream(), started);
    assert!(took < Duration::from_millis(2500), "{took:?}");
}

#[test]
fn a_trickled_body_gets_408_within_the_body_limit() {
    let sim = Sim::demo();
    let gw = limited(&sim, 100, 800);
    let body = params("C", "");
    let request = sessions_post(AVAILABLE, ALICE, SESSION_STATE, &body);
    let split = request.len() - body.len() + 10;
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    stream.write_all(&request[..split]).unwrap();
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("x-sessiongate-reason: body_timeout"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(sim.sim.request_count(), 0);
}

#[test]
fn connections_over_the_cap_are_closed_and_counted() {
    let sim = Sim::demo();
    let gw = limited(&sim, 3, 10_000);
    let before = dropped(&gw, "over_capacity");
    // Three kept-alive connections, each served once (so each holds a place), then idle.
    let held: Vec<Conn> = (0..3)
        .map(|_| {
            let mut c = Conn::open(gw.addr);
            let r = c.roundtrip(&valid());
            assert_eq!(r.status, 200);
            c
        })
        .collect();
    let counted = |n: f64| gw.metric(&format!("{DROPPED}{{reason=\"over_capacity\"}}"), n);
    // Connections that only probed the port at start may still hold a place for a moment.
    let refused = poll_until(Duration::from_secs(5), || try_status(gw.addr), |s| *s == 0);
    assert_eq!(refused, 0, "a fourth connection was served");
    assert!(counted(before + 1.0) >= before + 1.0);
    drop(held);
    // Places come back once the held connections are gone.
    let served = poll_until(
        Duration::from_secs(5),
        || try_status(gw.addr),
        |s| *s == 200,
    );
    assert_eq!(served, 200);
}
