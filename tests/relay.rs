//! The XML relay through real sockets, in front of the simulated farm: each rule of the
//! allow-list, the active-session safeguard, the brute-force throttle, failover of read-only
//! requests only, the size cap, DOCTYPE variants and XXE, framing and keep-alive, `/readyz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::time::Duration;

use common::farm::Farm;
use common::relay::*;
use common::tls::{server_settings, Pki, TlsConn};
use common::{poll_until, send, serve, Conn};
use sessiongate::sim::farm::{FarmFault, FarmSim};

/// Every reconnaissance request of a scanner, with the element that answers it.
fn reconnaissance() -> [(String, &'static str); 4] {
    [
        (app_data_acl(), "ResponseAppData"),
        (server_data(), "ResponseServerData"),
        (farm_data(), "ResponseServerFarmData"),
        (capabilities(), "ResponseCapabilities"),
    ]
}

#[test]
fn untrusted_reconnaissance_learns_nothing_and_reaches_no_broker() {
    let farm = Farm::demo(true);
    let relay = Relay::to("RECON", farm.addr);
    for (body, element) in reconnaissance() {
        let r = relay.untrusted(&body);
        assert_eq!(r.status, 200, "{element}: {}", r.text());
        assert_eq!(
            error_id(&r, element).as_deref(),
            Some("not-trusted"),
            "{}",
            r.text()
        );
        assert!(!r.text().contains("Notepad") && !r.text().contains("RECON-01"));
    }
    // Without credentials and without asking for ACLs, the application list is still refused.
    let plain = nfuse(
        "5.0",
        "<RequestAppData><DesiredDetails>all</DesiredDetails></RequestAppData>",
    );
    assert_eq!(
        error_id(&relay.untrusted(&plain), "ResponseAppData").as_deref(),
        Some("not-trusted")
    );
    assert_eq!(farm.sim.request_count(), 0);
    let sample = "sessiongate_relay_requests_total{farm=\"RECON\",outcome=\"not_trusted\",request=\"server_data\",source=\"untrusted\"}";
    assert_eq!(relay.metric(sample, 1.0), 1.0);
}

#[test]
fn trusted_reconnaissance_is_relayed_as_the_broker_answered() {
    let farm = Farm::demo(true);
    let relay = Relay::to("TRUSTED", farm.addr);
    let r = relay.trusted(&app_data_acl());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/xml"));
    let direct = farm.post(&app_data_acl());
    assert_eq!(r.body, direct.body, "the answer is relayed byte for byte");
    assert!(r.text().contains("<FName>Notepad</FName>") && r.text().contains("<AccessList>"));
    let r = relay.trusted(&server_data());
    assert!(
        r.text().contains("<ServerName>DemoFarm-01</ServerName>"),
        "{}",
        r.text()
    );
    let r = relay.trusted(&capabilities());
    assert!(r.text().contains("<CapabilityId>"), "{}", r.text());
    let r = relay.trusted(&farm_data());
    assert!(
        r.text()
            .contains("<ServerFarmName>DemoFarm</ServerFarmName>"),
        "{r:?}"
    );
}

#[test]
fn identity_credentials_pass_from_trusted_networks_only() {
    let farm = Farm::demo(false);
    let relay = Relay::to("IDENTITY", farm.addr);
    let bob = disconnect("CORP\\bob", "bob-pc");
    let r = relay.untrusted(&bob);
    assert_eq!(
        error_id(&r, "ResponseDisconnectUserSessions").as_deref(),
        Some("not-trusted")
    );
    let app_data = nfuse("5.0", "<RequestAppData><Credentials><ID type=\"SAM\">CORP\\alice</ID></Credentials></RequestAppData>");
    assert_eq!(
        error_id(&relay.untrusted(&app_data), "ResponseAppData").as_deref(),
        Some("not-trusted")
    );
    // An ID beside a password is identity-only all the same.
    let sneaky = nfuse("5.0", "<RequestAddress><Credentials><UserName>x</UserName><Password>y</Password><ID type=\"SAM\">CORP\\alice</ID></Credentials></RequestAddress>");
    assert_eq!(
        error_id(&relay.untrusted(&sneaky), "ResponseAddress").as_deref(),
        Some("not-trusted")
    );
    assert_eq!(farm.sim.request_count(), 0);
    let r = relay.trusted(&reconnect_data("CORP\\alice", "kiosk"));
    assert_eq!(
        error_id(&r, "ResponseReconnectSessionData"),
        None,
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("<InName>Notepad</InName>"),
        "{}",
        r.text()
    );
}

#[test]
fn the_safeguard_keeps_active_sessions_through_the_relay_and_not_without_it() {
    let farm = Farm::demo(true);
    let relay = Relay::to("SAFEGUARD", farm.addr);
    assert!(farm.active("Excel"));
    let r = relay.trusted(&reconnect_data("CORP\\alice", "kiosk"));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<InName>Notepad</InName>"));
    assert!(!r.text().contains("<InName>Excel</InName>"), "{}", r.text());
    assert!(
        farm.active("Excel"),
        "the relay let an active-session listing through"
    );
    let sent = farm.received("RequestReconnectSessionData");
    assert_eq!(sent.len(), 1);
    assert!(
        !sent[0].contains(">active<")
            && sent[0].contains("<SessionType>disconnected</SessionType>"),
        "{}",
        sent[0]
    );
    let sample =
        "sessiongate_relay_active_session_queries_total{action=\"stripped\",farm=\"SAFEGUARD\"}";
    assert_eq!(relay.metric(sample, 1.0), 1.0);
    // The same request straight to the farm disconnects the session: the hazard is real.
    let direct = farm.post(&reconnect_data("CORP\\alice", "kiosk"));
    assert!(direct.text().contains("<InName>Excel</InName>"));
    assert!(!farm.active("Excel"));
}

#[test]
fn the_safeguard_can_refuse_instead() {
    let farm = Farm::demo(true);
    let farm_yaml = format!("{NO_CHECKS}      active_sessions: reject\n");
    let relay = Relay::start("REFUSE", &[farm.addr], &farm_yaml, "");
    let r = relay.trusted(&reconnect_data("CORP\\alice", "kiosk"));
    assert_eq!(
        error_id(&r, "ResponseReconnectSessionData").as_deref(),
        Some("not-trusted")
    );
    assert_eq!(farm.sim.request_count(), 0);
    assert!(farm.active("Excel"));
    let sample = "sessiongate_relay_requests_total{farm=\"REFUSE\",outcome=\"safeguard_refused\",request=\"reconnect_session_data\",source=\"trusted\"}";
    assert_eq!(relay.metric(sample, 1.0), 1.0);
}

#[test]
fn failed_logons_are_throttled_per_user_and_per_source() {
    let farm = Farm::demo(true);
    let throttle =
        "    throttle: {failures_per_user: 3, failures_per_source: 5, window_ms: 60000}\n";
    let relay = Relay::start("THROTTLE", &[farm.addr], NO_CHECKS, throttle);
    for i in 0..3 {
        let r = relay.untrusted(&validate("alice", &format!("guess{i}")));
        assert_eq!(
            error_id(&r, "ResponseValidateCredentials").as_deref(),
            Some("failed-credentials")
        );
    }
    assert_eq!(
        farm.sim.request_count(),
        3,
        "the farm saw every attempt under the limit"
    );
    // Over the user's limit: refused by the relay, the farm's lockout counter is spared.
    let r = relay.untrusted(&validate("alice", "guess3"));
    assert_eq!(
        error_id(&r, "ResponseValidateCredentials").as_deref(),
        Some("failed-credentials")
    );
    assert_eq!(farm.sim.request_count(), 3);
    // Other users from the same source, up to the source's limit of 5 failures in all.
    for user in ["bob", "carol"] {
        relay.untrusted(&validate(user, "x"));
    }
    assert_eq!(farm.sim.request_count(), 5);
    relay.untrusted(&validate("dave", "x"));
    assert_eq!(farm.sim.request_count(), 5, "the source is over its limit");
    // A trusted source (StoreFront) still gets dave's logon through; alice stays throttled.
    relay.trusted(&validate("dave", "x"));
    assert_eq!(farm.sim.request_count(), 6);
    relay.trusted(&validate("alice", "x"));
    assert_eq!(farm.sim.request_count(), 6);
    let sample = "sessiongate_relay_requests_total{farm=\"THROTTLE\",outcome=\"throttled\",request=\"validate_credentials\",source=\"untrusted\"}";
    assert_eq!(relay.metric(sample, 2.0), 2.0);
}

#[test]
fn only_read_only_requests_fail_over_to_the_next_broker() {
    let (bad, good) = (Farm::demo(false), Farm::demo(false));
    bad.sim.set_fault(Some(FarmFault::Close));
    let relay = Relay::start("FAILOVER", &[bad.addr, good.addr], NO_CHECKS, "");
    for _ in 0..4 {
        let r = relay.trusted(&app_data_acl());
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("<FName>Notepad</FName>"));
    }
    let (mut answered, mut failed) = (0, 0);
    for _ in 0..4 {
        match relay.trusted(&disconnect("CORP\\bob", "bob-pc")).status {
            200 => answered += 1,
            502 => failed += 1,
            other => panic!("status {other}"),
        }
    }
    let sent = bad.received("RequestDisconnectUserSessions").len()
        + good.received("RequestDisconnectUserSessions").len();
    assert_eq!(sent, 4, "a request that changes state is never sent twice");
    assert!(
        answered > 0 && failed > 0,
        "answered {answered}, failed {failed}"
    );
}

