use super::*;
use crate::protocol::xml::{Nodes, XmlError};

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"5.0\">";
const CREDS: &str = "<Credentials><ID type=\"SAM\">EXAMPLE\\alice</ID><ID type=\"SID\">S-1-5-21-1-2-3-1104</ID><ID type=\"SID\">S-1-5-21-1-2-3-513</ID></Credentials>";

fn creds() -> Credentials {
    Credentials {
        sam: "EXAMPLE\\alice".into(),
        sids: vec!["S-1-5-21-1-2-3-1104".into(), "S-1-5-21-1-2-3-513".into()],
    }
}

fn session() -> SessionName {
    SessionName {
        in_name: "Notepad".into(),
        host_id: "23363".into(),
        host_id_type: "ima-host-id".into(),
        session_id: "2".into(),
    }
}

fn xml(r: &Request<'_>) -> String {
    String::from_utf8(r.to_xml().unwrap()).unwrap()
}

fn wrap(request: &str) -> String {
    format!("{PROLOG}{request}</NFuseProtocol>")
}

#[test]
fn credentials_can_be_swapped_and_nothing_else_changes() {
    let with = creds();
    let bare = Credentials {
        sam: with.sam.clone(),
        sids: Vec::new(),
    };
    let client = ClientId::Name("PC1".into());
    let s = session();
    let requests = [
        Request::ReconnectSessionData {
            credentials: &with,
            client: &client,
            active: true,
            disconnected: true,
        },
        Request::LogoffUserSessions {
            credentials: &with,
            client: &client,
        },
        Request::Address {
            credentials: &with,
            client_name: "PC1",
            device_id: Some("dev"),
            client_address: Some("10.1.2.3"),
            session: &s,
        },
        Request::Ticket {
            credentials: &with,
            ticket_tag: "IMAHostId:23363",
            time_to_live_seconds: 200,
        },
    ];
    for r in &requests {
        assert_eq!(r.credentials(), Some(&with));
        let full = String::from_utf8(r.to_xml().unwrap()).unwrap();
        let swapped = r.with_credentials(&bare);
        assert_eq!(swapped.kind(), r.kind());
        let stripped = String::from_utf8(swapped.to_xml().unwrap()).unwrap();
        assert!(full.contains("type=\"SID\""));
        assert!(!stripped.contains("type=\"SID\""));
        let sids =
            "<ID type=\"SID\">S-1-5-21-1-2-3-1104</ID><ID type=\"SID\">S-1-5-21-1-2-3-513</ID>";
        assert_eq!(full.replace(sids, ""), stripped);
    }
    assert_eq!(Request::ServerFarmData.credentials(), None);
}

#[test]
fn reconnect_session_data() {
    let c = creds();
    let name = ClientId::Name("WI_7IR5mS5__XBwkUuKL".into());
    let r = Request::ReconnectSessionData {
        credentials: &c,
        client: &name,
        active: true,
        disconnected: true,
    };
    assert_eq!(r.kind(), RequestKind::ReconnectSessionData);
    assert_eq!(
        xml(&r),
        wrap(&format!("<RequestReconnectSessionData>{CREDS}<ClientName>WI_7IR5mS5__XBwkUuKL</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType><SessionType>active</SessionType><SessionType>disconnected</SessionType></RequestReconnectSessionData>"))
    );
    let device = ClientId::Device("WR_AjT2owY5yJ4ED0J-x".into());
    let r = Request::ReconnectSessionData {
        credentials: &c,
        client: &device,
        active: false,
        disconnected: true,
    };
    assert_eq!(
        xml(&r),
        wrap(&format!("<RequestReconnectSessionData>{CREDS}<DeviceId>WR_AjT2owY5yJ4ED0J-x</DeviceId><ServerType>all</ServerType><ClientType>ica30</ClientType><SessionType>disconnected</SessionType></RequestReconnectSessionData>"))
    );
}

#[test]
fn disconnect_and_logoff() {
    let c = creds();
    let name = ClientId::Name("gw-1".into());
    let d = Request::DisconnectUserSessions {
        credentials: &c,
        client: &name,
    };
    assert_eq!(d.kind(), RequestKind::DisconnectUserSessions);
    assert_eq!(
        xml(&d),
        wrap(&format!("<RequestDisconnectUserSessions>{CREDS}<ClientName>gw-1</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType></RequestDisconnectUserSessions>"))
    );
    let l = Request::LogoffUserSessions {
        credentials: &c,
        client: &name,
    };
    assert_eq!(l.kind(), RequestKind::LogoffUserSessions);
    assert_eq!(
        xml(&l),
        wrap(&format!("<RequestLogoffUserSessions>{CREDS}<ClientName>gw-1</ClientName><ServerType>all</ServerType><ClientType>ica30</ClientType></RequestLogoffUserSessions>"))
    );
}

