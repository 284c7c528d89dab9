//! No secret reaches a log line, at the most verbose level: the gateway binary runs with
//! `RUST_LOG=trace` in front of a simulated StoreFront store and a simulated farm, valid and
//! invalid traffic of both store kinds goes through it, and its whole log is searched for every
//! token, password, ticket, cookie, query secret and ICA text that passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
use common::farm::{entry, farm_store, token, Farm, ALICE_SAM, STORE};
use common::process::GatewayProcess;
use common::*;

use std::net::SocketAddr;
use std::time::Duration;

const SF_AVAILABLE: &str = "/Citrix/Store/sessions/v1/available";

/// POST a launch URL (public form) with `auth`; the answer.
fn launch(addr: SocketAddr, url: &str, auth: &str) -> Response {
    let path = url
        .split_once("/Citrix/")
        .map(|(_, p)| format!("/Citrix/{p}"))
        .unwrap();
    let headers = [
        ("Authorization", auth),
        ("Accept", LAUNCH_DATA),
        ("Content-Type", LAUNCH_PARAMS),
    ];
    send(
        addr,
        &request("POST", &path, &headers, &launch_params("NEW-DEVICE")),
    )
}

/// The values of `name=` lines of the ICA file inside a launch answer.
fn ica_values(launch_data: &str, name: &str) -> Vec<String> {
    launch_data
        .split(['\n', '\r', '&'])
        .filter_map(|l| l.trim().strip_prefix(&format!("{name}=")))
        .map(str::to_string)
        .filter(|v| v.len() >= 8)
        .collect()
}

