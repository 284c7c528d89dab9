//! The `{store}/endpoints/v1` document: which service lives at which URL. Write it (simulator,
//! tests), parse it, and copy it with the URLs mapped to the gateway's public side.
//!
//! Like the session list, the endpoints document names StoreFront's own URLs, which must not
//! reach the client; [`rewrite_urls`] goes through the safe [`Cursor`] and fails on anything it
//! could not read, so the gateway answers 502 instead of leaking.

use super::ns;
pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Element, Visit};

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `endpoint/@id`, e.g. `ListSessions`.
    pub id: String,
    /// `url`.
    pub url: String,
    /// `capabilities/capability`, in order.
    pub capabilities: Vec<String>,
}

/// The document, in the namespace [`ns::ENDPOINTS`], no indentation.
pub fn write(endpoints: &[Endpoint]) -> Vec<u8> {
    xml::document(|w| {
        w.create_element("endpoints")
            .with_attribute(("xmlns", ns::ENDPOINTS))
            .write_inner_content(|w| endpoints.iter().try_for_each(|e| write_endpoint(w, e)))
            .map(|_| ())
    })
}

fn write_endpoint(w: &mut xml::XmlWriter, e: &Endpoint) -> std::io::Result<()> {
    w.create_element("endpoint")
        .with_attribute(("id", e.id.as_str()))
        .write_inner_content(|w| {
            xml::text_element(w, "url", &e.url)?;
            w.create_element("capabilities")
                .write_inner_content(|w| {
                    e.capabilities
                        .iter()
                        .try_for_each(|c| xml::text_element(w, "capability", c))
                })
                .map(|_| ())
        })
        .map(|_| ())
}

/// Read an endpoints document. Every endpoint needs an `id` and a `url`; unknown elements are
/// ignored.
pub fn parse(body: &[u8]) -> Result<Vec<Endpoint>, DocumentError> {
    let mut cur = Cursor::new(body)?;
    if !cur.root()?.is(ns::ENDPOINTS, "endpoints") {
        return Err(DocumentError::WrongRoot("endpoints"));
    }
    let mut endpoints = Vec::new();
    children(&mut cur, |cur, child| {
        if !child.is(ns::ENDPOINTS, "endpoint") {
            return Ok(false);
        }
        endpoints.push(parse_endpoint(cur, child)?);
        Ok(true)
    })?;
    cur.finish()?;
    Ok(endpoints)
}

fn parse_endpoint(cur: &mut Cursor<'_>, start: &Element<'_>) -> Result<Endpoint, DocumentError> {
    let id = start
        .attr("id")?
        .ok_or(DocumentError::Missing("endpoint/@id"))?
        .into_owned();
    let mut url = None;
    let mut capabilities: Option<Vec<String>> = None;
    children(cur, |cur, child| {
        if child.ns != Some(ns::ENDPOINTS) {
            return Ok(false);
        }
        match child.local() {
            "url" => once(&mut url, leaf_text(cur, "endpoint/url")?, "endpoint/url")?,
            "capabilities" => {
                let mut list = Vec::new();
                children(cur, |cur, child| {
                    if !child.is(ns::ENDPOINTS, "capability") {
                        return Ok(false);
                    }
                    list.push(leaf_text(cur, "capability")?);
                    Ok(true)
                })?;
                once(&mut capabilities, list, "capabilities")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Endpoint {
        id,
        url: url.ok_or(DocumentError::Missing("endpoint/url"))?,
        capabilities: capabilities.unwrap_or_default(),
    })
}

/// Copy an endpoints document unchanged, except that the text `t` of every `endpoint/url`
/// becomes `map(t)` when that is `Some` (when `None`, the same text is written back).
pub fn rewrite_urls(
    body: &[u8],
    map: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, DocumentError> {
    // Each open element's level: is it an `endpoint` directly under the root?
    let enter = |path: &[bool], e: &Element<'_>| match path {
        [] if e.is(ns::ENDPOINTS, "endpoints") => Ok(Visit::Enter(false)),
        [] => Err(DocumentError::WrongRoot("endpoints")),
        [_, true] if e.is(ns::ENDPOINTS, "url") => Ok(Visit::ReplaceText("endpoint/url")),
        [_] => Ok(Visit::Enter(e.is(ns::ENDPOINTS, "endpoint"))),
        _ => Ok(Visit::Enter(false)),
    };
    xml::rewrite(body, enter, |_, old| {
        map(old).unwrap_or_else(|| old.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::XmlError;

    const NS: &str = ns::ENDPOINTS;
    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/storefront/endpoints.xml");

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
        assert_eq!(
            parse(b"<endpoints/>"),
            Err(DocumentError::WrongRoot("endpoints"))
        );
        assert_eq!(
            rewrite_urls(b"<endpoints/>", &public),
            Err(DocumentError::WrongRoot("endpoints"))
        );
        let no_url = format!(r#"<endpoints xmlns="{NS}"><endpoint id="x"/></endpoints>"#);
        assert_eq!(
            parse(no_url.as_bytes()),
            Err(DocumentError::Missing("endpoint/url"))
        );
        let no_id =
            format!(r#"<endpoints xmlns="{NS}"><endpoint><url>u</url></endpoint></endpoints>"#);
        assert_eq!(
            parse(no_id.as_bytes()),
            Err(DocumentError::Missing("endpoint/@id"))
        );
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
        let nested = format!(
            r#"<endpoints xmlns="{NS}"><endpoint id="1"><url><b/></url></endpoint></endpoints>"#
        );
        assert_eq!(
            rewrite_urls(nested.as_bytes(), &public),
            Err(DocumentError::Unexpected("endpoint/url"))
        );
        assert_eq!(
            rewrite_urls(b"\xc3", &public),
            Err(DocumentError::Xml(XmlError::NotUtf8))
        );
    }
}
