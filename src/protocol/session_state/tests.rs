use super::*;
use crate::protocol::xml::XmlError;

const NS: &str = ns::SESSION_STATE;
const SPEC: &[u8] = include_bytes!("../../../tests/fixtures/storefront/sessionstate-available.xml");

fn session(id: &str) -> Session {
    Session {
        id: id.into(),
        server_type: "win32".into(),
        launch_url: format!("http://10.0.0.11/Citrix/Store/session/v1/{id}/launch/ica"),
        initial_app: Some("App <&>".into()),
        initial_app_resource_aggregated: Some(false),
        initial_app_resource_id: Some("XA1.App".into()),
        publisher_name: Some("Farm1".into()),
    }
}

fn public(id: &str) -> String {
    format!("https://ws.example.com/Citrix/Store/sessions/v1/{id}/launch/ica")
}

#[test]
fn spec_example_corrected() {
    let state = parse(SPEC).unwrap();
    assert_eq!(state.enumeration, Enumeration::Full);
    assert_eq!(state.sessions.len(), 2);
    assert_eq!(
        state.sessions[0],
        Session {
            id: "zyxw9876".into(),
            server_type: "win32".into(),
            launch_url: "http://www.example.com/Store/session/v1/zyxw9876/launch/ica".into(),
            initial_app: Some("MSPaint".into()),
            initial_app_resource_aggregated: Some(false),
            initial_app_resource_id: Some("XA1.MSPaint".into()),
            publisher_name: Some("Farm1".into()),
        }
    );
    assert_eq!(state.sessions[1].initial_app.as_deref(), Some("Notepad"));
}

#[test]
fn spec_example_as_published_is_not_well_formed() {
    let broken =
        include_bytes!("../../../tests/fixtures/storefront/sessionstate-spec-not-well-formed.xml");
    assert!(matches!(
        parse(broken),
        Err(DocumentError::Xml(XmlError::Malformed(_)))
    ));
    assert!(rewrite_launch_urls(broken, &public).is_err());
}

#[test]
fn write_exact_and_round_trip() {
    let state = SessionState {
        enumeration: Enumeration::Partial,
        sessions: vec![session("s1")],
    };
    let out = String::from_utf8(write(&state)).unwrap();
    assert_eq!(
        out,
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><sessionState xmlns="{NS}" enumeration="partial"><sessions><session id="s1"><serverType>win32</serverType><launchIca><url>http://10.0.0.11/Citrix/Store/session/v1/s1/launch/ica</url></launchIca><initialapp>App &lt;&amp;&gt;</initialapp><initialappresourceaggregated>false</initialappresourceaggregated><initialappresourceid>XA1.App</initialappresourceid><publishername>Farm1</publishername></session></sessions></sessionState>"#
        )
    );
    let bare = SessionState {
        enumeration: Enumeration::Full,
        sessions: vec![Session {
            id: "a\"&<".into(),
            server_type: String::new(),
            launch_url: String::new(),
            initial_app: None,
            initial_app_resource_aggregated: Some(true),
            initial_app_resource_id: None,
            publisher_name: None,
        }],
    };
    let empty = SessionState {
        enumeration: Enumeration::Full,
        sessions: vec![],
    };
    for state in [state, bare, empty] {
        assert_eq!(parse(&write(&state)).unwrap(), state, "{state:?}");
    }
}

#[test]
fn rewrite_changes_only_launch_urls() {
    for body in [
        SPEC.to_vec(),
        write(&SessionState {
            enumeration: Enumeration::Full,
            sessions: (0..50).map(|i| session(&format!("s{i}"))).collect(),
        }),
    ] {
        let before = parse(&body).unwrap();
        let out = rewrite_launch_urls(&body, &public).unwrap();
        let after = parse(&out).unwrap();
        assert_eq!(after.enumeration, before.enumeration);
        assert_eq!(after.sessions.len(), before.sessions.len());
        for (a, b) in after.sessions.iter().zip(&before.sessions) {
            assert_eq!(a.launch_url, public(&b.id));
            assert_eq!(
                Session {
                    launch_url: b.launch_url.clone(),
                    ..a.clone()
                },
                *b
            );
        }
        assert!(!String::from_utf8(out).unwrap().contains("10.0.0.11"));
    }
    // Byte for byte everywhere but the URL text.
    let out = rewrite_launch_urls(SPEC, &|id| format!("U-{id}")).unwrap();
    let expected = String::from_utf8(SPEC.to_vec())
        .unwrap()
        .replace(
            "http://www.example.com/Store/session/v1/zyxw9876/launch/ica",
            "U-zyxw9876",
        )
        .replace(
            "http://www.example.com/Store/session/v1/3e4d5f6g/launch/ica",
            "U-3e4d5f6g",
        );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn rewrite_escapes_and_handles_odd_shapes() {
    let doc = format!(
        r#"<s:sessionState xmlns:s="{NS}" enumeration="full"><s:sessions><s:session id="a-b"><s:launchIca><s:url/></s:launchIca><!-- c --><s:launchIca><s:url>x&amp;<![CDATA[y]]></s:url></s:launchIca><url>not ours</url></s:session><s:session id="n"/></s:sessions><url>top</url></s:sessionState>"#
    );
    let out =
        rewrite_launch_urls(doc.as_bytes(), &|id| format!("https://gw/?id={id}&x=<1>")).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            r#"<s:sessionState xmlns:s="{NS}" enumeration="full"><s:sessions><s:session id="a-b"><s:launchIca><s:url>https://gw/?id=a-b&amp;x=&lt;1&gt;</s:url></s:launchIca><!-- c --><s:launchIca><s:url>https://gw/?id=a-b&amp;x=&lt;1&gt;</s:url></s:launchIca><url>not ours</url></s:session><s:session id="n"/></s:sessions><url>top</url></s:sessionState>"#
        )
    );
}