/// StoreFront-backed store traffic; the secrets it carried.
fn storefront_traffic(addr: SocketAddr) -> Vec<String> {
    let listed = send(
        addr,
        &sessions_post(SF_AVAILABLE, ALICE, SESSION_STATE, &params("C", "")),
    );
    assert_eq!(listed.status, 200, "{}", listed.text());
    let url = urls(&listed.text()).into_iter().next().expect("a session");
    let launched = launch(addr, &url, ALICE);
    assert_eq!(launched.status, 200, "{}", launched.text());
    let mut secrets = ica_values(&launched.text(), "LogonTicket");
    assert!(!secrets.is_empty(), "{}", launched.text());
    let tickets = "<tickets><ticket>TICKET-SECRET-0001</ticket></tickets>";
    let path = "/Citrix/Store/sessions/v1/disconnect";
    let r = send(
        addr,
        &sessions_post(path, ALICE, SESSION_RESULTS, &params("C", tickets)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let bad = send(
        addr,
        &sessions_post(
            SF_AVAILABLE,
            "CitrixAuth TOKEN-SECRET-BAD",
            SESSION_STATE,
            &params("C", ""),
        ),
    );
    assert_eq!(bad.status, 401);
    let passthrough = request(
        "GET",
        "/Citrix/Store/resources/v2?token=QUERY-SECRET-0001",
        &[
            ("Authorization", ALICE),
            ("Cookie", "CtxsAuthId=COOKIE-SECRET-0001"),
        ],
        "",
    );
    assert_eq!(send(addr, &passthrough).status, 200);
    let malformed = b"GET /Citrix/Store/resources/v2 HTTP/1.1\r\nHost: gw\r\nAuthorization: CitrixAuth MALFORMED-SECRET-0001\r\nBad Header\r\n\r\n";
    let mut conn = Conn::open(addr);
    conn.write(malformed);
    assert!(
        conn.read_line().starts_with("HTTP/1.1 400"),
        "Pingora refuses it"
    );
    secrets.extend(
        [
            "demo-token-alice",
            "TOKEN-SECRET-BAD",
            "TICKET-SECRET-0001",
            "QUERY-SECRET-0001",
            "COOKIE-SECRET-0001",
            "MALFORMED-SECRET-0001",
        ]
        .map(str::to_string),
    );
    secrets
}

/// Farm-backed store traffic; the secrets it carried.
fn farm_traffic(addr: SocketAddr) -> Vec<String> {
    let jwt = token(ALICE_SAM);
    let path = format!("{STORE}/sessions/v1/available");
    let listed = send(
        addr,
        &sessions_post(&path, &jwt, SESSION_STATE, &params("NEW-DEVICE", "")),
    );
    assert_eq!(listed.status, 200, "{}", listed.text());
    let url = urls(&listed.text())
        .into_iter()
        .next()
        .expect("a farm session");
    let launched = launch(addr, &url, &jwt);
    assert_eq!(launched.status, 200, "{}", launched.text());
    let mut secrets = ica_values(&launched.text(), "LogonTicket");
    secrets.extend(ica_values(&launched.text(), "ClearPassword"));
    assert!(!secrets.is_empty(), "{}", launched.text());
    let forged = format!("{}x", &jwt[..jwt.len() - 4]);
    let r = send(
        addr,
        &sessions_post(&path, &forged, SESSION_STATE, &params("NEW-DEVICE", "")),
    );
    assert_eq!(r.status, 401);
    let raw_jwt = jwt.trim_start_matches("CitrixAuth ");
    let signature = raw_jwt.rsplit('.').next().unwrap().to_string();
    secrets.extend([
        raw_jwt.to_string(),
        signature,
        forged.trim_start_matches("CitrixAuth ").to_string(),
    ]);
    secrets
}

#[test]
fn no_secret_reaches_the_log_at_trace_level() {
    let sim = Sim::demo();
    let farm = Farm::demo(true);
    let stores = format!(
        "{}{}",
        store_yaml(
            "/Citrix/Store",
            "https://ws.example.com/Citrix/Store",
            sim.addr,
            ""
        ),
        farm_store("legacy", &[entry(&farm, "")], "")
    );
    let gw = GatewayProcess::start(&stores, "", &[("RUST_LOG", "trace")]);
    let mut secrets = storefront_traffic(gw.addr);
    secrets.extend(farm_traffic(gw.addr));
    // The access log line of the last request is written once its answer is out: wait for it.
    let logged = poll_until(
        Duration::from_secs(10),
        || gw.log_text(),
        |log| log.matches("access").count() >= 9,
    );
    let levels: Vec<&str> = logged
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    // Every TRACE line of Pingora's prints headers or bodies, so only DEBUG ones remain.
    assert!(
        levels.contains(&"DEBUG"),
        "not at the most verbose level: {}",
        &logged[..logged.len().min(3000)]
    );
    for secret in &secrets {
        assert!(!logged.contains(secret.as_str()), "{secret} is in the log");
    }
    assert!(
        !logged.contains("[ApplicationServers]") && !logged.contains("LogonTicket"),
        "ICA text in the log"
    );
}

/// XML relay traffic: passwords in clear and as ctx1, a logon ticket, accepted, refused,
/// throttled and unreadable; none of them may reach the log.
#[test]
fn no_secret_of_relayed_traffic_reaches_the_log_at_trace_level() {
    use common::relay::{nfuse, post, validate};
    let sim = Sim::demo();
    let farm = Farm::demo(true);
    let relay = free_addr();
    let top = format!(
        "xml_relays:\n  - listen: \"{relay}\"\n    trusted_networks: [\"127.0.0.1/32\"]\n    throttle: {{failures_per_user: 1}}\n    farm:\n      name: XA65\n      brokers: [\"{}\"]\n      health_check_interval_ms: 0\n",
        farm.addr
    );
    let store = store_yaml(
        "/Citrix/Store",
        "https://ws.example.com/Citrix/Store",
        sim.addr,
        "",
    );
    let gw = GatewayProcess::start(&store, &top, &[("RUST_LOG", "trace")]);
    assert!(sessiongate::server::wait_for_listener(
        relay,
        Duration::from_secs(10)
    ));
    let ctx1 = "MNGIKIANMEGBKIANMHGCOHECJADFPPFKINCIOBEEIFCA";
    let bodies = [
        validate("alice", "PASSWORD-SECRET-0001"),
        validate("alice", "PASSWORD-SECRET-0002"),
        nfuse("5.0", &format!("<RequestValidateCredentials><Credentials><UserName>bob</UserName><Password encoding=\"ctx1\">{ctx1}</Password><Domain>CORP</Domain></Credentials></RequestValidateCredentials>")),
        nfuse("5.0", "<RequestTicket><Credentials><ID type=\"SAM\">CORP\\alice</ID></Credentials><TicketType>CtxLogon</TicketType><TicketTag>TAG-SECRET-0001</TicketTag></RequestTicket>"),
        "<NFuseProtocol><RequestAppData><Credentials><Password>PASSWORD-SECRET-0003</Password></Credentials>".to_string(),
    ];
    for body in &bodies {
        let r = send(relay, &post("/scripts/wpnbr.dll", body.as_bytes()));
        assert!(matches!(r.status, 200 | 400), "{}", r.text());
    }
    let ticket = farm
        .sim
        .issued_tickets()
        .pop()
        .expect("a ticket was issued");
    let logged = poll_until(
        Duration::from_secs(10),
        || gw.log_text(),
        |log| log.contains("relay throttled a password logon"),
    );
    assert!(
        logged.contains("relay throttled a password logon"),
        "{logged}"
    );
    let logged = gw.log_text();
    for secret in [
        "PASSWORD-SECRET-0001",
        "PASSWORD-SECRET-0002",
        "PASSWORD-SECRET-0003",
        ctx1,
        "TAG-SECRET-0001",
        ticket.as_str(),
    ] {
        assert!(!logged.contains(secret), "{secret} is in the log");
    }
}
