//! The simulated XenApp/XenDesktop farm (NFuse XML broker) on its own, over raw HTTP on
//! loopback: it is test infrastructure, so these tests pin down the behaviour the gateway tests
//! rely on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::Read;
use std::time::Duration;

use common::farm::Farm;
use common::{send, Conn, Response};
use sessiongate::sim::farm::{FarmFault, FarmSim, FarmSimConfig};

/// An NFuse request body around `inner` (the Request* element).
fn nfuse(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"5.0\">{inner}</NFuseProtocol>\r\n"
    )
}

/// Identity-only credentials, as pass-through logons send them.
fn identity(user: &str) -> String {
    format!(
        "<Credentials><ID type=\"SAM\">{user}</ID><ID type=\"SID\">S-1-5-21-1-2-3-1001</ID></Credentials>"
    )
}

fn reconnect_data(user: &str, client: &str, types: &[&str]) -> String {
    let types: String = types
        .iter()
        .map(|t| format!("<SessionType>{t}</SessionType>"))
        .collect();
    nfuse(&format!(
        "<RequestReconnectSessionData>{}{client}<ServerType>all</ServerType><ClientType>ica30</ClientType>{types}</RequestReconnectSessionData>",
        identity(user)
    ))
}

fn client_name(name: &str) -> String {
    format!("<ClientName>{name}</ClientName>")
}

/// Every text of `<tag>` in `xml` (the tests check values, the simulator's own parser is not
/// used to read its answers).
fn values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split_once('>'))
        .filter_map(|(_, rest)| rest.split(&format!("</{tag}>")).next())
        .map(str::to_string)
        .collect()
}

fn error_id(resp: &Response) -> Option<String> {
    values(&resp.text(), "ErrorId").into_iter().next()
}

fn assert_nfuse_200(resp: &Response, version: &str) {
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("server"), Some("Citrix Web PN Server"));
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    assert_eq!(
        resp.header("content-length"),
        Some(resp.body.len().to_string().as_str())
    );
    let text = resp.text();
    let encoding = if version == "4.7" {
        "ISO-8859-1"
    } else {
        "UTF-8"
    };
    let prolog = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"{version}\">"
    );
    assert!(text.starts_with(&prolog), "{text}");
}

#[test]
fn farm_data_needs_no_credentials() {
    let farm = Farm::demo(false);
    let resp = farm.post(&nfuse(
        "<RequestServerFarmData><Nil/></RequestServerFarmData>",
    ));
    assert_nfuse_200(&resp, "5.2");
    assert!(resp
        .text()
        .contains("<ResponseServerFarmData><ServerFarmData><ServerFarmName>DemoFarm</ServerFarmName></ServerFarmData></ResponseServerFarmData></NFuseProtocol>"));
    let recorded = farm.sim.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].kind, "RequestServerFarmData");
    assert_eq!(recorded[0].content_length, Some(recorded[0].body.len()));
    assert!(!recorded[0].chunked);
    assert_eq!(farm.sim.request_count(), 1);
}

#[test]
fn lists_disconnected_sessions_only_by_default() {
    let farm = Farm::demo(true);
    let before = farm.sim.sessions();
    let resp = farm.post(&reconnect_data("CORP\\alice", &client_name("new-pc"), &[]));
    assert_nfuse_200(&resp, "4.7");
    let text = resp.text();
    let notepad = &before[0];
    for (tag, want) in [
        ("InName", "Notepad"),
        ("HostId", notepad.host_id.as_str()),
        ("SessionId", notepad.session_id.as_str()),
    ] {
        assert_eq!(values(&text, tag), [want], "{tag}");
    }
    assert!(text.contains("<AppData type=\"session\"><InName>Notepad</InName><DataType value=\"session\"/><ServerType>win32</ServerType><ClientType>ica30</ClientType><HostId type=\"ima-host-id\">"));
    // Nothing asked for active sessions: the pre-XD7 hazard did not strike.
    assert_eq!(farm.sim.sessions(), before);
    // Bob's farm view is his own; an unknown user gets the empty element.
    let resp = farm.post(&reconnect_data("CORP\\nobody", &client_name("x"), &[]));
    assert!(resp
        .text()
        .contains("<ResponseReconnectSessionData></ResponseReconnectSessionData>"));
}

