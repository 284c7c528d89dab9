//! The simulated StoreFront store on its own (no gateway): it is test infrastructure, so these
//! tests pin down the behaviour the gateway tests rely on.
// Helpers outside `#[test]` functions panic on purpose: a broken harness should fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::serve;

use sessiongate::server;
use sessiongate::sim::storefront::{Fault, StoreFrontSim};

const SESSION_PARAMS: &str = "application/vnd.citrix.sessionparams+xml";
const LAUNCH_PARAMS: &str = "application/vnd.citrix.launchparams+xml";
const ALICE: &str = "CitrixAuth demo-token-alice";
const NS: &str = "http://citrix.com/delivery-services/1-0/sessionparams";

/// The simulator on an ephemeral loopback port; stopped on drop.
struct Running {
    sim: Arc<StoreFrontSim>,
    addr: SocketAddr,
    _server: server::Running,
}

impl Running {
    fn start(sim: Arc<StoreFrontSim>) -> Running {
        let (addr, running) = serve(|addr| sim.service(addr));
        Running {
            sim,
            addr,
            _server: running,
        }
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(req.as_bytes()).expect("write");
        read_response(&mut BufReader::new(stream))
    }

    fn post(&self, path: &str, auth: &str, content_type: &str, body: &str) -> Resp {
        self.send(
            "POST",
            path,
            &[("Authorization", auth), ("Content-Type", content_type)],
            body,
        )
    }

