//! The `sessionState` document StoreFront answers to `available`: write it (simulator, tests),
//! parse it, and — the gateway's hot path — copy it with every launch URL replaced.
//!
//! The launch URL in `sessions/session/launchIca/url` points at the StoreFront server; the
//! gateway must hand out its own URL instead, and must not let anything it could not read reach
//! the client. So [`rewrite_launch_urls`] goes through the safe [`Cursor`] and fails (the gateway
//! answers 502) on anything not well-formed, forbidden markup, a wrong root or a session without
//! an `id`. Everything else is copied event by event, unchanged.

use super::ns;
pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Element, Visit};

/// One listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `session/@id`.
    pub id: String,
    /// `serverType` (empty if absent).
    pub server_type: String,
    /// `launchIca/url` (empty if absent).
    pub launch_url: String,
    /// `initialapp`.
    pub initial_app: Option<String>,
    /// `initialappresourceaggregated`.
    pub initial_app_resource_aggregated: Option<bool>,
    /// `initialappresourceid`.
    pub initial_app_resource_id: Option<String>,
    /// `publishername`.
    pub publisher_name: Option<String>,
}

/// `sessionState/@enumeration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enumeration {
    /// Every farm answered.
    Full,
    /// Some farms did not answer.
    Partial,
}

/// The `available` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    /// Complete or partial list.
    pub enumeration: Enumeration,
    /// The sessions, in document order.
    pub sessions: Vec<Session>,
}