#[test]
fn listing_active_sessions_disconnects_them_on_a_pre_xd7_farm() {
    let farm = Farm::demo(true);
    assert!(farm.active("Excel"));
    let resp = farm.post(&reconnect_data(
        "CORP\\alice",
        &client_name("new-pc"),
        &["active", "disconnected"],
    ));
    assert_nfuse_200(&resp, "4.7");
    assert_eq!(values(&resp.text(), "InName"), ["Notepad", "Excel"]);
    assert!(!farm.active("Excel"), "the hazard should have struck");
}

#[test]
fn listing_active_sessions_leaves_them_alone_on_an_xd7_farm() {
    let farm = Farm::demo(false);
    let resp = farm.post(&reconnect_data(
        "CORP\\alice",
        &client_name("new-pc"),
        &["active", "disconnected"],
    ));
    assert_nfuse_200(&resp, "5.2");
    assert_eq!(values(&resp.text(), "InName"), ["Notepad", "Excel"]);
    assert!(farm.active("Excel"));
    // The asking client's own active session is not offered to it.
    let resp = farm.post(&reconnect_data(
        "CORP\\alice",
        &client_name("alice-desktop"),
        &["active"],
    ));
    assert!(resp
        .text()
        .contains("<ResponseReconnectSessionData></ResponseReconnectSessionData>"));
}

#[test]
fn device_id_identifies_the_client() {
    let farm = Farm::start(FarmSim::new(FarmSimConfig::new("F", true)));
    farm.sim
        .add_session_on_device("CORP\\carol", "Word", "carol-pc", "WR_dev1", true);
    farm.sim
        .add_session("CORP\\carol", "Paint", "carol-pc", true);
    // Same device id under another client name: Word is this client's own session, Paint is
    // elsewhere (and gets disconnected by the listing on this pre-XD7 farm).
    let device = "<ClientName>renamed</ClientName><DeviceId>WR_dev1</DeviceId>";
    let resp = farm.post(&reconnect_data("CORP\\carol", device, &["active"]));
    assert_eq!(values(&resp.text(), "InName"), ["Paint"]);
    assert!(farm.active("Word"));
    assert!(!farm.active("Paint"));
    // Disconnect by device id acts on Word only.
    let resp = farm.post(&nfuse(&format!(
        "<RequestDisconnectUserSessions><DeviceId>WR_dev1</DeviceId>{}</RequestDisconnectUserSessions>",
        identity("CORP\\carol")
    )));
    assert!(resp
        .text()
        .contains("<ResponseDisconnectUserSessions></ResponseDisconnectUserSessions>"));
    assert!(!farm.active("Word"));
    let s = farm.sim.sessions();
    assert_eq!(s[0].device_id.as_deref(), Some("WR_dev1"));
}

#[test]
fn disconnect_and_logoff_change_state() {
    let farm = Farm::demo(false);
    // Extentrix's order: client first, credentials after; version 4.1.
    let disconnect = nfuse(&format!(
        "<RequestDisconnectUserSessions>{}{}<ClientType>ica30</ClientType><ServerType>all</ServerType></RequestDisconnectUserSessions>",
        client_name("alice-desktop"),
        identity("CORP\\alice")
    ))
    .replace("version=\"5.0\"", "version='4.1'");
    let resp = farm.post(&disconnect);
    assert_nfuse_200(&resp, "5.2");
    assert!(resp
        .text()
        .contains("<ResponseDisconnectUserSessions></ResponseDisconnectUserSessions>"));
    assert!(!farm.active("Excel"));
    assert_eq!(farm.sim.sessions().len(), 3);

    let logoff = |client: &str| {
        nfuse(&format!(
            "<RequestLogoffUserSessions>{}{}</RequestLogoffUserSessions>",
            identity("CORP\\alice"),
            client_name(client)
        ))
    };
    // Bob's session on another client is untouched, nothing matches: still an empty success.
    let resp = farm.post(&logoff("bob-pc"));
    assert!(resp
        .text()
        .contains("<ResponseLogoffUserSessions></ResponseLogoffUserSessions>"));
    assert_eq!(farm.sim.sessions().len(), 3);
    farm.post(&logoff("alice-laptop"));
    let apps: Vec<String> = farm.sim.sessions().into_iter().map(|s| s.app).collect();
    assert_eq!(apps, ["Excel", "Calculator"]);
}

