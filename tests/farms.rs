//! Farm-backed stores end to end: the real gateway in front of two or more simulated legacy farms
//! (real NFuse XML brokers on loopback), driven over raw HTTP like a Workspace app would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::*;
use common::introspection::Introspection;
use common::*;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sessiongate::sim::farm::FarmFault;

#[test]
fn sessions_of_two_farms_come_back_as_one_list() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let xd = Farm::empty("XD7", false, "10.0.2.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    xd.sim.add_session(ALICE_SAM, "Excel", "old-pc", false);
    xd.sim.add_session("CORP\\bob", "Word", "bob-pc", false);
    let gw = gateway(
        &[entry(&xa, ""), entry(&xd, "        pre_xd7: false\n")],
        "",
    );

    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(SESSION_STATE));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let xml = r.text();
    assert!(xml.contains("enumeration=\"full\""), "{xml}");
    let sessions = listed(&xml);
    let publishers: Vec<&str> = sessions.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        publishers,
        vec!["XA65", "XD7"],
        "farm order, bob's left out: {xml}"
    );
    assert!(xml.contains("<initialapp>Notepad</initialapp>"));
    assert!(xml.contains("<initialappresourceid>XD7.Excel</initialappresourceid>"));
    for (_, url) in &sessions {
        assert!(url.starts_with(&format!("{PUBLIC}/sessions/v1/")), "{url}");
        assert!(url.ends_with("/launch/ica"), "{url}");
    }
    // Ids are opaque: the broker's numbers do not show.
    assert!(!xml.contains(&format!("id=\"{}", xa.session("Notepad").host_id)));

    // Each farm got one identity-only query with exact framing and no password.
    for farm in [&xa, &xd] {
        let requests = farm.sim.requests();
        let q: Vec<_> = requests
            .iter()
            .filter(|r| r.kind == "RequestReconnectSessionData")
            .collect();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].content_length, Some(q[0].body.len()));
        assert!(!q[0].chunked);
        let body = String::from_utf8_lossy(&q[0].body);
        assert!(body.contains("<ID type=\"SAM\">CORP\\alice</ID>"), "{body}");
        assert!(
            body.contains("<ClientName>NEW-DEVICE</ClientName>"),
            "{body}"
        );
        assert!(!body.contains("Password"), "{body}");
        assert!(
            !body.contains("<SessionType>active</SessionType>"),
            "{body}"
        );
    }
    assert_eq!(
        gw.metric(
            "sessiongate_farm_requests_total{farm=\"XD7\",outcome=\"ok\",request=\"reconnect_session_data\",store=\"legacy\"}",
            1.0
        ),
        1.0
    );
    assert_eq!(
        gw.metric(
            "sessiongate_token_verifications_total{outcome=\"ok\",store=\"legacy\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn sids_from_the_token_reach_the_farm_unless_they_would_break_its_size_limit() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    let gw = gateway(&[entry(&xa, "")], "");
    let few: Vec<String> = (0..3)
        .map(|i| format!("S-1-5-21-1004336348-1177238915-682003330-{}", 1100 + i))
        .collect();
    let r = list(
        &gw,
        &token_with_sids(ALICE_SAM, &few),
        &params("NEW-DEVICE", ""),
    );
    assert_eq!(r.status, 200);
    let body = xa.received("RequestReconnectSessionData").pop().unwrap();
    for sid in &few {
        assert!(
            body.contains(&format!("<ID type=\"SID\">{sid}</ID>")),
            "{body}"
        );
    }

    // A user in 120 groups: with SIDs the request would be ~7 KB, over the brokers' 4 KB.
    let many: Vec<String> = (0..120)
        .map(|i| format!("S-1-5-21-1004336348-1177238915-682003330-{}", 2000 + i))
        .collect();
    let r = list(
        &gw,
        &token_with_sids(ALICE_SAM, &many),
        &params("NEW-DEVICE", ""),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Notepad"));
    let sent = xa.sim.requests().pop().unwrap();
    assert!(sent.body.len() <= 4096, "{} bytes", sent.body.len());
    let body = String::from_utf8_lossy(&sent.body);
    assert!(body.contains("<ID type=\"SAM\">CORP\\alice</ID>"), "{body}");
    assert!(!body.contains("type=\"SID\""), "{body}");
}

#[test]
fn device_id_identifies_the_client_when_given() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "")], "");
    let r = list(
        &gw,
        &token(ALICE_SAM),
        &params("NEW-DEVICE", "<deviceId>WR_device42</deviceId>"),
    );
    assert_eq!(r.status, 200);
    let body = xa.received("RequestReconnectSessionData").remove(0);
    assert!(body.contains("<DeviceId>WR_device42</DeviceId>"), "{body}");
    assert!(!body.contains("<ClientName>"), "{body}");
}