    fn sessions_op(&self, op: &str, body: &str) -> Resp {
        self.post(
            &format!("/Citrix/Store/sessions/v1/{op}"),
            ALICE,
            SESSION_PARAMS,
            body,
        )
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Read one response, honouring Content-Length (the simulator always sends it).
fn read_response(r: &mut impl BufRead) -> Resp {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').expect("header line");
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut resp = Resp {
        status,
        headers,
        body: String::new(),
    };
    let len: usize = resp
        .header("content-length")
        .map(|l| l.parse().expect("length"))
        .expect("content-length");
    let mut body = vec![0; len];
    r.read_exact(&mut body).expect("body");
    resp.body = String::from_utf8(body).expect("utf-8 body");
    resp
}

fn params(client: &str, extra: &str) -> String {
    format!(
        "<sessionparams xmlns=\"{NS}\"><clientName>{client}</clientName>{extra}</sessionparams>"
    )
}

fn launch_params(client: &str) -> String {
    format!("<launchparams xmlns=\"http://citrix.com/delivery-services/1-0/launchparams\"><clientName>{client}</clientName></launchparams>")
}

const ACTIVE: &str = "<includeActiveSessions>true</includeActiveSessions>";

fn id_of(sim: &StoreFrontSim, app: &str) -> String {
    sim.sessions()
        .into_iter()
        .find(|s| s.app == app)
        .map(|s| s.id)
        .expect("seeded session")
}

#[test]
fn available_lists_alices_sessions_with_absolute_upstream_urls() {
    let s = Running::start(StoreFrontSim::demo());
    let r = s.sessions_op("available", &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citrix.sessionstate+xml")
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let notepad = id_of(&s.sim, "Notepad");
    let url = format!(
        "http://{}/Citrix/Store/session/v1/{notepad}/launch/ica",
        s.host()
    );
    assert!(r.body.contains(&url), "{}", r.body);
    assert!(!r.body.contains("Excel") && !r.body.contains("Calculator"));

    // Active sessions elsewhere only when asked; the asking client's own are never listed.
    let r = s.sessions_op("available", &params("LAPTOP-1", ACTIVE));
    assert!(r.body.contains("Windows 10 Desktop") && !r.body.contains("Excel"));
    let r = s.sessions_op(
        "available/",
        &params(
            "NEW",
            "<includeActiveSessions>true</includeActiveSessions><appSessionsOnly>true</appSessionsOnly>",
        ),
    );
    assert!(r.body.contains("Excel") && !r.body.contains("Windows 10 Desktop"));
    // No side effect without the legacy hazard.
    assert_eq!(s.sim.sessions().iter().filter(|x| x.active).count(), 2);
    assert_eq!(s.sim.request_count(), 3);
    let last = s.sim.requests().pop().expect("recorded");
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("POST", "/Citrix/Store/sessions/v1/available/")
    );
}

#[test]
fn legacy_hazard_disconnects_listed_active_sessions() {
    let s = Running::start(StoreFrontSim::demo_with_hazard(true));
    let r = s.sessions_op("available", &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200);
    assert_eq!(s.sim.sessions().iter().filter(|x| x.active).count(), 2);
    let r = s.sessions_op("available", &params("NEW-DEVICE", ACTIVE));
    assert!(r.body.contains("Windows 10 Desktop") && r.body.contains("Excel"));
    assert!(s.sim.sessions().iter().all(|x| !x.active));
}

#[test]
fn launch_disconnect_and_logoff_change_state_and_tickets() {
    let s = Running::start(StoreFrontSim::demo());
    let notepad = id_of(&s.sim, "Notepad");
    let r = s.post(
        &format!("/Citrix/Store/session/v1/{notepad}/launch/ica"),
        ALICE,
        LAUNCH_PARAMS,
        &launch_params("NEW-DEVICE"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citrix.launchdata+xml")
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, no-store, max-age=0")
    );
    let ticket = s.sim.issued_tickets().pop().expect("ticket");
    assert_eq!(ticket.len(), 30);
    assert!(
        r.body.contains(&format!("LogonTicket={ticket}")),
        "{}",
        r.body
    );
    assert!(r.body.contains("ClientName=NEW-DEVICE"));
    assert!(r.body.contains("\r\n"), "CRLF line ends");
    assert_eq!(
        s.sim.last_response_body().map(|b| b.len()),
        Some(r.body.len())
    );
    let np = s
        .sim
        .sessions()
        .into_iter()
        .find(|x| x.id == notepad)
        .expect("still there");
    assert!(np.active && np.client_name == "NEW-DEVICE");

    // Disconnect on NEW-DEVICE, invalidating the ticket.
    let tickets = format!("<tickets><ticket>{ticket}</ticket></tickets>");
    let r = s.sessions_op("disconnect", &params("NEW-DEVICE", &tickets));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citrix.sessionresults+xml")
    );
    assert!(r.body.contains("success"), "{}", r.body);
    assert_eq!(s.sim.invalidated_tickets(), vec![ticket]);
    let np = s
        .sim
        .sessions()
        .into_iter()
        .find(|x| x.id == notepad)
        .expect("still there");
    assert!(!np.active);

    // Log off LAPTOP-1: Excel goes, the rest stays.
    let before = s.sim.sessions().len();
    let r = s.sessions_op("logoff/", &params("LAPTOP-1", ""));
    assert_eq!(r.status, 200);
    assert_eq!(s.sim.sessions().len(), before - 1);
    assert!(s.sim.sessions().iter().all(|x| x.app != "Excel"));
}

#[test]
fn launch_of_an_unknown_or_foreign_session_is_404() {
    let s = Running::start(StoreFrontSim::demo());
    let calc = id_of(&s.sim, "Calculator");
    for id in ["nosuchsession", calc.as_str()] {
        let r = s.post(
            &format!("/Citrix/Store/sessions/v1/{id}/launch/ica"),
            ALICE,
            LAUNCH_PARAMS,
            &launch_params("X"),
        );
        assert_eq!(r.status, 404, "{id}");
    }
    assert!(s.sim.issued_tickets().is_empty());
}

#[test]
fn challenges_name_the_urls_the_client_used() {
    let s = Running::start(StoreFrontSim::demo());
    let host = s.host();
    let r = s.send(
        "POST",
        "/Citrix/Store/sessions/v1/available",
        &[("Content-Type", SESSION_PARAMS)],
        &params("C", ""),
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate").map(str::to_string),
        Some(format!(
            "CitrixAuth realm=\"6b78ab94-a709-4e3a-8b9b-a49ca317c70c\", reqtokentemplate=\"\", reason=\"notoken\", locations=\"http://{host}/Citrix/StoreAuth/auth/v1/token\", serviceroot-hint=\"http://{host}/Citrix/Store/resources/v2\""
        ))
    );
    let r = s.post(
        "/Citrix/Store/sessions/v1/available",
        "CitrixAuth nope",
        SESSION_PARAMS,
        &params("C", ""),
    );
    assert!(r
        .header("www-authenticate")
        .is_some_and(|c| c.contains("reason=\"invalidtoken\"")));
}

#[test]
fn malformed_sessions_requests_are_refused() {
    let s = Running::start(StoreFrontSim::demo());
    let available = "/Citrix/Store/sessions/v1/available";
    let r = s.send("GET", available, &[("Authorization", ALICE)], "");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    for (case, content_type, body, status) in [
        ("not sessionparams", "application/xml", params("C", ""), 400),
        (
            "unreadable",
            SESSION_PARAMS,
            "<sessionparams".to_string(),
            400,
        ),
        ("over 64 KiB", SESSION_PARAMS, "x".repeat(70 * 1024), 413),
    ] {
        let r = s.post(available, ALICE, content_type, &body);
        assert_eq!(r.status, status, "{case}");
    }
}

#[test]
fn passthrough_routes_answer_with_absolute_urls() {
    let s = Running::start(StoreFrontSim::demo());
    let host = s.host();
    let r = s.send(
        "GET",
        "/Citrix/Store/resources/v2",
        &[("Authorization", ALICE)],
        "",
    );
    assert!(r.status == 200 && r.body.contains("alice"), "{}", r.body);
    let r = s.send("GET", "/Citrix/Store/home", &[], "");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location").map(str::to_string),
        Some(format!("http://{host}/Citrix/Store/resources/v2"))
    );
    let r = s.send("GET", "/Citrix/Store/endpoints/v1", &[], "");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citrix.endpoints+xml")
    );
    for (id, path) in [
        ("ListSessions", "sessions/v1/available"),
        ("DisconnectSessions", "sessions/v1/disconnect"),
        ("LogOffSessions", "sessions/v1/logoff"),
        ("ListResourcesWithAutoProvision", "resources/v2"),
    ] {
        assert!(r.body.contains(id), "{id}: {}", r.body);
        assert!(
            r.body
                .contains(&format!("http://{host}/Citrix/Store/{path}<")),
            "{path}: {}",
            r.body
        );
    }
    for (case, path, status) in [
        (
            "resources without a token",
            "/Citrix/Store/resources/v2",
            401,
        ),
        ("unknown store path", "/Citrix/Store/nothing", 404),
        ("outside the store", "/elsewhere", 404),
    ] {
        assert_eq!(s.send("GET", path, &[], "").status, status, "{case}");
    }
}