#[test]
fn address_reconnect_form() {
    let c = creds();
    let s = session();
    let r = Request::Address {
        credentials: &c,
        client_name: "WI_7IR5mS5__XBwkUuKL",
        device_id: Some("WR_x"),
        client_address: Some("192.168.182.1"),
        session: &s,
    };
    assert_eq!(r.kind(), RequestKind::Address);
    assert_eq!(
        xml(&r),
        wrap(&format!("<RequestAddress><Name><SessionName><InName>Notepad</InName><HostId type=\"ima-host-id\">23363</HostId><SessionId>2</SessionId></SessionName></Name><ClientName>WI_7IR5mS5__XBwkUuKL</ClientName><DeviceId>WR_x</DeviceId><ClientAddress addresstype=\"dot\">192.168.182.1</ClientAddress><ServerAddress addresstype=\"dns-port\"/>{CREDS}<ClientType>ica30</ClientType></RequestAddress>"))
    );
    // An IPv6 (or garbage) client address is left out, as is an absent device id.
    for addr in [Some("2001:db8::1"), Some("client.example.com"), None] {
        let r = Request::Address {
            credentials: &c,
            client_name: "gw",
            device_id: None,
            client_address: addr,
            session: &s,
        };
        assert_eq!(
            xml(&r),
            wrap(&format!("<RequestAddress><Name><SessionName><InName>Notepad</InName><HostId type=\"ima-host-id\">23363</HostId><SessionId>2</SessionId></SessionName></Name><ClientName>gw</ClientName><ServerAddress addresstype=\"dns-port\"/>{CREDS}<ClientType>ica30</ClientType></RequestAddress>"))
        );
    }
}

#[test]
fn ticket_and_farm_data() {
    let c = creds();
    let r = Request::Ticket {
        credentials: &c,
        ticket_tag: "IMAHostId:23363",
        time_to_live_seconds: 200,
    };
    assert_eq!(r.kind(), RequestKind::Ticket);
    assert_eq!(
        xml(&r),
        wrap(&format!("<RequestTicket>{CREDS}<TicketType>CtxLogon</TicketType><TicketTag>IMAHostId:23363</TicketTag><TimetoLive>200</TimetoLive></RequestTicket>"))
    );
    assert_eq!(Request::ServerFarmData.kind(), RequestKind::ServerFarmData);
    assert_eq!(
        xml(&Request::ServerFarmData),
        wrap("<RequestServerFarmData><Nil/></RequestServerFarmData>")
    );
}

#[test]
fn values_are_escaped() {
    let c = Credentials {
        sam: "EX&AMPLE\\<bob>".into(),
        sids: vec![],
    };
    let r = Request::Ticket {
        credentials: &c,
        ticket_tag: "a\"b",
        time_to_live_seconds: 1,
    };
    let out = xml(&r);
    assert!(out.contains("<ID type=\"SAM\">EX&amp;AMPLE\\&lt;bob&gt;</ID></Credentials>"));
    assert!(out.contains("<TicketTag>a&quot;b</TicketTag>"), "{out}");
}