#[test]
fn address_and_ticket_for_a_disconnected_session() {
    let farm = Farm::demo(true);
    let notepad = farm.sim.sessions()[0].clone();
    assert_eq!(notepad.host_id, "23363");
    let address = |app: &str, host: &str, id: &str| {
        nfuse(&format!(
            "<RequestAddress><Name><SessionName><InName>{app}</InName><HostId type=\"ima-host-id\">{host}</HostId><SessionId>{id}</SessionId></SessionName></Name>{}<ClientAddress addresstype=\"dot\">192.168.1.9</ClientAddress><ServerAddress addresstype=\"dns-port\"></ServerAddress>{}<ClientType>ica30</ClientType></RequestAddress>",
            client_name("new-pc"),
            identity("CORP\\alice")
        ))
    };
    let resp = farm.post(&address("Notepad", &notepad.host_id, &notepad.session_id));
    assert_nfuse_200(&resp, "4.7");
    let text = resp.text();
    assert!(text.contains("<ResponseAddress><ServerAddress addresstype=\"dot-port\">10.0.0.5:1494</ServerAddress><ServerType>win32</ServerType><ConnectionType>tcp</ConnectionType><ClientType>ica30</ClientType><TicketTag>IMAHostId:23363</TicketTag><CGPAddress addresstype=\"port\">2598</CGPAddress><DisconnectedSession/></ResponseAddress>"), "{text}");
    let now = farm.sim.sessions()[0].clone();
    assert!(now.active);
    assert_eq!(now.client_name, "new-pc");
    // Again: now it is active, so no DisconnectedSession.
    let text = farm
        .post(&address("Notepad", &notepad.host_id, &notepad.session_id))
        .text();
    assert!(!text.contains("DisconnectedSession"), "{text}");
    // Unknown session (wrong host for that id, or another user's) -> no-server.
    let resp = farm.post(&address("Notepad", "99999", &notepad.session_id));
    assert_eq!(error_id(&resp).as_deref(), Some("no-server"));
    assert!(resp.text().contains("<ResponseAddress><ErrorId>"));

    let ticket_req = nfuse(&format!(
        "<RequestTicket>{}<TicketType>CtxLogon</TicketType><TicketTag>IMAHostId:23363</TicketTag><TimetoLive>200</TimetoLive></RequestTicket>",
        identity("CORP\\alice")
    ));
    let t1 = values(&farm.post(&ticket_req).text(), "Ticket");
    let t2 = values(&farm.post(&ticket_req).text(), "Ticket");
    assert_eq!(t1.len(), 1);
    assert_ne!(t1, t2);
    let ticket = &t1[0];
    assert_eq!(ticket.len(), 30);
    assert!(ticket
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
    assert_eq!(farm.sim.issued_tickets(), [t1[0].clone(), t2[0].clone()]);
}

#[test]
fn identity_credentials_need_trust() {
    let farm = Farm::demo(false);
    farm.sim.set_trust(false);
    let resp = farm.post(&reconnect_data("CORP\\alice", &client_name("x"), &[]));
    assert_nfuse_200(&resp, "5.2");
    assert_eq!(error_id(&resp).as_deref(), Some("not-trusted"));
    assert!(resp
        .text()
        .contains("<ResponseReconnectSessionData><ErrorId>not-trusted</ErrorId></ResponseReconnectSessionData>"));
    // Passwords are never known; no credentials at all is no better; unreadable XML is
    // unspecified.
    farm.sim.set_trust(true);
    for (case, body, want) in [
        (
            "a password",
            nfuse("<RequestLogoffUserSessions><Credentials><UserName>alice</UserName><Password encoding=\"cleartext\">pw</Password><Domain type=\"NT\">CORP</Domain></Credentials><ClientName>alice-laptop</ClientName></RequestLogoffUserSessions>"),
            "failed-credentials",
        ),
        (
            "no credentials",
            nfuse("<RequestLogoffUserSessions><ClientName>alice-laptop</ClientName></RequestLogoffUserSessions>"),
            "failed-credentials",
        ),
        (
            "unreadable XML",
            "<NFuseProtocol><RequestAddress>".to_string(),
            "unspecified",
        ),
    ] {
        assert_eq!(error_id(&farm.post(&body)).as_deref(), Some(want), "{case}");
    }
    assert_eq!(farm.sim.sessions().len(), 3, "nobody was logged off");
    // Unknown requests: unspecified too, in a response element named after them.
    let resp = farm.post(&nfuse("<RequestSomethingNew/>"));
    assert!(resp
        .text()
        .contains("<ResponseSomethingNew><ErrorId>unspecified</ErrorId></ResponseSomethingNew>"));
    assert_eq!(
        farm.sim.requests().last().unwrap().kind,
        "RequestSomethingNew"
    );
}

#[test]
fn http_framing() {
    let farm = Farm::demo(false);
    let body = nfuse("<RequestServerFarmData><Nil/></RequestServerFarmData>");
    let resp = farm.post_to("/scripts/WPnBr.dll", body.as_bytes());
    assert_eq!(resp.status, 200);
    assert_eq!(values(&resp.text(), "ServerFarmName"), ["DemoFarm"]);
    let resp = farm.post_to("/scripts/other.dll", body.as_bytes());
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("server"), Some("Citrix Web PN Server"));
    let get = format!(
        "GET /scripts/wpnbr.dll HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        farm.addr
    );
    assert_eq!(send(farm.addr, get.as_bytes()).status, 405);

    // Chunked: refused, recorded as chunked.
    let chunked = format!(
        "POST /scripts/wpnbr.dll HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        farm.addr,
        body.len()
    );
    let resp = send(farm.addr, chunked.as_bytes());
    assert!(resp.status == 411 || resp.status == 400, "{}", resp.status);
    assert!(error_id(&resp).is_none());
    let last = farm.sim.requests().last().cloned().unwrap();
    assert!(last.chunked);
    assert_eq!(last.content_length, None);

    // Over 4 KB (a user in many groups): HTTP 400 without an NFuse body.
    let sids: String = (0..120)
        .map(|i| format!("<ID type=\"SID\">S-1-5-21-1-2-3-{i}</ID>"))
        .collect();
    let big = nfuse(&format!(
        "<RequestReconnectSessionData><Credentials><ID type=\"SAM\">CORP\\alice</ID>{sids}</Credentials><ClientName>x</ClientName></RequestReconnectSessionData>"
    ));
    assert!(big.len() > 4096);
    let resp = farm.post(&big);
    assert_eq!(resp.status, 400);
    assert!(!resp.text().contains("NFuseProtocol"));
    assert_eq!(farm.sim.requests().last().unwrap().body.len(), big.len());
    assert_eq!(farm.sim.request_count(), 5);
}

