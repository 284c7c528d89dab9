use super::*;
use crate::protocol::xml::XmlError;

const NS: &str = ns::ENDPOINTS;
const FIXTURE: &[u8] = include_bytes!("../../../tests/fixtures/storefront/endpoints.xml");

fn public(url: &str) -> Option<String> {
    url.strip_prefix("http://www.example.com/Citrix/Store")
        .map(|rest| format!("https://ws.example.com/Citrix/Store{rest}"))
}

#[test]
fn fixture_parses() {
    let e = parse(FIXTURE).unwrap();
    assert_eq!(e.len(), 4);
    assert_eq!(
        e[1],
        Endpoint {
            id: "ListSessions".into(),
            url: "http://www.example.com/Citrix/Store/sessions/v1/available".into(),
            capabilities: vec!["listSessions".into()],
        }
    );
}

#[test]
fn write_exact_and_round_trip() {
    let list = vec![
        Endpoint {
            id: "A&B".into(),
            url: "http://h/x?a=1&b=<2>".into(),
            capabilities: vec!["c1".into(), "c2".into()],
        },
        Endpoint {
            id: "Empty".into(),
            url: String::new(),
            capabilities: vec![],
        },
    ];
    let out = write(&list);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><endpoints xmlns="{NS}"><endpoint id="A&amp;B"><url>http://h/x?a=1&amp;b=&lt;2&gt;</url><capabilities><capability>c1</capability><capability>c2</capability></capabilities></endpoint><endpoint id="Empty"><url></url><capabilities></capabilities></endpoint></endpoints>"#
        )
    );
    assert_eq!(parse(&out).unwrap(), list);
    assert_eq!(parse(&write(&[])).unwrap(), vec![]);
}

#[test]
fn rewrite_maps_urls_only() {
    let before = parse(FIXTURE).unwrap();
    let out = rewrite_urls(FIXTURE, &public).unwrap();
    let after = parse(&out).unwrap();
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a.url, public(&b.url).unwrap());
        assert_eq!((&a.id, &a.capabilities), (&b.id, &b.capabilities));
    }
    let expected = String::from_utf8(FIXTURE.to_vec())
        .unwrap()
        .replace("http://www.example.com", "https://ws.example.com");
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    // `None` keeps the URL.
    assert_eq!(rewrite_urls(FIXTURE, &|_| None).unwrap(), FIXTURE.to_vec());
}

#[test]
fn rewrite_touches_only_endpoint_url() {
    let doc = format!(
        r#"<e:endpoints xmlns:e="{NS}"><e:url>top</e:url><e:endpoint id="1"><e:url>a&amp;b</e:url><e:x><e:url>deep</e:url></e:x><url>no ns</url></e:endpoint><e:endpoint id="2"><e:url/></e:endpoint></e:endpoints>"#
    );
    let out = rewrite_urls(doc.as_bytes(), &|u| Some(format!("[{u}]"))).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            r#"<e:endpoints xmlns:e="{NS}"><e:url>top</e:url><e:endpoint id="1"><e:url>[a&amp;b]</e:url><e:x><e:url>deep</e:url></e:x><url>no ns</url></e:endpoint><e:endpoint id="2"><e:url>[]</e:url></e:endpoint></e:endpoints>"#
        )
    );
}

#[test]
fn refusals() {
    let no_url = format!(r#"<endpoints xmlns="{NS}"><endpoint id="x"/></endpoints>"#);
    let no_id = format!(r#"<endpoints xmlns="{NS}"><endpoint><url>u</url></endpoint></endpoints>"#);
    for (body, want) in [
        ("<endpoints/>", DocumentError::WrongRoot("endpoints")),
        (&no_url, DocumentError::Missing("endpoint/url")),
        (&no_id, DocumentError::Missing("endpoint/@id")),
    ] {
        assert_eq!(parse(body.as_bytes()), Err(want), "{body}");
    }
    let nested = format!(
        r#"<endpoints xmlns="{NS}"><endpoint id="1"><url><b/></url></endpoint></endpoints>"#
    );
    for (body, want) in [
        (&b"<endpoints/>"[..], DocumentError::WrongRoot("endpoints")),
        (nested.as_bytes(), DocumentError::Unexpected("endpoint/url")),
        (b"\xc3", DocumentError::Xml(XmlError::NotUtf8)),
    ] {
        assert_eq!(
            rewrite_urls(body, &public),
            Err(want),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let fixture = String::from_utf8(FIXTURE.to_vec()).unwrap();
    for bad in [
        fixture.replacen(
            "<endpoints",
            "<!DOCTYPE endpoints [<!ENTITY x SYSTEM \"http://x\">]><endpoints",
            1,
        ),
        fixture.replacen("resources/v2", "&x;", 1),
        fixture[..fixture.len() - 20].to_string(),
    ] {
        assert!(parse(bad.as_bytes()).is_err());
        assert!(rewrite_urls(bad.as_bytes(), &public).is_err(), "{bad}");
    }
}
