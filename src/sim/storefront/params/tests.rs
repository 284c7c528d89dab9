use super::*;
use crate::protocol::{launch_params, session_params};

const SP: &str = SESSION_PARAMS_NS;
const LP: &str = LAUNCH_PARAMS_NS;
const C: &str = "<clientName>C</clientName>";

fn sp(children: &str) -> String {
    format!(r#"<sessionparams xmlns="{SP}">{children}</sessionparams>"#)
}

fn lp(children: &str) -> String {
    format!(r#"<launchparams xmlns="{LP}">{children}</launchparams>"#)
}

fn fixture(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn client(name: &str) -> SessionParams {
    SessionParams {
        client_name: name.into(),
        ..SessionParams::default()
    }
}

#[test]
fn session_params_accepted() {
    let cases = [
        (
            "spec available example",
            fixture(include_bytes!(
                "../../../../tests/fixtures/storefront/sessionparams-available.xml"
            )),
            false,
            SessionParams {
                device_id: Some("xxxxxxxxx".into()),
                include_active: true,
                ..client("xxxxxxxxx")
            },
        ),
        (
            "spec logoff example",
            fixture(include_bytes!(
                "../../../../tests/fixtures/storefront/sessionparams-logoff.xml"
            )),
            true,
            SessionParams {
                device_id: Some("xxxxxxxxx".into()),
                tickets: vec![
                    "85EB92973D2C3804F93A99AAEC232D".into(),
                    "85EB92973D2C3804F93A99AAEC232A".into(),
                ],
                ..client("xxxxxxxxx")
            },
        ),
        (
            "PowerShell root spelling, q1 prefix",
            format!(
                r#"<q1:sessionParams xmlns:q1="{SP}"><q1:appSessionsOnly>true</q1:appSessionsOnly><q1:clientName>PC 1</q1:clientName></q1:sessionParams>"#
            ),
            false,
            SessionParams {
                app_sessions_only: true,
                ..client("PC 1")
            },
        ),
        (
            "references, CDATA and comments",
            sp("<clientName>A&amp;&#66;<![CDATA[<c>]]></clientName><!-- x --><includeActiveSessions>false</includeActiveSessions>"),
            false,
            client("A&B<c>"),
        ),
        (
            "BOM, and utf-16 declared on UTF-8 bytes",
            format!(
                "\u{feff}<?xml version=\"1.0\" encoding=\"utf-16\"?>{}",
                sp("<clientName>Zoë</clientName>")
            ),
            false,
            client("Zoë"),
        ),
        ("empty tickets", sp(&format!("{C}<tickets/>")), true, client("C")),
    ];
    for (case, body, tickets, want) in cases {
        assert_eq!(
            read_session_params(body.as_bytes(), tickets),
            Ok(want),
            "{case}"
        );
    }
}

#[test]
fn session_params_refused() {
    use ParamsError::*;
    let long = "x".repeat(MAX_VALUE_CHARS + 1);
    let with_tickets = |t: &str| sp(&format!("{C}<tickets>{t}</tickets>"));
    let five_ns: String = (0..5).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
    let cases = [
        (
            format!("<!DOCTYPE sessionparams SYSTEM \"x.dtd\">{}", sp(C)),
            false,
            Forbidden("a DOCTYPE"),
        ),
        (
            format!(
                "<!DOCTYPE s [<!ENTITY x \"y\">]>{}",
                sp("<clientName>&x;</clientName>")
            ),
            false,
            Forbidden("a DOCTYPE"),
        ),
        (
            sp("<clientName>&x;</clientName>"),
            false,
            Forbidden("an entity reference"),
        ),
        (
            sp(&format!("<?pi x?>{C}")),
            false,
            Forbidden("a processing instruction"),
        ),
        (
            format!("<sessionparams>{C}</sessionparams>"),
            false,
            WrongRoot(SESSION_ROOT),
        ),
        (
            format!("<sessionparams xmlns=\"{LP}\">{C}</sessionparams>"),
            false,
            WrongRoot(SESSION_ROOT),
        ),
        (
            format!("<SessionParams xmlns=\"{SP}\">{C}</SessionParams>"),
            false,
            WrongRoot(SESSION_ROOT),
        ),
        (
            sp(&format!("{C}<extra/>")),
            false,
            Unknown {
                parent: "sessionparams",
                child: "extra".into(),
            },
        ),
        (
            sp(&format!("{C}<x:deviceId xmlns:x=\"urn:x\">D</x:deviceId>")),
            false,
            Unknown {
                parent: "sessionparams",
                child: format!("deviceId outside namespace {SP}"),
            },
        ),
        (sp("<deviceId>D</deviceId>"), false, Missing("clientName")),
        (sp(&format!("{C}{C}")), false, Duplicate("clientName")),
        (sp("<clientName> </clientName>"), false, Empty("clientName")),
        (sp(&format!("{C}<deviceId/>")), false, Empty("deviceId")),
        (
            sp("<clientName>a&#10;b</clientName>"),
            false,
            ControlChar("clientName"),
        ),
        (
            sp(&format!("<clientName>{long}</clientName>")),
            false,
            TooLong("clientName"),
        ),
        (
            sp("<clientName><b/></clientName>"),
            false,
            NotText("clientName"),
        ),
        (sp(&format!("hi{C}")), false, StrayText("sessionparams")),
        (
            sp(&format!(
                "{C}<includeActiveSessions> true</includeActiveSessions>"
            )),
            false,
            NotBoolean("includeActiveSessions"),
        ),
        (
            sp(&format!("{C}<appSessionsOnly>1</appSessionsOnly>")),
            false,
            NotBoolean("appSessionsOnly"),
        ),
        (sp("<clientName a=\"1\">C</clientName>"), false, Attribute),
        (
            format!("<sessionparams xmlns=\"{SP}\"{five_ns}>{C}</sessionparams>"),
            false,
            Attribute,
        ),
        (with_tickets("<ticket>T</ticket>"), false, TicketsNotAllowed),
        (
            with_tickets(&"<ticket>T</ticket>".repeat(MAX_TICKETS + 1)),
            true,
            TooManyTickets,
        ),
        (with_tickets("<ticket>a b</ticket>"), true, BadTicket),
        (with_tickets("<ticket/>"), true, Empty("ticket")),
        (
            with_tickets("<t/>"),
            true,
            Unknown {
                parent: "tickets",
                child: "t".into(),
            },
        ),
        (
            format!("{}<x/>", sp(C)),
            false,
            Malformed("more than one root element".into()),
        ),
        (
            format!(" <?xml version=\"1.0\"?>{}", sp(C)),
            false,
            Malformed("XML declaration not at the start".into()),
        ),
    ];
    for (body, tickets, want) in cases {
        assert_eq!(
            read_session_params(body.as_bytes(), tickets),
            Err(want),
            "{body}"
        );
    }
    let full = sp(C);
    for broken in [
        &full[..full.len() - 1],
        "<sessionparams",
        "",
        &sp("<clientName>C</clientname>"),
    ] {
        let got = read_session_params(broken.as_bytes(), false);
        assert!(matches!(got, Err(Malformed(_))), "{broken}: {got:?}");
    }
    assert_eq!(read_session_params(b"<a>\xe9</a>", false), Err(NotUtf8));
    let huge = sp(&" ".repeat(MAX_BODY));
    assert_eq!(read_session_params(huge.as_bytes(), false), Err(TooLarge));
}

#[test]
fn launch_params_read() {
    use ParamsError::*;
    let q1 = include_bytes!("../../../../tests/fixtures/storefront/launchparams-q1-prefix.xml");
    let both = LaunchParams {
        client_name: Some("WR_AjT2owY5yJ4ED0J-x".into()),
        device_id: Some("WR_AjT2owY5yJ4ED0J-x".into()),
    };
    let cases = [
        (fixture(q1), Ok(both)),
        (lp(""), Ok(LaunchParams::default())),
        (
            lp("<audio>high</audio><deviceId>D</deviceId>"),
            Ok(LaunchParams {
                device_id: Some("D".into()),
                ..LaunchParams::default()
            }),
        ),
        (
            format!("<launchparams xmlns=\"{SP}\"/>"),
            Err(WrongRoot(LAUNCH_ROOT)),
        ),
        (
            lp("<future>1</future>"),
            Err(Unknown {
                parent: "launchparams",
                child: "future".into(),
            }),
        ),
        (
            lp("<displayAbsolute><w>1</w></displayAbsolute>"),
            Err(NotText("displayAbsolute")),
        ),
        (
            lp("<audio>high</audio><audio>low</audio>"),
            Err(Duplicate("audio")),
        ),
        (lp("<clientAddress/>"), Err(Empty("clientAddress"))),
        (
            lp("<clientName>a\rb</clientName>"),
            Err(ControlChar("clientName")),
        ),
        (
            lp("<tickets/>"),
            Err(Unknown {
                parent: "launchparams",
                child: "tickets".into(),
            }),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(read_launch_params(body.as_bytes()), want, "{body}");
    }
}

/// What the gateway forwards (its canonical bodies, written by `protocol`) must pass here even at
/// the gateway's own limits, escaped characters and all.
#[test]
fn the_gateways_canonical_bodies_at_its_limits_are_accepted() {
    let limits = session_params::Limits::default();
    let name: String = "é&<>\"'z"
        .chars()
        .cycle()
        .take(limits.max_name_len)
        .collect();
    let tickets = vec!["~&<".repeat(limits.max_ticket_len / 3); limits.max_tickets];
    let canonical = session_params::SessionParams {
        root: session_params::Root::Camel,
        client_name: name.clone(),
        device_id: Some(name.clone()),
        include_active_sessions: Some(true),
        app_sessions_only: Some(false),
        tickets: tickets.clone(),
    };
    let want = SessionParams {
        client_name: name.clone(),
        device_id: Some(name.clone()),
        include_active: true,
        app_sessions_only: false,
        tickets,
    };
    assert_eq!(read_session_params(&canonical.to_xml(), true), Ok(want));
    let value = "&".repeat(launch_params::MAX_VALUE_LEN);
    let mut canonical = launch_params::LaunchParams::default();
    assert_eq!(
        read_launch_params(&canonical.to_xml()),
        Ok(LaunchParams::default())
    );
    for field in launch_params::FIELDS {
        assert_eq!(
            canonical.set(field, Some(value.as_str())),
            Ok(true),
            "{field}"
        );
    }
    let want = LaunchParams {
        client_name: Some(value.clone()),
        device_id: Some(value),
    };
    assert_eq!(read_launch_params(&canonical.to_xml()), Ok(want));
}
