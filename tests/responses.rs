//! What clients get back: launch URLs, endpoints, challenges and Location headers on the public
//! side, media types normalised, exact framing, and launch through the rewritten URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::*;
use sessiongate::sim::storefront::Fault;

const PUBLIC: &str = "https://ws.example.com/Citrix/Store";

fn assert_no_upstream(sim: &Sim, r: &Response) {
    let needle = sim.addr.to_string();
    assert!(
        !r.text().contains(&needle),
        "upstream address leaked in body: {}",
        r.text()
    );
    for (n, v) in &r.headers {
        assert!(!v.contains(&needle), "upstream address leaked in {n}: {v}");
    }
}

#[test]
fn launch_urls_point_at_the_public_side() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let r = available(
        &gw,
        ALICE,
        &params(
            "NEW-DEVICE",
            "<includeActiveSessions>true</includeActiveSessions>",
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(SESSION_STATE));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let urls = urls(&r.text());
    assert!(urls.len() >= 2, "{}", r.text());
    let state = sessiongate::protocol::session_state::parse(&r.body).unwrap();
    for s in &state.sessions {
        assert_eq!(
            s.launch_url,
            format!("{PUBLIC}/sessions/v1/{}/launch/ica", s.id)
        );
    }
    assert_no_upstream(&sim, &r);
}

#[test]
fn launch_through_the_rewritten_url_returns_the_ica_file_untouched() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let r = available(&gw, ALICE, &params("NEW-DEVICE", ""));
    let state = sessiongate::protocol::session_state::parse(&r.body).unwrap();
    let notepad = state
        .sessions
        .iter()
        .find(|s| s.initial_app.as_deref() == Some("Notepad"))
        .expect("disconnected Notepad session listed");
    let path = notepad
        .launch_url
        .strip_prefix("https://ws.example.com")
        .unwrap();
    let launch = request(
        "POST",
        path,
        &[
            ("Authorization", ALICE),
            ("Accept", LAUNCH_DATA),
            ("Content-Type", LAUNCH_PARAMS),
        ],
        &launch_params("NEW-DEVICE"),
    );
    let r = send(gw.addr, &launch);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(LAUNCH_DATA));
    // Byte for byte what the simulator sent.
    let upstream_body = sim.sim.last_response_body().expect("sim answered");
    assert_eq!(r.body, upstream_body);
    let ticket = sim
        .sim
        .issued_tickets()
        .last()
        .cloned()
        .expect("a ticket was issued");
    assert!(
        r.text().contains(&format!("LogonTicket={ticket}")),
        "{}",
        r.text()
    );
    assert!(r.text().contains("\r\n"), "CRLF of the ICA file kept");
    let reconnected = sim
        .sim
        .sessions()
        .into_iter()
        .find(|s| s.id == notepad.id)
        .unwrap();
    assert!(reconnected.active);
    assert_eq!(reconnected.client_name, "NEW-DEVICE");
    // Launch of an unknown session: the upstream's 404 comes back.
    let unknown = request(
        "POST",
        "/Citrix/Store/sessions/v1/nosuchsession/launch/ica",
        &[
            ("Authorization", ALICE),
            ("Accept", LAUNCH_DATA),
            ("Content-Type", LAUNCH_PARAMS),
        ],
        &launch_params("NEW-DEVICE"),
    );
    assert_eq!(send(gw.addr, &unknown).status, 404);
}

#[test]
fn endpoints_document_is_rewritten() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    let r = send(gw.addr, &get("/Citrix/Store/endpoints/v1"));
    assert_eq!(r.status, 200, "{}", r.text());
    let endpoints = sessiongate::protocol::endpoints::parse(&r.body).unwrap();
    assert!(endpoints.len() >= 4);
    for e in &endpoints {
        assert!(e.url.starts_with(PUBLIC), "{}", e.url);
    }
    assert!(endpoints
        .iter()
        .any(|e| e.url == format!("{PUBLIC}/sessions/v1/available")));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_no_upstream(&sim, &r);
}

