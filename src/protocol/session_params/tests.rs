use super::*;

const NS: &str = ns::SESSION_PARAMS;

fn ok(body: &str, tickets: bool) -> SessionParams {
    parse(body.as_bytes(), tickets, &Limits::default()).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn err(body: &str, tickets: bool) -> ParamsError {
    parse(body.as_bytes(), tickets, &Limits::default()).expect_err(body)
}

fn doc(root: &str, children: &str) -> String {
    format!(r#"<?xml version="1.0"?><{root} xmlns="{NS}">{children}</{root}>"#)
}

fn canonical(p: &SessionParams) -> String {
    String::from_utf8(p.to_xml()).unwrap()
}

#[test]
fn spec_available_example() {
    let body = include_bytes!("../../../tests/fixtures/storefront/sessionparams-available.xml");
    let p = parse(body, false, &Limits::default()).unwrap();
    assert_eq!(
        p,
        SessionParams {
            root: Root::Lower,
            client_name: "xxxxxxxxx".into(),
            device_id: Some("xxxxxxxxx".into()),
            include_active_sessions: Some(true),
            app_sessions_only: None,
            tickets: vec![],
        }
    );
    assert_eq!(
        canonical(&p),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><sessionparams xmlns="{NS}"><clientName>xxxxxxxxx</clientName><deviceId>xxxxxxxxx</deviceId><includeActiveSessions>true</includeActiveSessions></sessionparams>"#
        )
    );
}

#[test]
fn spec_disconnect_and_logoff_examples() {
    let body = include_bytes!("../../../tests/fixtures/storefront/sessionparams-disconnect.xml");
    let p = parse(body, true, &Limits::default()).unwrap();
    assert_eq!(
        p.tickets,
        vec!["85EB92973D2C3804F93A99AAEC232D".to_string()]
    );
    let body = include_bytes!("../../../tests/fixtures/storefront/sessionparams-logoff.xml");
    let p = parse(body, true, &Limits::default()).unwrap();
    assert_eq!(p.tickets.len(), 2);
    assert_eq!(
        canonical(&p),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><sessionparams xmlns="{NS}"><clientName>xxxxxxxxx</clientName><deviceId>xxxxxxxxx</deviceId><tickets><ticket>85EB92973D2C3804F93A99AAEC232D</ticket><ticket>85EB92973D2C3804F93A99AAEC232A</ticket></tickets></sessionparams>"#
        )
    );
    // Tickets in an `available` request.
    assert_eq!(
        parse(body, false, &Limits::default()),
        Err(ParamsError::TicketsNotAllowed)
    );
}

#[test]
fn camel_root_from_the_powershell_module_is_kept() {
    let p = ok(
        &doc(
            "sessionParams",
            "<clientName>PC1</clientName><deviceId>PC1</deviceId><includeActiveSessions>false</includeActiveSessions><appSessionsOnly>true</appSessionsOnly>",
        ),
        false,
    );
    assert_eq!(p.root, Root::Camel);
    assert_eq!(p.app_sessions_only, Some(true));
    assert_eq!(
        canonical(&p),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><sessionParams xmlns="{NS}"><clientName>PC1</clientName><deviceId>PC1</deviceId><includeActiveSessions>false</includeActiveSessions><appSessionsOnly>true</appSessionsOnly></sessionParams>"#
        )
    );
}

#[test]
fn namespaces() {
    let prefixed = format!(
        r#"<q1:sessionparams xmlns:q1="{NS}"><q1:clientName>C</q1:clientName></q1:sessionparams>"#
    );
    assert_eq!(ok(&prefixed, false).client_name, "C");
    // A prefix on the root but the children in the default namespace (same URI).
    let mixed = format!(
        r#"<p:sessionParams xmlns:p="{NS}" xmlns="{NS}"><clientName>C</clientName></p:sessionParams>"#
    );
    assert_eq!(ok(&mixed, false).root, Root::Camel);
    // Children in another namespace are unknown elements: clientName is then missing.
    let foreign_child = format!(
        r#"<sessionparams xmlns="{NS}"><clientName xmlns="urn:x">C</clientName></sessionparams>"#
    );
    for (body, want) in [
        (
            "<sessionparams><clientName>C</clientName></sessionparams>",
            ParamsError::WrongRoot(ROOT),
        ),
        (
            r#"<sessionparams xmlns="urn:other"><clientName>C</clientName></sessionparams>"#,
            ParamsError::WrongRoot(ROOT),
        ),
        (foreign_child.as_str(), ParamsError::Missing("clientName")),
    ] {
        assert_eq!(err(body, false), want, "{body}");
    }
    assert_eq!(
        err(&doc("SessionParams", "<clientName>C</clientName>"), false).reason(),
        "body_invalid"
    );
}