#[test]
fn size_limit_is_exact() {
    // Grow the SID list until the request is just under, then just over, the limit.
    let base = Request::ServerFarmData.to_xml().unwrap().len();
    assert!(base < MAX_REQUEST_BYTES);
    let mut c = Credentials {
        sam: "E\\u".into(),
        sids: vec![],
    };
    let name = ClientId::Name("n".into());
    let size = |c: &Credentials| {
        Request::DisconnectUserSessions {
            credentials: c,
            client: &name,
        }
        .to_xml()
    };
    while size(&c).is_ok() {
        c.sids
            .push("S-1-5-21-1111111111-2222222222-3333333333-1234".into());
    }
    let Err(RequestError::TooLarge { size: over, limit }) = size(&c) else {
        panic!()
    };
    assert_eq!(limit, MAX_REQUEST_BYTES);
    c.sids.pop();
    let under = size(&c).unwrap().len();
    assert!(under <= MAX_REQUEST_BYTES);
    assert_eq!(
        over,
        under + "<ID type=\"SID\">S-1-5-21-1111111111-2222222222-3333333333-1234</ID>".len()
    );
    // Make the request exactly the limit: padding the SAM name byte for byte.
    c.sam.push_str(&"x".repeat(MAX_REQUEST_BYTES - under));
    assert_eq!(size(&c).unwrap().len(), MAX_REQUEST_BYTES);
    c.sam.push('x');
    assert_eq!(
        size(&c),
        Err(RequestError::TooLarge {
            size: MAX_REQUEST_BYTES + 1,
            limit: MAX_REQUEST_BYTES
        })
    );
    // Every kind goes through the same check.
    let big = Credentials {
        sam: "x".repeat(MAX_REQUEST_BYTES),
        sids: vec![],
    };
    let s = session();
    for r in [
        Request::ReconnectSessionData {
            credentials: &big,
            client: &name,
            active: true,
            disconnected: false,
        },
        Request::LogoffUserSessions {
            credentials: &big,
            client: &name,
        },
        Request::Address {
            credentials: &big,
            client_name: "n",
            device_id: None,
            client_address: None,
            session: &s,
        },
        Request::Ticket {
            credentials: &big,
            ticket_tag: "t",
            time_to_live_seconds: 1,
        },
    ] {
        assert!(
            matches!(r.to_xml(), Err(RequestError::TooLarge { .. })),
            "{:?}",
            r.kind()
        );
    }
}

#[test]
fn control_characters_are_refused() {
    let good = creds();
    let mut bad_sam = creds();
    bad_sam.sam.push('\n');
    let mut bad_sid = creds();
    bad_sid.sids.push("S-1\r".into());
    let name = ClientId::Name("gw".into());
    let bad_name = ClientId::Name("gw\0".into());
    let bad_dev = ClientId::Device("d\u{7f}".into());
    let mut bad_session = session();
    bad_session.in_name = "Note\r\npad".into();
    let s = session();
    let cases = [
        (
            Request::LogoffUserSessions {
                credentials: &bad_sam,
                client: &name,
            },
            "SAM name",
        ),
        (
            Request::LogoffUserSessions {
                credentials: &bad_sid,
                client: &name,
            },
            "SID",
        ),
        (
            Request::DisconnectUserSessions {
                credentials: &good,
                client: &bad_name,
            },
            "client name",
        ),
        (
            Request::ReconnectSessionData {
                credentials: &good,
                client: &bad_dev,
                active: true,
                disconnected: true,
            },
            "device id",
        ),
        (
            Request::Ticket {
                credentials: &good,
                ticket_tag: "tag\t",
                time_to_live_seconds: 1,
            },
            "ticket tag",
        ),
        (
            Request::Address {
                credentials: &good,
                client_name: "gw",
                device_id: None,
                client_address: None,
                session: &bad_session,
            },
            "session name",
        ),
        (
            Request::Address {
                credentials: &good,
                client_name: "gw",
                device_id: Some("\u{85}"),
                client_address: None,
                session: &s,
            },
            "device id",
        ),
    ];
    for (r, what) in cases {
        assert_eq!(
            r.to_xml(),
            Err(RequestError::InvalidText(what)),
            "{:?} {what}",
            r.kind()
        );
    }
}

#[test]
fn kinds_and_labels() {
    let labels: Vec<_> = RequestKind::ALL.iter().map(|k| k.label()).collect();
    assert_eq!(
        labels,
        [
            "reconnect_session_data",
            "disconnect_user_sessions",
            "logoff_user_sessions",
            "address",
            "ticket",
            "server_farm_data"
        ]
    );
    for k in RequestKind::ALL {
        assert_eq!(
            k.element().strip_prefix("Request"),
            k.response_element().strip_prefix("Response")
        );
    }
}

fn notepad(server_type: &str) -> AppSession {
    AppSession {
        session: session(),
        server_type: Some(server_type.into()),
        client_type: Some("ica30".into()),
    }
}