#[test]
fn strip_protects_active_sessions_on_pre_xd7_farms_and_allow_shows_the_hazard() {
    // Default policy of a pre-XD7 farm: strip.
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim
        .add_session(ALICE_SAM, "Outlook", "alice-desktop", true);
    let gw = gateway(&[entry(&xa, "")], "");
    let r = list(&gw, &token(ALICE_SAM), &active_params("NEW-DEVICE"));
    assert_eq!(r.status, 200);
    assert!(xa.session("Outlook").active, "strip left the session alone");
    let body = xa.received("RequestReconnectSessionData").remove(0);
    assert!(
        !body.contains("<SessionType>active</SessionType>"),
        "{body}"
    );
    assert!(!r.text().contains("Outlook"), "{}", r.text());
    assert_eq!(
        gw.metric(
            "sessiongate_farm_active_session_queries_total{action=\"stripped\",farm=\"XA65\",store=\"legacy\"}",
            1.0
        ),
        1.0
    );
    drop(gw);

    // The same request with allow: the farm disconnects the active session, as pre-XD7 farms do.
    let gw = gateway(&[entry(&xa, "        active_sessions: allow\n")], "");
    let r = list(&gw, &token(ALICE_SAM), &active_params("NEW-DEVICE"));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<initialapp>Outlook</initialapp>"));
    assert!(
        !xa.session("Outlook").active,
        "the hazard: listing disconnected the session"
    );
    assert_eq!(
        gw.metric(
            "sessiongate_farm_active_session_queries_total{action=\"allowed\",farm=\"XA65\",store=\"legacy\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn active_sessions_are_listed_where_it_is_safe() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let xd = Farm::empty("XD7", false, "10.0.2.5:1494");
    xa.sim
        .add_session(ALICE_SAM, "Outlook", "alice-desktop", true);
    xd.sim
        .add_session(ALICE_SAM, "Desktop", "alice-desktop", true);
    let gw = gateway(
        &[entry(&xa, ""), entry(&xd, "        pre_xd7: false\n")],
        "",
    );
    let r = list(&gw, &token(ALICE_SAM), &active_params("NEW-DEVICE"));
    let xml = r.text();
    assert!(xml.contains("<initialapp>Desktop</initialapp>"), "{xml}");
    assert!(!xml.contains("Outlook"), "{xml}");
    assert!(xa.session("Outlook").active);
    assert!(
        xd.session("Desktop").active,
        "XD7 lists without disconnecting"
    );
}

#[test]
fn reject_refuses_before_any_farm_is_asked() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "        active_sessions: reject\n")], "");
    let r = list(&gw, &token(ALICE_SAM), &active_params("NEW-DEVICE"));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.header("x-sessiongate-reason"),
        Some("active_sessions_refused")
    );
    assert_eq!(xa.sim.request_count(), 0);
    // Without active sessions the same store answers.
    assert_eq!(
        list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).status,
        200
    );
}

#[test]
fn app_sessions_only_skips_pre_xd7_desktop_farms() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let xd5 = Farm::empty("XD5", true, "10.0.3.5:1494");
    let lwc = Farm::empty("XD5L", true, "10.0.4.5:1494");
    let gw = gateway(
        &[
            entry(&xa, "        hosts: apps\n"),
            entry(&xd5, "        hosts: desktops\n"),
            entry(
                &lwc,
                "        hosts: desktops\n        legacy_workspace_control: true\n",
            ),
        ],
        "",
    );
    let only_apps = params("NEW-DEVICE", "<appSessionsOnly>true</appSessionsOnly>");
    assert_eq!(list(&gw, &token(ALICE_SAM), &only_apps).status, 200);
    assert_eq!(xa.sim.request_count(), 1);
    assert_eq!(xd5.sim.request_count(), 0, "the desktop farm is not asked");
    assert_eq!(
        lwc.sim.request_count(),
        1,
        "legacy workspace control asks it anyway"
    );
    assert_eq!(
        list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).status,
        200
    );
    assert_eq!(xd5.sim.request_count(), 1);
}