#[test]
fn keeps_the_connection_for_several_requests() {
    let farm = Farm::demo(false);
    let body = nfuse("<RequestServerFarmData><Nil/></RequestServerFarmData>");
    let req = format!(
        "POST /scripts/wpnbr.dll HTTP/1.1\r\nHost: f\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut conn = Conn::open(farm.addr);
    for _ in 0..3 {
        assert_eq!(conn.roundtrip(req.as_bytes()).status, 200);
    }
    assert_eq!(farm.sim.request_count(), 3);
}

#[test]
fn pre_xd7_answers_are_iso_8859_1() {
    let farm = Farm::start(FarmSim::new(FarmSimConfig::new("Soci\u{e9}t\u{e9}", true)));
    farm.sim
        .add_session("CORP\\d\u{e9}d\u{e9}", "Soci\u{e9}t\u{e9}", "pc", false);
    // The request is ISO-8859-1 too, as nmap and old clients send it.
    let mut body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<NFuseProtocol version=\"4.6\"><RequestReconnectSessionData><Credentials><ID type=\"SAM\">CORP\\d\xe9d\xe9</ID></Credentials><ClientName>new</ClientName></RequestReconnectSessionData></NFuseProtocol>".to_vec();
    let resp = farm.post_to("/scripts/wpnbr.dll", &body);
    assert_nfuse_200(&resp, "4.7");
    let needle = b"<InName>Soci\xe9t\xe9</InName>";
    assert!(
        resp.body.windows(needle.len()).any(|w| w == needle),
        "{:?}",
        resp.text()
    );
    assert!(std::str::from_utf8(&resp.body).is_err());
    // A later farm answers UTF-8.
    let farm = Farm::start(FarmSim::new(FarmSimConfig::new("F", false)));
    farm.sim
        .add_session("CORP\\d\u{e9}d\u{e9}", "Soci\u{e9}t\u{e9}", "pc", false);
    body = reconnect_data("CORP\\d\u{e9}d\u{e9}", "", &[]).into_bytes();
    let resp = farm.post_to("/scripts/wpnbr.dll", &body);
    assert_eq!(values(&resp.text(), "InName"), ["Soci\u{e9}t\u{e9}"]);
}

#[test]
fn faults_and_delay() {
    let farm = Farm::demo(true);
    let list = reconnect_data("CORP\\alice", &client_name("n"), &["active"]);
    farm.sim
        .set_fault(Some(FarmFault::ErrorId("service-unavailable".into())));
    let resp = farm.post(&list);
    assert_nfuse_200(&resp, "4.7");
    assert!(resp.text().contains(
        "<ResponseReconnectSessionData><ErrorId>service-unavailable</ErrorId></ResponseReconnectSessionData>"
    ));
    // A faulty answer changes nothing: the hazard did not strike.
    assert!(farm.active("Excel"));

    farm.sim.set_fault(Some(FarmFault::Status(503)));
    assert_eq!(farm.post(&list).status, 503);
    farm.sim.set_fault(Some(FarmFault::GarbageBody));
    let resp = farm.post(&list);
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("&bogus;"));

    farm.sim.set_fault(Some(FarmFault::Close));
    let body = list.as_bytes();
    let mut conn = Conn::open(farm.addr);
    conn.write(
        format!(
            "POST /scripts/wpnbr.dll HTTP/1.1\r\nHost: f\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    conn.write(body);
    let mut rest = Vec::new();
    let n = conn.reader_mut().read_to_end(&mut rest).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer");

    farm.sim.set_fault(None);
    farm.sim.set_delay(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(farm.post(&list).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(farm.sim.request_count(), 5);
}

#[test]
fn doctype_and_old_versions_are_accepted() {
    let farm = Farm::demo(true);
    // Extentrix's shape: single quotes, version 4.6, bare DOCTYPE, disconnected only.
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><!DOCTYPE NFuseProtocol><NFuseProtocol version='4.6'><RequestReconnectSessionData>{}<ClientName>WI_abc</ClientName><SessionType>disconnected</SessionType></RequestReconnectSessionData></NFuseProtocol>",
        identity("corp\\BOB")
    );
    let resp = farm.post(&body);
    assert_nfuse_200(&resp, "4.7");
    assert_eq!(values(&resp.text(), "InName"), ["Calculator"]);
    // A DOCTYPE with an internal subset is never read.
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE NFuseProtocol [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><NFuseProtocol version=\"5.0\"><RequestServerFarmData>&x;</RequestServerFarmData></NFuseProtocol>";
    let resp = farm.post(xxe);
    assert_eq!(error_id(&resp).as_deref(), Some("unspecified"));
    assert_eq!(farm.sim.requests().last().unwrap().kind, "");
}

/// What scanners and logon pages ask: the application list (with ACLs, without credentials),
/// the servers, the capabilities, and a password logon, which always fails (no password is
/// known); identity-only credentials are taken only when XML requests are trusted.
#[test]
fn enumeration_and_logon_requests_are_answered_as_clients_parse_them() {
    let farm = Farm::demo(true);
    let apps = nfuse("<RequestAppData><Scope traverse=\"onelevel\" /><DesiredDetails>all</DesiredDetails><DesiredDetails>access-list</DesiredDetails></RequestAppData>");
    let r = farm.post(&apps);
    assert_nfuse_200(&r, "4.7");
    assert_eq!(
        values(&r.text(), "FName"),
        ["Notepad", "Excel", "Calculator"]
    );
    assert_eq!(values(&r.text(), "GroupName"), ["Domain Users"; 3]);
    assert!(
        r.text().contains("<AppData><InName>"),
        "nmap's pattern needs a bare <AppData>"
    );
    let without_acl = farm.post(&nfuse(
        "<RequestAppData><DesiredDetails>all</DesiredDetails></RequestAppData>",
    ));
    assert!(values(&without_acl.text(), "GroupName").is_empty());
    let servers = farm.post(&nfuse(
        "<RequestServerData><ServerType>all</ServerType></RequestServerData>",
    ));
    assert_eq!(
        values(&servers.text(), "ServerName"),
        ["DemoFarm-01", "DemoFarm-02", "DemoFarm-03"]
    );
    let caps = farm.post(&nfuse("<RequestCapabilities></RequestCapabilities>"));
    assert!(values(&caps.text(), "CapabilityId").contains(&"launch-reference".to_string()));
    let password = "<Credentials><UserName>alice</UserName><Password encoding=\"cleartext\">x</Password><Domain type=\"NT\">CORP</Domain></Credentials>";
    for request in ["RequestValidateCredentials", "RequestAppData"] {
        let r = farm.post(&nfuse(&format!("<{request}>{password}</{request}>")));
        assert_eq!(
            error_id(&r).as_deref(),
            Some("failed-credentials"),
            "{request}"
        );
    }
    let validate = nfuse(&format!(
        "<RequestValidateCredentials>{}</RequestValidateCredentials>",
        identity("CORP\\alice")
    ));
    assert_eq!(error_id(&farm.post(&validate)), None);
    farm.sim.set_trust(false);
    assert_eq!(
        error_id(&farm.post(&validate)).as_deref(),
        Some("not-trusted")
    );
}