/// The document, in the namespace [`ns::SESSION_STATE`], no indentation.
pub fn write(state: &SessionState) -> Vec<u8> {
    let enumeration = match state.enumeration {
        Enumeration::Full => "full",
        Enumeration::Partial => "partial",
    };
    xml::document(|w| {
        w.create_element("sessionState")
            .with_attribute(("xmlns", ns::SESSION_STATE))
            .with_attribute(("enumeration", enumeration))
            .write_inner_content(|w| {
                w.create_element("sessions")
                    .write_inner_content(|w| {
                        state.sessions.iter().try_for_each(|s| write_session(w, s))
                    })
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn write_session(w: &mut xml::XmlWriter, s: &Session) -> std::io::Result<()> {
    w.create_element("session")
        .with_attribute(("id", s.id.as_str()))
        .write_inner_content(|w| {
            xml::text_element(w, "serverType", &s.server_type)?;
            w.create_element("launchIca")
                .write_inner_content(|w| xml::text_element(w, "url", &s.launch_url))?;
            if let Some(v) = &s.initial_app {
                xml::text_element(w, "initialapp", v)?;
            }
            if let Some(v) = s.initial_app_resource_aggregated {
                xml::text_element(
                    w,
                    "initialappresourceaggregated",
                    if v { "true" } else { "false" },
                )?;
            }
            if let Some(v) = &s.initial_app_resource_id {
                xml::text_element(w, "initialappresourceid", v)?;
            }
            if let Some(v) = &s.publisher_name {
                xml::text_element(w, "publishername", v)?;
            }
            Ok(())
        })
        .map(|_| ())
}

/// Read a `sessionState` document. Unknown elements are ignored; a missing `enumeration`
/// counts as `full`; a session needs an `id`, each of its known children may appear once.
pub fn parse(body: &[u8]) -> Result<SessionState, DocumentError> {
    let mut cur = Cursor::new(body)?;
    let root = cur.root()?;
    if !root.is(ns::SESSION_STATE, "sessionState") {
        return Err(DocumentError::WrongRoot("sessionState"));
    }
    let enumeration = match root.attr("enumeration")?.as_deref() {
        None | Some("full") => Enumeration::Full,
        Some("partial") => Enumeration::Partial,
        Some(_) => return Err(DocumentError::BadValue("sessionState/@enumeration")),
    };
    let mut sessions = None;
    children(&mut cur, |cur, child| {
        if !child.is(ns::SESSION_STATE, "sessions") {
            return Ok(false);
        }
        if sessions.is_some() {
            return Err(DocumentError::Duplicate("sessions"));
        }
        let mut list = Vec::new();
        children(cur, |cur, child| {
            if !child.is(ns::SESSION_STATE, "session") {
                return Ok(false);
            }
            list.push(parse_session(cur, child)?);
            Ok(true)
        })?;
        sessions = Some(list);
        Ok(true)
    })?;
    cur.finish()?;
    Ok(SessionState {
        enumeration,
        sessions: sessions.unwrap_or_default(),
    })
}

fn parse_session(cur: &mut Cursor<'_>, start: &Element<'_>) -> Result<Session, DocumentError> {
    let id = start
        .attr("id")?
        .ok_or(DocumentError::Missing("session/@id"))?
        .into_owned();
    let (mut server_type, mut launch_url, mut initial_app) = (None, None, None);
    let (mut aggregated, mut resource_id, mut publisher) = (None, None, None);
    children(cur, |cur, child| {
        if child.ns != Some(ns::SESSION_STATE) {
            return Ok(false);
        }
        match child.local() {
            "serverType" => once(
                &mut server_type,
                leaf_text(cur, "serverType")?,
                "serverType",
            )?,
            "launchIca" => {
                let mut url = None;
                children(cur, |cur, child| {
                    if !child.is(ns::SESSION_STATE, "url") {
                        return Ok(false);
                    }
                    once(&mut url, leaf_text(cur, "launchIca/url")?, "launchIca/url")?;
                    Ok(true)
                })?;
                once(&mut launch_url, url.unwrap_or_default(), "launchIca")?;
            }
            "initialapp" => once(
                &mut initial_app,
                leaf_text(cur, "initialapp")?,
                "initialapp",
            )?,
            "initialappresourceaggregated" => {
                let value = match leaf_text(cur, "initialappresourceaggregated")?.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(DocumentError::BadValue("initialappresourceaggregated")),
                };
                once(&mut aggregated, value, "initialappresourceaggregated")?;
            }
            "initialappresourceid" => once(
                &mut resource_id,
                leaf_text(cur, "initialappresourceid")?,
                "initialappresourceid",
            )?,
            "publishername" => once(
                &mut publisher,
                leaf_text(cur, "publishername")?,
                "publishername",
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Session {
        id,
        server_type: server_type.unwrap_or_default(),
        launch_url: launch_url.unwrap_or_default(),
        initial_app,
        initial_app_resource_aggregated: aggregated,
        initial_app_resource_id: resource_id,
        publisher_name: publisher,
    })
}

/// Where the copy is in the document, for the elements that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Root,
    Sessions,
    /// A session, with its id.
    Session(String),
    LaunchIca,
    Other,
}

/// Copy a `sessionState` document unchanged, except that the text of every
/// `sessions/session/launchIca/url` becomes `url_for(session id)`.
pub fn rewrite_launch_urls(
    body: &[u8],
    url_for: &dyn Fn(&str) -> String,
) -> Result<Vec<u8>, DocumentError> {
    let enter = |path: &[Level], e: &Element<'_>| {
        let ours = e.ns == Some(ns::SESSION_STATE);
        Ok(Visit::Enter(match (path.last(), ours, e.local()) {
            (None, true, "sessionState") => Level::Root,
            (None, _, _) => return Err(DocumentError::WrongRoot("sessionState")),
            (Some(Level::Root), true, "sessions") => Level::Sessions,
            (Some(Level::Sessions), true, "session") => {
                let id = e.attr("id")?.ok_or(DocumentError::Missing("session/@id"))?;
                Level::Session(id.into_owned())
            }
            (Some(Level::Session(_)), true, "launchIca") => Level::LaunchIca,
            (Some(Level::LaunchIca), true, "url") => {
                return Ok(Visit::ReplaceText("launchIca/url"))
            }
            _ => Level::Other,
        }))
    };
    let replace = |path: &[Level], _old: &str| {
        // `enter` only asks for a replacement inside session/launchIca, so the id is there.
        let id = path.iter().rev().find_map(|l| match l {
            Level::Session(id) => Some(id.as_str()),
            _ => None,
        });
        url_for(id.unwrap_or_default())
    };
    xml::rewrite(body, enter, replace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::XmlError;

    const NS: &str = ns::SESSION_STATE;
    const SPEC: &[u8] =
        include_bytes!("../../tests/fixtures/storefront/sessionstate-available.xml");

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
            include_bytes!("../../tests/fixtures/storefront/sessionstate-spec-not-well-formed.xml");
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
        assert_eq!(parse(out.as_bytes()).unwrap(), state);
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
        assert_eq!(parse(&write(&bare)).unwrap(), bare);
        let empty = SessionState {
            enumeration: Enumeration::Full,
            sessions: vec![],
        };
        assert_eq!(parse(&write(&empty)).unwrap(), empty);
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
            r#"<s:sessionState xmlns:s="{NS}" enumeration="full"><s:sessions><s:session id="a&amp;b"><s:launchIca><s:url/></s:launchIca><!-- c --><s:launchIca><s:url>x&amp;<![CDATA[y]]></s:url></s:launchIca><url>not ours</url></s:session><s:session id="n"/></s:sessions><url>top</url></s:sessionState>"#
        );
        let out = rewrite_launch_urls(doc.as_bytes(), &|id| format!("https://gw/?id={id}&x=<1>"))
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                r#"<s:sessionState xmlns:s="{NS}" enumeration="full"><s:sessions><s:session id="a&amp;b"><s:launchIca><s:url>https://gw/?id=a&amp;b&amp;x=&lt;1&gt;</s:url></s:launchIca><!-- c --><s:launchIca><s:url>https://gw/?id=a&amp;b&amp;x=&lt;1&gt;</s:url></s:launchIca><url>not ours</url></s:session><s:session id="n"/></s:sessions><url>top</url></s:sessionState>"#
            )
        );
    }

    #[test]
    fn rewrite_refusals() {
        let no_id = format!(
            r#"<sessionState xmlns="{NS}"><sessions><session><launchIca><url>u</url></launchIca></session></sessions></sessionState>"#
        );
        assert_eq!(
            rewrite_launch_urls(no_id.as_bytes(), &public),
            Err(DocumentError::Missing("session/@id"))
        );
        assert_eq!(
            parse(no_id.as_bytes()),
            Err(DocumentError::Missing("session/@id"))
        );
        let wrong_root = r#"<sessionState xmlns="urn:x"/>"#;
        assert_eq!(
            rewrite_launch_urls(wrong_root.as_bytes(), &public),
            Err(DocumentError::WrongRoot("sessionState"))
        );
        assert_eq!(
            parse(b"<sessionState/>"),
            Err(DocumentError::WrongRoot("sessionState"))
        );
        let nested = format!(
            r#"<sessionState xmlns="{NS}"><sessions><session id="1"><launchIca><url><b/></url></launchIca></session></sessions></sessionState>"#
        );
        assert_eq!(
            rewrite_launch_urls(nested.as_bytes(), &public),
            Err(DocumentError::Unexpected("launchIca/url"))
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
        assert_eq!(
            rewrite_launch_urls(b"\xff\xfe<", &public),
            Err(DocumentError::Xml(XmlError::NotUtf8))
        );
    }

    #[test]
    fn parse_value_rules() {
        let doc = |inner: &str| {
            format!(
                r#"<sessionState xmlns="{NS}" enumeration="full"><sessions><session id="1">{inner}</session></sessions></sessionState>"#
            )
        };
        assert_eq!(
            parse(
                doc("<initialappresourceaggregated>maybe</initialappresourceaggregated>")
                    .as_bytes()
            ),
            Err(DocumentError::BadValue("initialappresourceaggregated"))
        );
        assert_eq!(
            parse(doc("<initialapp>a</initialapp><initialapp>b</initialapp>").as_bytes()),
            Err(DocumentError::Duplicate("initialapp"))
        );
        let s = parse(doc("<future>1</future><serverType>x</serverType>").as_bytes()).unwrap();
        assert_eq!(s.sessions[0].launch_url, "");
        assert_eq!(s.sessions[0].server_type, "x");
        assert_eq!(
            parse(format!(r#"<sessionState xmlns="{NS}" enumeration="some"/>"#).as_bytes()),
            Err(DocumentError::BadValue("sessionState/@enumeration"))
        );
    }
}