#[test]
fn a_farm_that_is_down_or_slow_makes_the_answer_partial_not_failed() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let slow = Farm::empty("Slow", false, "10.0.2.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    slow.sim.add_session(ALICE_SAM, "Excel", "old-pc", false);
    slow.sim.set_delay(Duration::from_secs(10));
    let down = FarmEntry {
        name: "Down",
        brokers: vec![free_addr()],
        extra: "",
    };
    let gw = gateway(
        &[
            entry(&xa, ""),
            entry(&slow, "        timeout_ms: 300\n"),
            down,
        ],
        "",
    );
    let started = Instant::now();
    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.text());
    let xml = r.text();
    assert!(xml.contains("enumeration=\"partial\""), "{xml}");
    assert!(xml.contains("<initialapp>Notepad</initialapp>"), "{xml}");
    assert!(!xml.contains("Excel"), "{xml}");
    // Bounded by the slow farm's connect + answer budget (0.8 s), not its 10 s delay.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    for sample in [
        "sessiongate_partial_enumerations_total{store=\"legacy\"}",
        "sessiongate_farm_requests_total{farm=\"Slow\",outcome=\"timeout\",request=\"reconnect_session_data\",store=\"legacy\"}",
        "sessiongate_farm_requests_total{farm=\"Down\",outcome=\"connect_failed\",request=\"reconnect_session_data\",store=\"legacy\"}",
    ] {
        assert_eq!(gw.metric(sample, 1.0), 1.0, "{sample}");
    }
}

#[test]
fn no_farm_answering_is_a_502() {
    let broken = Farm::empty("Broken", true, "10.0.1.5:1494");
    broken.sim.set_fault(Some(FarmFault::GarbageBody));
    let down = FarmEntry {
        name: "Down",
        brokers: vec![free_addr()],
        extra: "",
    };
    let gw = gateway(&[entry(&broken, ""), down], "");
    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-sessiongate-reason"), Some("farms_unavailable"));
}

#[test]
fn disconnect_and_logoff_reach_every_farm_and_change_their_state() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let xd = Farm::empty("XD7", false, "10.0.2.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "PC1", true);
    xd.sim.add_session(ALICE_SAM, "Excel", "PC1", true);
    xd.sim.add_session(ALICE_SAM, "Word", "PC2", true);
    let gw = gateway(
        &[entry(&xa, ""), entry(&xd, "        pre_xd7: false\n")],
        "",
    );

    let r = post(
        &gw,
        "disconnect",
        &token(ALICE_SAM),
        SESSION_RESULTS,
        &params("PC1", ""),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(SESSION_RESULTS));
    assert!(r.text().contains("status=\"success\""), "{}", r.text());
    assert!(!xa.session("Notepad").active);
    assert!(!xd.session("Excel").active);
    assert!(
        xd.session("Word").active,
        "another client's session is untouched"
    );

    let r = post(
        &gw,
        "logoff",
        &token(ALICE_SAM),
        SESSION_RESULTS,
        &params("PC1", ""),
    );
    assert!(r.text().contains("status=\"success\""), "{}", r.text());
    assert!(xa.sim.sessions().is_empty());
    let left: Vec<String> = xd.sim.sessions().into_iter().map(|s| s.app).collect();
    assert_eq!(left, vec!["Word".to_string()]);

    // A farm that fails makes the result a failure; the other farm still acted.
    xa.sim.set_fault(Some(FarmFault::Status(503)));
    let r = post(
        &gw,
        "logoff",
        &token(ALICE_SAM),
        SESSION_RESULTS,
        &params("PC2", ""),
    );
    assert_eq!(r.status, 200);
    assert!(r.text().contains("status=\"failure\""), "{}", r.text());
    assert!(xd.sim.sessions().is_empty());
}