#[test]
fn faults_and_delay() {
    let s = Running::start(StoreFrontSim::demo());
    s.sim.set_fault(Some(Fault::GarbageBody));
    let r = s.sessions_op("available", &params("C", ""));
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("</sessionState>"));
    s.sim
        .set_fault(Some(Fault::ContentType("application/xml".into())));
    let r = s.sessions_op("disconnect", &params("C", ""));
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/xml"))
    );
    s.sim.set_fault(Some(Fault::Status(503)));
    assert_eq!(
        s.send("GET", "/Citrix/Store/endpoints/v1", &[], "").status,
        503
    );
    s.sim.set_fault(None);
    s.sim.set_delay(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(s.sessions_op("available", &params("C", "")).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn fault_switch_over_http() {
    let s = Running::start(StoreFrontSim::demo());
    s.sim.set_server_name("canary");
    let fault = "/__sim/fault";
    let r = s.send("GET", fault, &[], "");
    assert_eq!((r.status, r.body.trim()), (200, "none"));
    let r = s.send("POST", fault, &[], "500\n");
    assert_eq!((r.status, r.body.trim()), (200, "500"));
    assert_eq!(s.sim.fault(), Some(Fault::Status(500)));
    let r = s.sessions_op("available", &params("C", ""));
    assert_eq!(r.status, 500);
    assert_eq!(r.header("x-sim-server"), Some("canary"));
    assert_eq!(s.send("GET", fault, &[], "").body.trim(), "500");
    let r = s.send("POST", fault, &[], "garbage");
    assert_eq!((r.status, r.body.trim()), (200, "garbage"));
    for (case, method, path, body, status) in [
        ("not a fault", "POST", fault, "200", 400),
        ("unknown word", "POST", fault, "teapot", 400),
        ("oversized", "POST", fault, &"5".repeat(70 * 1024), 400),
        ("other method", "PUT", fault, "none", 405),
        ("other control route", "GET", "/__sim/other", "", 404),
    ] {
        let r = s.send(method, path, &[], body);
        assert_eq!(r.status, status, "{case}: {}", r.body);
    }
    assert_eq!(
        s.sim.fault(),
        Some(Fault::GarbageBody),
        "refused bodies change nothing"
    );
    let r = s.send("POST", fault, &[], "none");
    assert_eq!((r.status, r.body.trim()), (200, "none"));
    let r = s.sessions_op("available", &params("C", ""));
    assert_eq!(r.status, 200);
    // Control requests are not store traffic.
    let recorded = s.sim.requests();
    assert!(recorded.iter().all(|r| !r.path.starts_with("/__sim/")));
    assert_eq!(recorded.len(), 2, "the two sessions requests");
}