#[test]
fn the_size_cap_and_the_framing_are_enforced() {
    let farm = Farm::demo(false);
    let relay = Relay::to("SIZE", farm.addr);
    let padding = "x".repeat(4096);
    let big = nfuse(
        "5.0",
        &format!("<RequestCapabilities><Pad>{padding}</Pad></RequestCapabilities>"),
    );
    let r = relay.trusted(&big);
    assert_eq!(r.status, 413, "{}", r.text());
    let chunked = b"POST /scripts/wpnbr.dll HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    assert_eq!(send(relay.addr, chunked).status, 411);
    let get = b"GET /scripts/wpnbr.dll HTTP/1.1\r\nHost: r\r\n\r\n";
    let r = send(relay.addr, get);
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(
        send(relay.addr, &post("/other", capabilities().as_bytes())).status,
        404
    );
    assert_eq!(farm.sim.request_count(), 0);
    // The path is matched without case, and the connection carries several requests.
    let mut conn = Conn::open(relay.addr);
    for path in ["/scripts/wpnbr.dll", "/SCRIPTS/WPNBR.DLL"] {
        let r = conn.roundtrip(&post(path, farm_data().as_bytes()));
        assert_eq!(r.status, 200, "{path}");
        assert!(r.keeps_alive());
    }
}