#[test]
fn launch_reconnects_through_the_sessions_own_farm() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let xd = Farm::empty("XD7", false, "10.0.2.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    xd.sim.add_session(ALICE_SAM, "Excel", "old-pc", false);
    let gw = gateway(
        &[entry(&xa, ""), entry(&xd, "        pre_xd7: false\n")],
        "",
    );
    let xml = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).text();
    let (_, url) = listed(&xml)
        .into_iter()
        .find(|(p, _)| p == "XD7")
        .expect("an XD7 session");

    let r = launch(&gw, &url, &token(ALICE_SAM));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(LAUNCH_DATA));
    let body = r.text();
    assert!(body.contains("status=\"success\""), "{body}");
    assert!(body.contains("Address=10.0.2.5:1494"), "{body}");
    assert!(body.contains("InitialProgram=#Excel"), "{body}");
    let ticket = xd.sim.issued_tickets().pop().expect("XD7 issued a ticket");
    assert!(body.contains(&ticket[..14]), "{body}");
    assert!(xa.sim.issued_tickets().is_empty(), "XA65 is not involved");
    let address = xd.received("RequestAddress").remove(0);
    assert!(address.contains("<InName>Excel</InName>"), "{address}");
    assert!(
        address.contains("<ClientName>NEW-DEVICE</ClientName>"),
        "{address}"
    );
    assert!(xd.session("Excel").active, "reconnected");
}

#[test]
fn forged_foreign_and_unknown_session_ids_are_404() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    let gw = gateway(&[entry(&xa, "")], "");
    let xml = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).text();
    let (_, url) = listed(&xml).remove(0);
    let id = url
        .strip_prefix(&format!("{PUBLIC}/sessions/v1/"))
        .and_then(|u| u.strip_suffix("/launch/ica"))
        .unwrap()
        .to_string();
    let at = |id: &str| format!("{PUBLIC}/sessions/v1/{id}/launch/ica");

    // One character changed.
    let mut forged = id.clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let before = xa.sim.request_count();
    for (bad, who) in [
        (forged.as_str(), ALICE_SAM),
        ("bm90LWEtc2Vzc2lvbi1pZA", ALICE_SAM),
        (id.as_str(), "CORP\\bob"),
    ] {
        let r = launch(&gw, &at(bad), &token(who));
        assert_eq!(r.status, 404, "{bad} for {who}: {}", r.text());
        assert_eq!(r.header("x-sessiongate-reason"), Some("session_not_found"));
    }
    assert_eq!(
        xa.sim.request_count(),
        before,
        "no forged id reaches a farm"
    );
    assert_eq!(launch(&gw, &url, &token(ALICE_SAM)).status, 200);
}

#[test]
fn launch_maps_farm_errors() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    let gw = gateway(&[entry(&xa, "")], "");
    let xml = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).text();
    let (_, url) = listed(&xml).remove(0);

    xa.sim
        .set_fault(Some(FarmFault::ErrorId("not-licensed".into())));
    let r = launch(&gw, &url, &token(ALICE_SAM));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<id>NotLicensed</id>"), "{}", r.text());

    xa.sim
        .set_fault(Some(FarmFault::ErrorId("retry-required".into())));
    let r = launch(&gw, &url, &token(ALICE_SAM));
    assert!(r.text().contains("status=\"retry\""), "{}", r.text());

    // Trust XML requests is off: the operator must act, the user cannot.
    xa.sim.set_fault(None);
    xa.sim.set_trust(false);
    let r = launch(&gw, &url, &token(ALICE_SAM));
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-sessiongate-reason"), Some("farm_refused"));
}

#[test]
fn bad_tokens_get_the_challenge_and_reach_no_farm() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "")], "");
    let body = params("NEW-DEVICE", "");
    for (auth, reason) in [
        (token_with_claims(-120, AUDIENCE), "expired"),
        (token_with_claims(600, "someone-else"), "invalidtoken"),
        (token_signed_with(&[7u8; 32]), "invalidtoken"),
        ("CitrixAuth not.a.jwt".to_string(), "invalidtoken"),
    ] {
        let r = list(&gw, &auth, &body);
        assert_eq!(r.status, 401, "{reason}: {}", r.text());
        let challenge = r.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("CitrixAuth realm="), "{challenge}");
        assert!(
            challenge.contains(&format!("reason=\"{reason}\"")),
            "{challenge}"
        );
        assert!(r.keeps_alive(), "the body was read; the connection stays");
    }
    let r = send(
        gw.addr,
        &request(
            "POST",
            &format!("{STORE}/sessions/v1/available"),
            &[("Accept", SESSION_STATE), ("Content-Type", SESSION_PARAMS)],
            &body,
        ),
    );
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("reason=\"notoken\""));
    assert_eq!(xa.sim.request_count(), 0);
    assert_eq!(
        gw.metric(
            "sessiongate_token_verifications_total{outcome=\"expired\",store=\"legacy\"}",
            1.0
        ),
        1.0
    );
}

