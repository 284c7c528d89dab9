//! What reaches the StoreFront server: canonical body, canonical media types, exact framing; and
//! the active-session policy, checked in the simulator's state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;

const AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

fn last_request(sim: &Sim) -> sessiongate::sim::storefront::RecordedRequest {
    sim.sim
        .requests()
        .last()
        .cloned()
        .expect("the upstream got a request")
}

fn header<'a>(r: &'a sessiongate::sim::storefront::RecordedRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn policy_gateway(policy: &str) -> (Sim, Gateway) {
    let sim = Sim::start(sessiongate::sim::storefront::StoreFrontSim::demo_with_hazard(true));
    let gw = Gateway::start(sim.addr, &format!("    active_sessions: {policy}\n"));
    (sim, gw)
}

fn desktop_active(sim: &Sim) -> bool {
    sim.sim
        .sessions()
        .into_iter()
        .any(|s| s.client_name == "DESKTOP-2" && s.active)
}

const ACTIVE_QUERY: &str = "<includeActiveSessions>true</includeActiveSessions>";

#[test]
fn the_upstream_receives_the_canonical_body_and_media_types() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<q1:sessionParams xmlns:q1=\"http://citrix.com/delivery-services/1-0/sessionparams\">\n  <q1:clientName>LAPTOP-1</q1:clientName>\n  <q1:unknownThing><nested/></q1:unknownThing>\n  <q1:deviceId>dev&amp;1</q1:deviceId>\n  <q1:includeActiveSessions>false</q1:includeActiveSessions>\n</q1:sessionParams>";
    let r = send(
        gw.addr,
        &request(
            "POST",
            AVAILABLE,
            &[
                ("Authorization", ALICE),
                ("Accept", "text/html, */*"),
                (
                    "Content-Type",
                    "Application/Vnd.Citrix.SessionParams+XML; charset=UTF-8",
                ),
                ("Accept-Encoding", "gzip"),
                ("X-Forwarded-For", "6.6.6.6"),
                ("User-Agent", "CitrixReceiver/19.3.0.65534"),
            ],
            body,
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = last_request(&sim);
    let sent = String::from_utf8(got.body.clone()).unwrap();
    assert_eq!(
        sent,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><sessionParams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>LAPTOP-1</clientName><deviceId>dev&amp;1</deviceId><includeActiveSessions>false</includeActiveSessions></sessionParams>"
    );
    let length = sent.len().to_string();
    let host = sim.addr.to_string();
    for (name, want) in [
        ("content-length", Some(length.as_str())),
        (
            "content-type",
            Some("application/vnd.citrix.sessionparams+xml; charset=utf-8"),
        ),
        ("accept", Some(SESSION_STATE)),
        ("authorization", Some(ALICE)),
        ("user-agent", Some("CitrixReceiver/19.3.0.65534")),
        ("x-forwarded-for", Some("127.0.0.1")),
        ("host", Some(host.as_str())),
        ("accept-encoding", None),
        ("transfer-encoding", None),
        ("expect", None),
    ] {
        assert_eq!(header(&got, name), want, "{name}");
    }
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/Citrix/Store/sessions/v1/available");
}

#[test]
fn disconnect_and_logoff_forward_tickets_and_change_state() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let alice_laptop_active = |s: &Sim| {
        s.sim
            .sessions()
            .into_iter()
            .filter(|x| x.user == "alice" && x.client_name == "LAPTOP-1" && x.active)
            .count()
    };
    assert_eq!(alice_laptop_active(&sim), 1);
    let body = params(
        "LAPTOP-1",
        "<tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket></tickets>",
    );
    let r = results(&gw, "disconnect", ALICE, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(SESSION_RESULTS));
    assert!(r.text().contains("status=\"success\""));
    assert_eq!(
        alice_laptop_active(&sim),
        0,
        "the simulator's session was disconnected"
    );
    let sent = String::from_utf8(last_request(&sim).body).unwrap();
    assert!(
        sent.contains("<tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket></tickets>"),
        "{sent}"
    );

    let before = sim.sim.sessions().len();
    let r = results(&gw, "logoff/", ALICE, &params("LAPTOP-1", ""));
    assert_eq!(r.status, 200);
    assert!(
        sim.sim.sessions().len() < before,
        "logoff removed alice's LAPTOP-1 sessions"
    );
}

#[test]
fn allow_shows_the_hazard() {
    let (sim, gw) = policy_gateway("allow");
    assert!(desktop_active(&sim));
    let r = available(&gw, ALICE, &params("NEW-DEVICE", ACTIVE_QUERY));
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("Windows 10 Desktop"),
        "active session listed: {}",
        r.text()
    );
    assert!(
        !desktop_active(&sim),
        "a pre-XD7 farm disconnects what it lists"
    );
    assert_eq!(
        gw.metric(
            "sessiongate_active_session_queries_total{outcome=\"allowed\",store=\"store\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn strip_protects_active_sessions() {
    let (sim, gw) = policy_gateway("strip");
    let r = available(&gw, ALICE, &params("NEW-DEVICE", ACTIVE_QUERY));
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("Windows 10 Desktop"), "{}", r.text());
    assert!(desktop_active(&sim), "strip: nothing was disconnected");
    let sent = String::from_utf8(last_request(&sim).body).unwrap();
    assert!(
        sent.contains("<includeActiveSessions>false</includeActiveSessions>"),
        "{sent}"
    );
    assert_eq!(
        gw.metric(
            "sessiongate_active_session_queries_total{outcome=\"stripped\",store=\"store\"}",
            1.0
        ),
        1.0
    );
    // A query that does not ask for active sessions is not counted.
    available(&gw, ALICE, &params("NEW-DEVICE", ""));
    assert_eq!(
        gw.metric(
            "sessiongate_active_session_queries_total{outcome=\"stripped\",store=\"store\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn reject_refuses_active_queries_before_the_upstream() {
    let (sim, gw) = policy_gateway("reject");
    let r = available(&gw, ALICE, &params("NEW-DEVICE", ACTIVE_QUERY));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.header("x-sessiongate-reason"),
        Some("active_sessions_refused")
    );
    assert_eq!(sim.sim.request_count(), 0);
    assert!(desktop_active(&sim));
    assert_eq!(
        gw.metric(
            "sessiongate_active_session_queries_total{outcome=\"refused\",store=\"store\"}",
            1.0
        ),
        1.0
    );
    let r = available(
        &gw,
        ALICE,
        &params(
            "NEW-DEVICE",
            "<includeActiveSessions>false</includeActiveSessions>",
        ),
    );
    assert_eq!(r.status, 200);
}
