use super::*;

const NS: &str = ns::LAUNCH_PARAMS;

fn doc(children: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-16"?><launchparams xmlns="{NS}">{children}</launchparams>"#
    )
}

#[test]
fn q1_prefix_from_the_test_tool() {
    let body = include_bytes!("../../../tests/fixtures/storefront/launchparams-q1-prefix.xml");
    let p = parse(body).unwrap();
    assert_eq!(p.device_id(), Some("WR_AjT2owY5yJ4ED0J-x"));
    assert_eq!(p.client_name(), Some("WR_AjT2owY5yJ4ED0J-x"));
    assert_eq!(p.get("audio"), Some("high"));
    // Canonical order, default namespace.
    assert_eq!(
        String::from_utf8(p.to_xml()).unwrap(),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><launchparams xmlns="{NS}"><clientName>WR_AjT2owY5yJ4ED0J-x</clientName><deviceId>WR_AjT2owY5yJ4ED0J-x</deviceId><audio>high</audio><display>seamless</display></launchparams>"#
        )
    );
    assert_eq!(parse(&p.to_xml()).unwrap(), p);
}

#[test]
fn every_field_round_trips_in_order() {
    let reversed: String = FIELDS
        .iter()
        .rev()
        .map(|f| format!("<{f}> v-{f}&amp; </{f}>"))
        .collect();
    let p = parse(doc(&reversed).as_bytes()).unwrap();
    let names: Vec<_> = p.fields().map(|(n, _)| n).collect();
    assert_eq!(names, FIELDS.to_vec());
    assert_eq!(p.get("launcher"), Some("v-launcher&"));
    assert_eq!(parse(&p.to_xml()).unwrap(), p);
}

#[test]
fn root_and_namespace() {
    assert_eq!(parse(b"<launchparams/>"), Err(ParamsError::WrongRoot(ROOT)));
    assert_eq!(
        parse(br#"<launchparams xmlns="http://citrix.com/delivery-services/1-0/sessionparams"/>"#),
        Err(ParamsError::WrongRoot(ROOT))
    );
    let empty = parse(format!(r#"<launchparams xmlns="{NS}"/>"#).as_bytes()).unwrap();
    assert_eq!(empty, LaunchParams::default());
    assert_eq!(
        String::from_utf8(empty.to_xml()).unwrap(),
        format!(r#"<?xml version="1.0" encoding="utf-8"?><launchparams xmlns="{NS}"/>"#)
    );
}

#[test]
fn values_are_checked() {
    let long = format!("<launcher>{}</launcher>", "x".repeat(257));
    for (children, want) in [
        (
            "<clientName>a\nb</clientName>",
            Err(ParamsError::ControlChar("clientName")),
        ),
        (long.as_str(), Err(ParamsError::TooLong("launcher", 256))),
        (
            "<audio>high</audio><audio>low</audio>",
            Err(ParamsError::Duplicate("audio")),
        ),
        (
            "hi<audio>high</audio>",
            Err(ParamsError::StrayText("launchparams")),
        ),
        // Empty values count as absent.
        (
            "<clientAddress/><audio> </audio>",
            Ok(LaunchParams::default()),
        ),
    ] {
        assert_eq!(parse(doc(children).as_bytes()), want, "{children}");
    }
    assert_eq!(
        parse(doc("<audio>a&#0;</audio>").as_bytes())
            .unwrap_err()
            .reason(),
        "body_malformed"
    );
}

#[test]
fn unknown_and_nested_elements_are_dropped() {
    let body = doc(
        r#"<audio>high</audio><displayAbsolute><width>1024</width><height>768</height></displayAbsolute><x:clientName xmlns:x="urn:x">evil</x:clientName><future>1</future>"#,
    );
    let p = parse(body.as_bytes()).unwrap();
    assert_eq!(p.get("displayAbsolute"), None);
    assert_eq!(p.client_name(), None);
    let out = String::from_utf8(p.to_xml()).unwrap();
    assert!(
        out.ends_with("><audio>high</audio></launchparams>"),
        "{out}"
    );
    // Nested or not, the element still counts once.
    assert_eq!(
        parse(
            doc("<displayAbsolute><w/></displayAbsolute><displayAbsolute>1</displayAbsolute>")
                .as_bytes()
        ),
        Err(ParamsError::Duplicate("displayAbsolute"))
    );
}

#[test]
fn forbidden_and_malformed() {
    for (body, reason) in [
        (
            format!(
                r#"<!DOCTYPE requesttoken [<!ENTITY % xxe SYSTEM "http://x"> %xxe; ]><launchparams xmlns="{NS}"/>"#
            ),
            "body_forbidden_markup",
        ),
        (doc("<audio>&ent;</audio>"), "body_forbidden_markup"),
        (doc("<audio>high</launcher>"), "body_malformed"),
        (doc("")[..30].to_string(), "body_malformed"),
    ] {
        assert_eq!(
            parse(body.as_bytes()).unwrap_err().reason(),
            reason,
            "{body}"
        );
    }
}

#[test]
fn set_checks_values() {
    let mut p = LaunchParams::default();
    assert_eq!(p.set("clientName", Some("GW-1")), Ok(true));
    assert_eq!(p.client_name(), Some("GW-1"));
    assert!(p.set("clientName", Some("a\rb")).is_err());
    assert_eq!(p.set("nope", Some("x")), Ok(false));
    p.set("clientName", None).unwrap();
    assert_eq!(p.client_name(), None);
}