#[test]
fn encodings_and_bom() {
    let body = doc("sessionparams", "<clientName>Zoë</clientName>");
    let utf16 = body.replace(r#"version="1.0""#, r#"version="1.0" encoding="utf-16""#);
    assert_eq!(ok(&utf16, false).client_name, "Zoë");
    let latin = body.replace(r#"version="1.0""#, r#"version="1.0" encoding="ISO-8859-1""#);
    assert_eq!(ok(&latin, false).client_name, "Zoë");
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(body.as_bytes());
    assert_eq!(
        parse(&bom, false, &Limits::default()).unwrap().client_name,
        "Zoë"
    );
    let latin_bytes = latin.replace('ë', "e").into_bytes();
    let mut latin_bytes = latin_bytes;
    let at = latin_bytes.iter().position(|b| *b == b'Z').unwrap() + 2;
    latin_bytes[at] = 0xEB;
    let e = parse(&latin_bytes, false, &Limits::default()).unwrap_err();
    assert_eq!(
        (e.clone(), e.reason()),
        (ParamsError::Xml(XmlError::NotUtf8), "body_malformed")
    );
}

#[test]
fn forbidden_markup() {
    let cases = [
        format!(
            r#"<!DOCTYPE requesttoken [<!ENTITY % xxe SYSTEM "http://x"> %xxe; ]>{}"#,
            doc("sessionparams", "<clientName>C</clientName>")
        ),
        format!(
            r#"<!DOCTYPE sessionparams SYSTEM "x.dtd"><sessionparams xmlns="{NS}"><clientName>C</clientName></sessionparams>"#
        ),
        doc("sessionparams", "<clientName>&xxe;</clientName>"),
        doc("sessionparams", "<?pi x?><clientName>C</clientName>"),
    ];
    for body in cases {
        let e = err(&body, false);
        assert_eq!(e.reason(), "body_forbidden_markup", "{body}: {e}");
    }
}

#[test]
fn references_are_decoded_and_reescaped() {
    let p = ok(
        &doc(
            "sessionparams",
            "<clientName>&#65;&amp;&lt;b&gt;</clientName>",
        ),
        false,
    );
    assert_eq!(p.client_name, "A&<b>");
    assert!(canonical(&p).contains("<clientName>A&amp;&lt;b&gt;</clientName>"));
    assert_eq!(ok(&canonical(&p), false), p);
}

#[test]
fn client_name_rules() {
    let name = |v: &str| {
        err(
            &doc("sessionparams", &format!("<clientName>{v}</clientName>")),
            false,
        )
    };
    assert_eq!(
        ok(
            &doc("sessionparams", "<clientName>\n  PC1 \t</clientName>"),
            false
        )
        .client_name,
        "PC1"
    );
    let too_long = "x".repeat(257);
    for (value, want) in [
        ("   ", ParamsError::Empty("clientName")),
        ("", ParamsError::Empty("clientName")),
        ("a\nb", ParamsError::ControlChar("clientName")),
        ("a&#10;b", ParamsError::ControlChar("clientName")),
        ("a&#13;b", ParamsError::ControlChar("clientName")),
        ("a\u{7f}b", ParamsError::ControlChar("clientName")),
        ("a\u{85}b", ParamsError::ControlChar("clientName")),
        (too_long.as_str(), ParamsError::TooLong("clientName", 256)),
        ("<b/>", ParamsError::NotText("clientName")),
    ] {
        assert_eq!(name(value), want, "{value:?}");
    }
    // NUL is no XML character, raw or as a reference: the document is not well-formed.
    assert!(matches!(name("a&#0;b"), ParamsError::Xml(_)));
    assert!(matches!(name("a\0b"), ParamsError::Xml(_)));
    assert_eq!(
        name(&"é".repeat(257)).to_string(),
        "element clientName is longer than 256 characters"
    );
    assert_eq!(
        ok(
            &doc(
                "sessionparams",
                &format!("<clientName>{}</clientName>", "é".repeat(256))
            ),
            false
        )
        .client_name
        .chars()
        .count(),
        256
    );
    assert_eq!(
        err(&doc("sessionparams", ""), false),
        ParamsError::Missing("clientName")
    );
    assert_eq!(
        err(&format!(r#"<sessionparams xmlns="{NS}"/>"#), false),
        ParamsError::Missing("clientName")
    );
}

#[test]
fn device_id_rules() {
    let p = ok(
        &doc("sessionparams", "<clientName>C</clientName><deviceId/>"),
        false,
    );
    assert_eq!(p.device_id, None);
    assert!(!canonical(&p).contains("deviceId"));
    let p = ok(
        &doc(
            "sessionparams",
            "<clientName>C</clientName><deviceId>  </deviceId>",
        ),
        false,
    );
    assert_eq!(p.device_id, None);
    assert_eq!(
        err(
            &doc(
                "sessionparams",
                "<clientName>C</clientName><deviceId>a\u{7f}</deviceId>"
            ),
            false
        ),
        ParamsError::ControlChar("deviceId")
    );
    assert_eq!(
        err(
            &doc(
                "sessionparams",
                "<clientName>C</clientName><deviceId/><deviceId>D</deviceId>"
            ),
            false
        ),
        ParamsError::Duplicate("deviceId")
    );
}

#[test]
fn booleans() {
    let b = |v: &str| {
        parse(
            doc(
                "sessionparams",
                &format!(
                    "<clientName>C</clientName><includeActiveSessions>{v}</includeActiveSessions>"
                ),
            )
            .as_bytes(),
            false,
            &Limits::default(),
        )
    };
    assert_eq!(b("true").unwrap().include_active_sessions, Some(true));
    assert_eq!(b(" false\n").unwrap().include_active_sessions, Some(false));
    for bad in ["True", "1", "", "yes", "<x/>"] {
        let e = b(bad).unwrap_err();
        assert!(
            e == ParamsError::NotBoolean("includeActiveSessions")
                || e == ParamsError::NotText("includeActiveSessions"),
            "{bad}: {e}"
        );
    }
    assert_eq!(
        b("1").unwrap_err().to_string(),
        "element includeActiveSessions must be exactly true or false"
    );
    let a = err(
        &doc(
            "sessionparams",
            "<clientName>C</clientName><appSessionsOnly>FALSE</appSessionsOnly>",
        ),
        false,
    );
    assert_eq!(a, ParamsError::NotBoolean("appSessionsOnly"));
}

#[test]
fn tickets_rules() {
    let t = |tickets: &str| {
        parse(
            doc(
                "sessionparams",
                &format!("<clientName>C</clientName><tickets>{tickets}</tickets>"),
            )
            .as_bytes(),
            true,
            &Limits::default(),
        )
    };
    for (tickets, want) in [
        (" <ticket> A1 </ticket> ", vec!["A1"]),
        ("", vec![]),
        // Unknown elements among the tickets are ignored.
        ("<x>y</x><ticket>A</ticket>", vec!["A"]),
    ] {
        assert_eq!(t(tickets).unwrap().tickets, want, "{tickets}");
    }
    let sixteen = "<ticket>T</ticket>".repeat(16);
    assert_eq!(t(&sixteen).unwrap().tickets.len(), 16);
    let seventeen = "<ticket>T</ticket>".repeat(17);
    let too_long = format!("<ticket>{}</ticket>", "A".repeat(257));
    for (tickets, want) in [
        (seventeen.as_str(), ParamsError::TooManyTickets(16)),
        ("<ticket></ticket>", ParamsError::Empty("ticket")),
        ("<ticket>a b</ticket>", ParamsError::BadTicket),
        ("<ticket>é</ticket>", ParamsError::BadTicket),
        (too_long.as_str(), ParamsError::TooLong("ticket", 256)),
        ("junk<ticket>A</ticket>", ParamsError::StrayText("tickets")),
        ("<ticket><b/></ticket>", ParamsError::NotText("ticket")),
    ] {
        assert_eq!(t(tickets).unwrap_err(), want, "{tickets}");
    }
    let twice = doc(
        "sessionparams",
        "<clientName>C</clientName><tickets/><tickets/>",
    );
    assert_eq!(err(&twice, true), ParamsError::Duplicate("tickets"));
    let small = Limits {
        max_tickets: 1,
        ..Limits::default()
    };
    let two = doc(
        "sessionparams",
        "<clientName>C</clientName><tickets><ticket>A</ticket><ticket>B</ticket></tickets>",
    );
    assert_eq!(
        parse(two.as_bytes(), true, &small),
        Err(ParamsError::TooManyTickets(1))
    );
    let on_available = doc("sessionparams", "<clientName>C</clientName><tickets/>");
    assert_eq!(err(&on_available, false), ParamsError::TicketsNotAllowed);
}

#[test]
fn duplicates_are_invalid() {
    let cases = [
            ("<clientName>C</clientName><clientName>D</clientName>", "clientName"),
            (
                "<clientName>C</clientName><includeActiveSessions>true</includeActiveSessions><includeActiveSessions>true</includeActiveSessions>",
                "includeActiveSessions",
            ),
            (
                "<clientName>C</clientName><appSessionsOnly>true</appSessionsOnly><appSessionsOnly>false</appSessionsOnly>",
                "appSessionsOnly",
            ),
        ];
    for (children, name) in cases {
        assert_eq!(
            err(&doc("sessionparams", children), false),
            ParamsError::Duplicate(name)
        );
    }
}

#[test]
fn unknown_elements_are_dropped() {
    let p = ok(
        &doc(
            "sessionparams",
            r#"<extra a="1"><clientName>X</clientName></extra><clientName>C</clientName><x:y xmlns:x="urn:x">z</x:y><includeActiveSessions>true</includeActiveSessions>"#,
        ),
        false,
    );
    assert_eq!(p.client_name, "C");
    let out = canonical(&p);
    assert!(!out.contains("extra") && !out.contains("urn:x"), "{out}");
}

#[test]
fn stray_text_and_broken_input() {
    assert_eq!(
        err(
            &doc("sessionparams", "hello<clientName>C</clientName>"),
            false
        ),
        ParamsError::StrayText("sessionparams")
    );
    let full = doc("sessionparams", "<clientName>C</clientName>");
    for cut in [10, 40, full.len() - 1] {
        let e = err(&full[..cut], false);
        assert_eq!(e.reason(), "body_malformed", "{cut}: {e}");
    }
    for bad in [
        format!("{full}<sessionparams xmlns=\"{NS}\"/>"),
        format!("{full}trailing"),
        full.replace("</clientName>", "</clientname>"),
        String::new(),
    ] {
        assert_eq!(err(&bad, false).reason(), "body_malformed", "{bad}");
    }
}

#[test]
fn strip_policy_and_round_trip() {
    let mut p = ok(
        &doc(
            "sessionparams",
            "<clientName>C</clientName><includeActiveSessions>true</includeActiveSessions>",
        ),
        false,
    );
    p.include_active_sessions = Some(false);
    let again = ok(&canonical(&p), false);
    assert_eq!(again, p);
    assert_eq!(again.include_active_sessions, Some(false));
    let p = SessionParams {
        root: Root::Camel,
        client_name: "a<&>\"'b".into(),
        device_id: Some("d&".into()),
        include_active_sessions: None,
        app_sessions_only: Some(false),
        tickets: vec!["T1".into(), "T2".into()],
    };
    assert_eq!(parse(&p.to_xml(), true, &Limits::default()), Ok(p));
}