#[test]
fn fixture_sessions() {
    let one = include_bytes!("../../../tests/fixtures/nfuse/reconnect-session-data-one.xml");
    let empty = include_bytes!("../../../tests/fixtures/nfuse/reconnect-session-data-empty.xml");
    let selfclosing =
        b"<NFuseProtocol version='5.2'><ResponseReconnectSessionData/></NFuseProtocol>";
    for (body, want) in [
        (
            &one[..],
            SessionList {
                sessions: vec![notepad("all")],
                skipped: 0,
            },
        ),
        (&empty[..], SessionList::default()),
        (&selfclosing[..], SessionList::default()),
    ] {
        assert_eq!(
            parse_response(body, RequestKind::ReconnectSessionData),
            Ok(Response::Sessions(want)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

fn launch_address() -> Address {
    Address {
        server_address: "192.168.182.10:1494".into(),
        address_type: Some("dot-port".into()),
        server_type: Some("win32".into()),
        connection_type: Some("tcp".into()),
        ticket_tag: Some("IMAHostId:23363".into()),
        ssl_relay_address: Some("ps45fp1.example.com:443".into()),
        cgp_address: Some("2598".into()),
        disconnected_session: false,
    }
}

#[test]
fn fixture_addresses() {
    let launch = include_bytes!("../../../tests/fixtures/nfuse/address-launch.xml");
    assert_eq!(
        parse_response(launch, RequestKind::Address),
        Ok(Response::Address(launch_address()))
    );
    let reconnect = include_bytes!("../../../tests/fixtures/nfuse/address-reconnect.xml");
    let expected = Address {
        disconnected_session: true,
        ..launch_address()
    };
    assert_eq!(
        parse_response(reconnect, RequestKind::Address),
        Ok(Response::Address(expected))
    );
}

#[test]
fn fixture_ticket_farm_and_done() {
    let ticket = include_bytes!("../../../tests/fixtures/nfuse/ticket.xml");
    let farm = include_bytes!("../../../tests/fixtures/nfuse/server-farm-data.xml");
    let done = include_bytes!("../../../tests/fixtures/nfuse/disconnect-user-sessions.xml");
    for (body, kind, want) in [
        (
            &ticket[..],
            RequestKind::Ticket,
            Ok(Response::Ticket("50DFC592EDA89C8C83F860EACF4B41".into())),
        ),
        (
            &farm[..],
            RequestKind::ServerFarmData,
            Ok(Response::FarmName("PS45FARM".into())),
        ),
        (
            &done[..],
            RequestKind::DisconnectUserSessions,
            Ok(Response::Done),
        ),
        // The same body does not answer a logoff.
        (
            &done[..],
            RequestKind::LogoffUserSessions,
            Err(ResponseError::Document(
                "the expected response element is missing",
            )),
        ),
    ] {
        assert_eq!(parse_response(body, kind), want, "{kind:?}");
    }
}

#[test]
fn fixture_error() {
    let body = include_bytes!("../../../tests/fixtures/nfuse/error-unspecified.xml");
    assert_eq!(
        parse_response(body, RequestKind::Address),
        Err(ResponseError::Farm(FarmError {
            id: ErrorId::Unspecified,
            raw: "unspecified".into(),
            detail: Some("0x0000000E".into()),
        }))
    );
}

fn farm_error(body: &str, kind: RequestKind) -> FarmError {
    match parse_response(body.as_bytes(), kind) {
        Err(ResponseError::Farm(e)) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_ids() {
    let e = farm_error(
        "<NFuseProtocol version=\"5.0\"><ResponseTicket><MPSError type=\"ima\">0x80060001</MPSError><ErrorId> TICKETING-disabled </ErrorId></ResponseTicket></NFuseProtocol>",
        RequestKind::Ticket,
    );
    assert_eq!(e.id, ErrorId::TicketingDisabled);
    assert_eq!(e.raw, "TICKETING-disabled");
    assert_eq!(e.detail.as_deref(), Some("0x80060001"));
    let long = "z".repeat(500);
    let e = farm_error(
        &format!("<NFuseProtocol><ResponseReconnectSessionData><ErrorId>{long}</ErrorId></ResponseReconnectSessionData></NFuseProtocol>"),
        RequestKind::ReconnectSessionData,
    );
    assert_eq!(e.id, ErrorId::Other);
    assert_eq!(e.raw.len(), 64);
    assert_eq!(e.detail, None);
    // An error wins over the fields that would otherwise be required.
    let e = farm_error(
        "<NFuseProtocol><ResponseServerFarmData><ErrorId>not-trusted</ErrorId></ResponseServerFarmData></NFuseProtocol>",
        RequestKind::ServerFarmData,
    );
    assert_eq!(e.id, ErrorId::NotTrusted);
}

#[test]
fn tolerant_reading() {
    // ISO-8859-1 bytes, single quotes, any version, unknown elements, any order, CRLF.
    let mut body = b"<?xml version='1.0' encoding='ISO-8859-1'?>\r\n<!DOCTYPE NFuseProtocol SYSTEM 'NFuse.dtd'>\r\n<NFuseProtocol version='9.9'><Extra><X/></Extra>\r\n<ResponseReconnectSessionData><AppDataSet><AppData type='session'><SessionId> 7 </SessionId><Fancy a='1'>x</Fancy><HostId>42</HostId><InName>Caf".to_vec();
    body.push(0xe9);
    body.extend_from_slice(b" R\xe9sum\xe9</InName></AppData><AppData><InName>NoHost</InName><SessionId>1</SessionId></AppData></AppDataSet></ResponseReconnectSessionData></NFuseProtocol>\r\n");
    let Ok(Response::Sessions(list)) = parse_response(&body, RequestKind::ReconnectSessionData)
    else {
        panic!()
    };
    assert_eq!(list.skipped, 1);
    assert_eq!(
        list.sessions,
        vec![AppSession {
            session: SessionName {
                in_name: "Café Résumé".into(),
                host_id: "42".into(),
                host_id_type: "ima-host-id".into(),
                session_id: "7".into(),
            },
            server_type: None,
            client_type: None,
        }]
    );
    // The bare DOCTYPE and no DOCTYPE at all.
    for prolog in ["<!DOCTYPE NFuseProtocol>", ""] {
        let body = format!("{prolog}<NFuseProtocol><ResponseTicket><Ticket>T</Ticket></ResponseTicket></NFuseProtocol>");
        assert_eq!(
            parse_response(body.as_bytes(), RequestKind::Ticket),
            Ok(Response::Ticket("T".into()))
        );
    }
}

#[test]
fn forbidden_markup() {
    // `Some(what)`: exactly that refusal; `None`: any forbidden-markup refusal.
    let cases: [(&[u8], Option<&str>); 5] = [
        (
            br#"<!DOCTYPE NFuseProtocol [<!ENTITY x SYSTEM "file:///etc/passwd">]><NFuseProtocol><ResponseTicket><Ticket>&x;</Ticket></ResponseTicket></NFuseProtocol>"#,
            Some("entity declaration"),
        ),
        (
            br#"<!DOCTYPE NFuseProtocol SYSTEM "NFuse.dtd" []><NFuseProtocol/>"#,
            None,
        ),
        (
            b"<NFuseProtocol><ResponseTicket><Ticket>&nbsp;</Ticket></ResponseTicket></NFuseProtocol>",
            Some("entity reference"),
        ),
        (
            b"<!DOCTYPE NFuseProtocol><!DOCTYPE NFuseProtocol><NFuseProtocol/>",
            None,
        ),
        (b"<NFuseProtocol><?x y?></NFuseProtocol>", None),
    ];
    for (body, what) in cases {
        let got = parse_response(body, RequestKind::Ticket);
        let body = String::from_utf8_lossy(body);
        match what {
            Some(what) => assert_eq!(
                got,
                Err(ResponseError::Xml(XmlError::Forbidden(what))),
                "{body}"
            ),
            None => assert!(
                matches!(&got, Err(ResponseError::Xml(e)) if e.is_forbidden()),
                "{body}: {got:?}"
            ),
        }
    }
    // Predefined entities are fine.
    let amp =
        b"<NFuseProtocol><ResponseTicket><Ticket>A&amp;B</Ticket></ResponseTicket></NFuseProtocol>";
    assert_eq!(
        parse_response(amp, RequestKind::Ticket),
        Ok(Response::Ticket("A&B".into()))
    );
}

#[test]
fn wrong_shapes() {
    const MISSING: ResponseError =
        ResponseError::Document("the expected response element is missing");
    const ROOT: ResponseError = ResponseError::Document("the root element is not NFuseProtocol");
    let ticket = include_bytes!("../../../tests/fixtures/nfuse/ticket.xml");
    let cases: [(&[u8], RequestKind, ResponseError); 11] = [
        (ticket, RequestKind::Address, MISSING),
        (b"<Other/>", RequestKind::Ticket, ROOT),
        (
            b"<NFuseProtocol xmlns='http://citrix.com/delivery-services/1-0/launch'/>",
            RequestKind::Ticket,
            ROOT,
        ),
        (b"<NFuseProtocol/>", RequestKind::Ticket, MISSING),
        (
            b"<NFuseProtocol><ResponseTicket/></NFuseProtocol>",
            RequestKind::Ticket,
            ResponseError::Document("Ticket is missing"),
        ),
        (
            b"<NFuseProtocol><ResponseAddress><ServerType>win32</ServerType></ResponseAddress></NFuseProtocol>",
            RequestKind::Address,
            ResponseError::Document("ServerAddress is missing"),
        ),
        (
            b"<NFuseProtocol><ResponseAddress><ServerAddress> </ServerAddress></ResponseAddress></NFuseProtocol>",
            RequestKind::Address,
            ResponseError::Document("ServerAddress is missing"),
        ),
        (
            b"<NFuseProtocol><ResponseServerFarmData><ServerFarmData/></ResponseServerFarmData></NFuseProtocol>",
            RequestKind::ServerFarmData,
            ResponseError::Document("ServerFarmName is missing"),
        ),
        (
            b"<NFuseProtocol><ResponseTicket><Ticket>a<b/></Ticket></ResponseTicket></NFuseProtocol>",
            RequestKind::Ticket,
            ResponseError::Document("Ticket is not a plain value"),
        ),
        (
            b"<NFuseProtocol><ResponseTicket><Ticket>a</Ticket></ResponseTicket><ResponseTicket/></NFuseProtocol>",
            RequestKind::Ticket,
            ResponseError::Document("more than one response element"),
        ),
        (
            b"\xff\xfe<",
            RequestKind::Ticket,
            ResponseError::Xml(XmlError::NotUtf8),
        ),
    ];
    for (body, kind, want) in cases {
        assert_eq!(
            parse_response(body, kind),
            Err(want),
            "{kind:?} {}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(matches!(
        parse_response(
            b"<NFuseProtocol><ResponseTicket><Ticket>a</Ticket></ResponseTicket>",
            RequestKind::Ticket
        ),
        Err(ResponseError::Xml(XmlError::Malformed(_)))
    ));
}

#[test]
fn bounds() {
    let long = "T".repeat(MAX_TEXT_CHARS + 1);
    let body = format!(
        "<NFuseProtocol><ResponseTicket><Ticket>{long}</Ticket></ResponseTicket></NFuseProtocol>"
    );
    assert!(matches!(
        parse_response(body.as_bytes(), RequestKind::Ticket),
        Err(ResponseError::Document(_))
    ));
    let ok = "T".repeat(MAX_TEXT_CHARS);
    let body = format!(
        "<NFuseProtocol><ResponseTicket><Ticket>{ok}</Ticket></ResponseTicket></NFuseProtocol>"
    );
    assert_eq!(
        parse_response(body.as_bytes(), RequestKind::Ticket),
        Ok(Response::Ticket(ok))
    );

    let sessions = |n: usize| {
        let app = "<AppData><InName>A</InName><HostId>1</HostId><SessionId>2</SessionId></AppData>";
        format!("<NFuseProtocol><ResponseReconnectSessionData><AppDataSet>{}</AppDataSet></ResponseReconnectSessionData></NFuseProtocol>", app.repeat(n))
    };
    let Ok(Response::Sessions(list)) = parse_response(
        sessions(MAX_SESSIONS).as_bytes(),
        RequestKind::ReconnectSessionData,
    ) else {
        panic!()
    };
    assert_eq!(list.sessions.len(), MAX_SESSIONS);
    assert_eq!(
        parse_response(
            sessions(MAX_SESSIONS + 1).as_bytes(),
            RequestKind::ReconnectSessionData
        ),
        Err(ResponseError::Document("too many sessions"))
    );
}

#[test]
fn requests_read_back() {
    // Our own request is readable by our own reader (DOCTYPE and all), with the values intact.
    let c = creds();
    let body = Request::Ticket {
        credentials: &c,
        ticket_tag: "IMAHostId:1",
        time_to_live_seconds: 200,
    }
    .to_xml()
    .unwrap();
    let text = crate::protocol::xml::decode_legacy(&body).unwrap();
    let mut cur = crate::protocol::xml::Cursor::from_text(&text).allow_doctype();
    let root = cur.root().unwrap();
    assert_eq!(root.local(), "NFuseProtocol");
    assert_eq!(root.attr("version").unwrap().as_deref(), Some(VERSION));
}