#[test]
fn upstream_challenges_and_locations_are_rewritten() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    // Passthrough without a token: the simulator's own 401.
    let r = send(gw.addr, &get("/Citrix/Store/resources/v2"));
    assert_eq!(r.status, 401);
    let c = r.header("www-authenticate").unwrap();
    assert!(c.starts_with("CitrixAuth realm=\""), "{c}");
    assert!(
        c.contains("locations=\"https://ws.example.com/Citrix/StoreAuth/auth/v1/token\""),
        "{c}"
    );
    assert!(
        c.ends_with("serviceroot-hint=\"https://ws.example.com/Citrix/Store/resources/v2\""),
        "{c}"
    );
    assert_no_upstream(&sim, &r);
    // Passthrough with a token reaches the same path on the upstream.
    let r = resources(&gw, ALICE);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("alice"));
    assert_eq!(
        sim.sim.requests().last().unwrap().path,
        "/Citrix/Store/resources/v2"
    );
    // Redirects point at the public side.
    let r = send(gw.addr, &get("/Citrix/Store/home"));
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("https://ws.example.com/Citrix/Store/resources/v2")
    );
}

#[test]
fn unreadable_session_state_is_a_502_never_a_leak() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    sim.sim.set_fault(Some(Fault::GarbageBody));
    let r = available(&gw, ALICE, &params("C", ""));
    assert_eq!(r.status, 502);
    assert_eq!(
        r.header("x-sessiongate-reason"),
        Some("upstream_bad_answer")
    );
    assert_no_upstream(&sim, &r);
    let r = send(gw.addr, &get("/Citrix/Store/endpoints/v1"));
    assert_eq!(r.status, 502);
    assert_no_upstream(&sim, &r);
}

#[test]
fn response_media_types_are_normalised() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    for ct in [
        "application/xml",
        "text/xml; charset=utf-8",
        "application/vnd.citrix.sessionresult+xml",
    ] {
        sim.sim.set_fault(Some(Fault::ContentType(ct.to_string())));
        let r = results(&gw, "disconnect", ALICE, &params("C", ""));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some(SESSION_RESULTS), "{ct}");
        let r = available(&gw, ALICE, &params("C", ""));
        assert_eq!(r.header("content-type"), Some(SESSION_STATE), "{ct}");
    }
}

#[test]
fn upstream_status_and_headers_pass_through() {
    let sim = Sim::demo();
    let gw = Gateway::start(sim.addr, "");
    // Unknown token: the simulator's 401 passes through with its challenge rewritten.
    let r = available(&gw, "CitrixAuth not-a-known-token", &params("C", ""));
    assert_eq!(r.status, 401);
    let c = r.header("www-authenticate").unwrap();
    assert!(c.contains("reason=\"invalidtoken\""), "{c}");
    assert!(c.contains("https://ws.example.com/"), "{c}");
    assert_no_upstream(&sim, &r);
}

#[test]
fn a_store_served_under_another_path_hides_the_internal_path() {
    let sim = Sim::demo();
    let gw = Gateway::start_with_stores(&store_yaml(
        "/Workspace/Sessions",
        "https://ws.example.com/Workspace/Sessions",
        sim.addr,
        "",
    ));
    let r = send(
        gw.addr,
        &sessions_post(
            "/Workspace/Sessions/sessions/v1/available",
            ALICE,
            SESSION_STATE,
            &params("NEW-DEVICE", ""),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        sim.sim.requests().last().unwrap().path,
        "/Citrix/Store/sessions/v1/available",
        "the server gets its own store path"
    );
    let state = sessiongate::protocol::session_state::parse(&r.body).unwrap();
    assert!(!state.sessions.is_empty());
    for s in &state.sessions {
        assert!(
            s.launch_url
                .starts_with("https://ws.example.com/Workspace/Sessions/sessions/v1/"),
            "{}",
            s.launch_url
        );
    }
    let r = send(gw.addr, &get("/Workspace/Sessions/endpoints/v1"));
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("/Citrix/Store"), "{}", r.text());
    let r = send(gw.addr, &get("/Workspace/Sessions/home"));
    assert_eq!(
        r.header("location"),
        Some("https://ws.example.com/Workspace/Sessions/resources/v2")
    );
    assert_no_upstream(&sim, &r);
}