#[test]
fn rewrite_refusals() {
    let no_id = format!(
        r#"<sessionState xmlns="{NS}"><sessions><session><launchIca><url>u</url></launchIca></session></sessions></sessionState>"#
    );
    let nested = format!(
        r#"<sessionState xmlns="{NS}"><sessions><session id="1"><launchIca><url><b/></url></launchIca></session></sessions></sessionState>"#
    );
    let id = |id: &str| {
        format!(
            r#"<sessionState xmlns="{NS}"><sessions><session id="{id}"><launchIca><url>u</url></launchIca></session></sessions></sessionState>"#
        )
    };
    let (escaped, slashes, dots) = (id("a&amp;b"), id("..%2F..%2Fx"), id(".."));
    for (body, want) in [
        (escaped.as_bytes(), DocumentError::BadValue("session/@id")),
        (slashes.as_bytes(), DocumentError::BadValue("session/@id")),
        (dots.as_bytes(), DocumentError::BadValue("session/@id")),
        (no_id.as_bytes(), DocumentError::Missing("session/@id")),
        (
            br#"<sessionState xmlns="urn:x"/>"#,
            DocumentError::WrongRoot("sessionState"),
        ),
        (
            nested.as_bytes(),
            DocumentError::Unexpected("launchIca/url"),
        ),
        (b"\xff\xfe<", DocumentError::Xml(XmlError::NotUtf8)),
    ] {
        assert_eq!(
            rewrite_launch_urls(body, &public),
            Err(want),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        parse(no_id.as_bytes()),
        Err(DocumentError::Missing("session/@id"))
    );
    assert_eq!(
        parse(b"<sessionState/>"),
        Err(DocumentError::WrongRoot("sessionState"))
    );
    let spec = String::from_utf8(SPEC.to_vec()).unwrap();
    for bad in [
        spec.replacen(
            "<?xml version=\"1.0\"?>",
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"x\">]>",
            1,
        ),
        spec.replacen("MSPaint</initialapp>", "&e;</initialapp>", 1),
        spec.replacen("<sessions>", "<?pi?><sessions>", 1),
        spec[..spec.len() / 2].to_string(),
        format!("{spec}<x/>"),
        "garbage".to_string(),
        String::new(),
    ] {
        assert!(
            rewrite_launch_urls(bad.as_bytes(), &public).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn parse_value_rules() {
    let doc = |inner: &str| {
        format!(
            r#"<sessionState xmlns="{NS}" enumeration="full"><sessions><session id="1">{inner}</session></sessions></sessionState>"#
        )
    };
    for (body, want) in [
        (
            doc("<initialappresourceaggregated>maybe</initialappresourceaggregated>"),
            DocumentError::BadValue("initialappresourceaggregated"),
        ),
        (
            doc("<initialapp>a</initialapp><initialapp>b</initialapp>"),
            DocumentError::Duplicate("initialapp"),
        ),
        (
            format!(r#"<sessionState xmlns="{NS}" enumeration="some"/>"#),
            DocumentError::BadValue("sessionState/@enumeration"),
        ),
    ] {
        assert_eq!(parse(body.as_bytes()), Err(want), "{body}");
    }
    let s = parse(doc("<future>1</future><serverType>x</serverType>").as_bytes()).unwrap();
    assert_eq!(s.sessions[0].launch_url, "");
    assert_eq!(s.sessions[0].server_type, "x");
}

/// The documents StoreFront and the simulator write take the scanner's fast path, with the
/// `Cursor`'s output: the gateway pays for the slow reader only on unusual documents.
#[test]
fn storefront_documents_take_the_fast_path() {
    let written = write(&SessionState {
        enumeration: Enumeration::Partial,
        sessions: vec![session("k2m8aa"), session("k2m8bb")],
    });
    for doc in [SPEC, &written] {
        let (fast, slow) = rewrite_launch_urls_each(doc, &public);
        assert!(fast.is_some(), "{}", String::from_utf8_lossy(doc));
        assert_eq!(fast, Some(slow.unwrap()));
    }
}