#[test]
fn literal_doctypes_pass_and_anything_resolvable_is_refused() {
    let farm = Farm::demo(false);
    let relay = Relay::to("DOCTYPE", farm.addr);
    let body = "<NFuseProtocol version=\"1.1\"><RequestServerFarmData><Nil/></RequestServerFarmData></NFuseProtocol>";
    for prolog in [
        "",
        "<!DOCTYPE NFuseProtocol>",
        "<!DOCTYPE NFuseProtocol SYSTEM 'NFuse.dtd'>",
        "<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">",
    ] {
        let r = relay.trusted(&format!("<?xml version=\"1.0\"?>{prolog}{body}"));
        assert!(
            r.text()
                .contains("<ServerFarmName>DemoFarm</ServerFarmName>"),
            "{prolog}: {}",
            r.text()
        );
    }
    let relayed = farm.sim.request_count();
    for hostile in [
        format!("<!DOCTYPE NFuseProtocol [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{body}"),
        format!("<!DOCTYPE NFuseProtocol SYSTEM \"http://127.0.0.1:9/evil.dtd\">{body}"),
        "<NFuseProtocol><RequestAppData><ClientName>&xxe;</ClientName></RequestAppData></NFuseProtocol>".to_string(),
        "<?xml-stylesheet href=\"x\"?><NFuseProtocol><RequestAppData/></NFuseProtocol>".to_string(),
    ] {
        let r = relay.trusted(&hostile);
        assert_eq!(r.status, 400, "{hostile}: {}", r.text());
    }
    for broken in [
        "<NFuseProtocol/>",
        "<NFuseProtocol><RequestAppData/><RequestServerData/></NFuseProtocol>",
        "not xml",
    ] {
        assert_eq!(relay.trusted(broken).status, 400, "{broken}");
    }
    assert_eq!(
        farm.sim.request_count(),
        relayed,
        "nothing refused reached the farm"
    );
    let sample = "sessiongate_relay_requests_total{farm=\"DOCTYPE\",outcome=\"forbidden_markup\",request=\"unknown\",source=\"trusted\"}";
    assert_eq!(relay.metric(sample, 4.0), 4.0);
}

