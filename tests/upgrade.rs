//! Graceful upgrade (`-u`, then SIGQUIT to the old process) under steady load: the listening
//! sockets pass from one process to the next and no request fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::load::{one_request, requests_counted, Connections, Load};
use common::process::GatewayProcess;
use common::raw::read_response;
use common::*;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Client threads sending at once.
const CLIENTS: usize = 4;
/// Requests that must succeed after the old process has exited.
const AFTER: usize = 500;

#[test]
fn an_upgrade_under_load_fails_no_request() {
    // In-flight requests get the grace period once the old process stops.
    let (_sim, mut gw) = GatewayProcess::with_demo_store("grace_period_seconds: 2\n");
    assert_eq!(
        one_request(gw.addr, &get("/Citrix/Store/sessions/v1/available")),
        Ok(405)
    );

    let request = sessions_post(
        "/Citrix/Store/sessions/v1/available",
        ALICE,
        SESSION_STATE,
        &params("UPGRADE-CLIENT", ""),
    );
    let load = Load::start(gw.addr, CLIENTS, Connections::Fresh, &request);
    // The load is running before the upgrade starts.
    let before = poll_until(
        Duration::from_secs(10),
        || requests_counted(gw.admin),
        |n| *n >= 100.0,
    );
    assert!(before >= 100.0, "no load before the upgrade");

    let mut old = gw.upgrade();
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(status) = old.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the old process still runs after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Requests after the old process is gone reach the new one only.
    let at_exit = requests_counted(gw.admin);
    let served_by_new = poll_until(
        Duration::from_secs(30),
        || requests_counted(gw.admin),
        |n| *n >= at_exit + AFTER as f64,
    );
    let (ok, failed) = load.finish();
    println!("{ok} requests answered 200 across the upgrade, {} failed; the new process served {served_by_new}", failed.len());
    assert!(exit.success(), "old process: {exit:?}\n{}", gw.log_text());
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ok >= 2000, "only {ok} requests in the run");
    assert!(served_by_new >= at_exit + AFTER as f64);
}

/// A connection the old process accepted whose request had not arrived when it began to stop
/// (a client's request on the way) is still answered, within the grace period.
#[test]
fn a_connection_accepted_before_the_stop_gets_its_first_request_answered() {
    let (_sim, mut gw) = GatewayProcess::with_demo_store("grace_period_seconds: 5\n");
    // Only the old process listens yet, so it accepts this connection.
    let mut stream = TcpStream::connect(gw.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        one_request(gw.addr, &get("/Citrix/Store/sessions/v1/available")),
        Ok(405)
    );
    let mut old = gw.upgrade();
    let stopping = poll_until(
        Duration::from_secs(20),
        || gw.log_text(),
        |log| log.contains("Graceful shutdown: grace period"),
    );
    assert!(
        stopping.contains("Graceful shutdown: grace period"),
        "{stopping}"
    );

    let request = sessions_post(
        "/Citrix/Store/sessions/v1/available",
        ALICE,
        SESSION_STATE,
        &params("LATE-CLIENT", ""),
    );
    stream.write_all(&request).unwrap();
    let reply = read_response(&mut BufReader::new(stream), false).map(|r| r.status);
    assert_eq!(reply.map_err(|r| format!("{r:?}")), Ok(200));
    let _ = old.kill();
    let _ = old.wait();
}