#[test]
fn an_unauthenticated_caller_never_reaches_the_xml_parser() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "")], "");
    let xxe = "<!DOCTYPE s [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><sessionparams \
        xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"><clientName>&x;</clientName></sessionparams>";
    // The token is checked first: a forged one gets the challenge, whatever the body holds.
    let r = list(&gw, &token_signed_with(&[7u8; 32]), xxe);
    assert_eq!((r.status, r.reason()), (401, "token_invalid"));
    // The same body from an authenticated caller is then refused by the parser.
    let r = list(&gw, &token(ALICE_SAM), xxe);
    assert_eq!((r.status, r.reason()), (400, "body_forbidden_markup"));
    assert_eq!(xa.sim.request_count(), 0);
}

#[test]
fn read_only_requests_fail_over_between_brokers_and_changes_never_repeat() {
    // Two brokers of one farm: the first answers garbage, the second is sound.
    let bad = Farm::empty("XA65", true, "10.0.1.5:1494");
    bad.sim.set_fault(Some(FarmFault::GarbageBody));
    let good = Farm::empty("XA65", true, "10.0.1.5:1494");
    good.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    let gw = gateway(
        &[FarmEntry {
            name: "XA65",
            brokers: vec![free_addr(), bad.addr, good.addr],
            extra: "",
        }],
        "",
    );
    // Round robin starts anywhere; a few listings must all succeed from the sound broker.
    for _ in 0..3 {
        let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
        assert_eq!(r.status, 200);
        assert!(r.text().contains("Notepad"), "{}", r.text());
    }
    // A disconnect that reached the bad broker is not sent again to the good one.
    let mut failures = 0;
    for _ in 0..3 {
        let r = post(
            &gw,
            "disconnect",
            &token(ALICE_SAM),
            SESSION_RESULTS,
            &params("PC", ""),
        );
        if r.text().contains("status=\"failure\"") {
            failures += 1;
        }
    }
    let sent_bad = bad.received("RequestDisconnectUserSessions").len();
    let sent_good = good.received("RequestDisconnectUserSessions").len();
    assert_eq!(
        failures, sent_bad,
        "each disconnect the bad broker took failed"
    );
    assert_eq!(
        sent_bad + sent_good,
        3,
        "every disconnect was sent exactly once"
    );
}

#[test]
fn brokers_are_health_checked_with_an_nfuse_request() {
    let sound = Farm::empty("XA65", true, "10.0.1.5:1494");
    // Accepts connections and answers HTTP, but its XML service is not working.
    let sick = Farm::empty("XA65", true, "10.0.1.5:1494");
    sick.sim
        .set_fault(Some(FarmFault::ErrorId("service-unavailable".into())));
    let gw = gateway(
        &[FarmEntry {
            name: "XA65",
            brokers: vec![sound.addr, sick.addr],
            extra: "        health_check_interval_ms: 100\n",
        }],
        "",
    );
    let up = |addr: SocketAddr, want: f64| {
        gw.metric(
            &format!(
                "sessiongate_backend_up{{backend=\"{addr}\",pool=\"stable\",store=\"legacy\"}}"
            ),
            want,
        )
    };
    assert_eq!(up(sound.addr, 1.0), 1.0);
    assert_eq!(up(sick.addr, 0.0), 0.0);
    // The sick broker's answer can be counted before the sound one's request is recorded.
    let checks = poll_until(
        Duration::from_secs(5),
        || sound.received("RequestServerFarmData").len(),
        |n| *n > 0,
    );
    assert!(checks > 0, "the sound broker was never checked");
    // Listings go to the sound broker only.
    let before = sick.received("RequestReconnectSessionData").len();
    for _ in 0..4 {
        assert_eq!(
            list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", "")).status,
            200
        );
    }
    assert_eq!(sick.received("RequestReconnectSessionData").len(), before);
}