#[test]
fn readyz_follows_the_relays_brokers() {
    let farm = Farm::demo(false);
    let checks = "      health_check_interval_ms: 100\n";
    let down = common::free_addr();
    let relay = Relay::start("READY", &[down], checks, "");
    let ready = || send(relay.admin, &common::get("/readyz"));
    let r = poll_until(Duration::from_secs(5), ready, |r| r.status == 503);
    assert_eq!(r.status, 503);
    assert!(
        r.text().contains("no broker up for relay(s) to READY"),
        "{}",
        r.text()
    );
    let up = Relay::start("READY2", &[farm.addr], checks, "");
    let r = poll_until(
        Duration::from_secs(5),
        || send(up.admin, &common::get("/readyz")),
        |r| r.status == 200,
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn tls_on_both_sides_with_a_private_ca() {
    let pki = Pki::new("Relay CA");
    let (broker_cert, broker_key) = pki.issue("broker", &["broker.test"]);
    let sim = FarmSim::demo("TlsRelayFarm", true);
    let (broker, _running) =
        serve(|a| sim.tls_service(a, server_settings(&broker_cert, &broker_key)));
    let (cert, key) = pki.issue("relay", &["relay.test"]);
    let farm = format!(
        "{NO_CHECKS}      tls: true\n      host: broker.test\n      ca_file: {}\n",
        pki.ca_file.display()
    );
    let relay = Relay::start_with("TLS", &[broker], &farm, "", Some((&cert, &key)));
    let mut conn = TlsConn::open(relay.addr, "relay.test", pki.client(&[b"http/1.1"]));
    let r = conn.roundtrip(&post(NMAP_PATH, validate("alice", "x").as_bytes()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        error_id(&r, "ResponseValidateCredentials").as_deref(),
        Some("failed-credentials")
    );
    assert_eq!(sim.requests().len(), 1, "the farm answered over HTTPS");
}

#[test]
fn a_slow_or_oversized_answer_is_not_relayed() {
    let farm = Farm::demo(false);
    let bounded = format!("{NO_CHECKS}      max_response_bytes: 1024\n      timeout_ms: 500\n");
    let relay = Relay::start("BOUNDS", &[farm.addr], &bounded, "");
    // The whole application list with its ACLs is over 1 KiB.
    let r = relay.trusted(&app_data_acl());
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(!r.text().contains("Notepad"));
    assert_eq!(relay.trusted(&farm_data()).status, 200);
    farm.sim.set_delay(Duration::from_secs(2));
    let r = relay.trusted(&farm_data());
    assert_eq!(r.status, 504, "{}", r.text());
    let sample = "sessiongate_relay_requests_total{farm=\"BOUNDS\",outcome=\"upstream_failed\",request=\"server_farm_data\",source=\"trusted\"}";
    assert_eq!(relay.metric(sample, 1.0), 1.0);
}

/// StoreFront (.NET) sends `Expect: 100-continue` and waits for the interim answer before the
/// body, as the XML service sends it.
#[test]
fn expect_continue_is_answered_before_the_body() {
    let farm = Farm::demo(false);
    let relay = Relay::to("CONTINUE", farm.addr);
    let body = validate("alice", "x");
    let head = format!(
        "POST /scripts/wpnbr.dll HTTP/1.1\r\nHost: r\r\nContent-Type: text/xml\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut conn = Conn::open(relay.addr);
    conn.write(head.as_bytes());
    assert!(conn.read_line().starts_with("HTTP/1.1 100"));
    assert_eq!(conn.read_line(), "\r\n");
    conn.write(body.as_bytes());
    let r = conn.read_response(false);
    assert_eq!(r.status, 200);
    assert_eq!(
        error_id(&r, "ResponseValidateCredentials").as_deref(),
        Some("failed-credentials"),
        "{}",
        r.text()
    );
    assert_eq!(farm.sim.request_count(), 1);
    assert!(r.keeps_alive(), "{r:?}");
}