#[test]
fn the_endpoints_document_names_the_gateways_session_urls() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "")], "");
    let path = format!("{STORE}/endpoints/v1");
    let r = send(
        gw.addr,
        &request(
            "GET",
            &path,
            &[("Accept", "application/vnd.citrix.endpoints+xml")],
            "",
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.citrix.endpoints+xml")
    );
    let doc = sessiongate::protocol::endpoints::parse(r.body.as_slice()).unwrap();
    let found: Vec<(String, String)> = doc.into_iter().map(|e| (e.id, e.url)).collect();
    assert_eq!(
        found,
        vec![
            (
                "ListSessions".to_string(),
                format!("{PUBLIC}/sessions/v1/available")
            ),
            (
                "DisconnectSessions".to_string(),
                format!("{PUBLIC}/sessions/v1/disconnect")
            ),
            (
                "LogOffSessions".to_string(),
                format!("{PUBLIC}/sessions/v1/logoff")
            ),
        ]
    );
    let head = send(gw.addr, &request("HEAD", &path, &[], ""));
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let r = send(
        gw.addr,
        &request("GET", &path, &[("Accept", "text/html")], ""),
    );
    assert_eq!(r.status, 406);
    assert_eq!(send(gw.addr, &request("POST", &path, &[], "")).status, 404);
    assert_eq!(xa.sim.request_count(), 0);
}

#[test]
fn only_the_sessions_service_is_served_by_a_farm_store() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let gw = gateway(&[entry(&xa, "")], "");
    for path in [
        "/Citrix/Legacy/resources/v2",
        "/Citrix/Legacy/auth/v1/token",
        "/Citrix/Legacy/",
    ] {
        let r = send(
            gw.addr,
            &request("GET", path, &[("Authorization", &token(ALICE_SAM))], ""),
        );
        assert_eq!(r.status, 404, "{path}");
    }
    // The header rules hold as for any store.
    let available = format!("{STORE}/sessions/v1/available");
    let alice = token(ALICE_SAM);
    for (case, req, status) in [
        ("GET", request("GET", &available, &[], ""), 405),
        (
            "Accept: text/html",
            sessions_post(&available, &alice, "text/html", &params("X", "")),
            406,
        ),
        (
            "not sessionparams",
            sessions_post(&available, &alice, SESSION_STATE, "<nope/>"),
            400,
        ),
    ] {
        assert_eq!(send(gw.addr, &req).status, status, "{case}");
    }
    assert_eq!(xa.sim.request_count(), 0);
}

#[test]
fn tokens_can_be_checked_by_introspection_instead() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim.add_session(ALICE_SAM, "Notepad", "old-pc", false);
    let idp = Introspection::start();
    let yaml = farm_store_with_identity(
        "introspected",
        &[entry(&xa, "")],
        "",
        &introspection_identity(&idp.url()),
    );
    let gw = Gateway::start_with_stores(&yaml);
    let r = list(&gw, "CitrixAuth good", &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Notepad"));
    // The answer is cached: a second request does not ask again.
    assert_eq!(
        list(&gw, "CitrixAuth good", &params("NEW-DEVICE", "")).status,
        200
    );
    assert_eq!(idp.count(), 1);
    let r = list(&gw, "CitrixAuth stolen", &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("reason=\"invalidtoken\""));
    assert_eq!(
        xa.sim.request_count(),
        2,
        "the refused token reached no farm"
    );
}

#[test]
fn an_unreachable_introspection_endpoint_is_a_503_not_a_401() {
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    let nobody = format!("http://{}/oauth2/introspect", free_addr());
    let yaml = farm_store_with_identity(
        "noidp",
        &[entry(&xa, "")],
        "",
        &introspection_identity(&nobody),
    );
    let gw = Gateway::start_with_stores(&yaml);
    let r = list(&gw, "CitrixAuth good", &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(
        r.header("x-sessiongate-reason"),
        Some("token_service_unavailable")
    );
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(xa.sim.request_count(), 0);
}

#[test]
fn latin1_answers_of_old_farms_come_out_as_utf8_and_launch() {
    // A pre-XD7 farm answers in ISO-8859-1 (declared), with the DOCTYPE and CRLF.
    let xa = Farm::empty("XA65", true, "10.0.1.5:1494");
    xa.sim
        .add_session(ALICE_SAM, "Société Rapports", "old-pc", false);
    let gw = gateway(&[entry(&xa, "")], "");
    let r = list(&gw, &token(ALICE_SAM), &params("NEW-DEVICE", ""));
    assert_eq!(r.status, 200);
    let xml = String::from_utf8(r.body.clone()).expect("the answer is UTF-8");
    assert!(
        xml.contains("<initialapp>Société Rapports</initialapp>"),
        "{xml}"
    );
    let (_, url) = listed(&xml).remove(0);
    let r = launch(&gw, &url, &token(ALICE_SAM));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("InitialProgram=#Société Rapports"),
        "{}",
        r.text()
    );
}
