//! The `sessionparams` request body of `available`, `disconnect` and `logoff`: parse, validate,
//! and write back in canonical form.
//!
//! The gateway never forwards what the client sent: it forwards [`SessionParams::to_xml`], so
//! that only the known fields, checked, reach StoreFront (unknown elements are dropped, nothing
//! the gateway did not understand leaks through). Both root spellings exist in the wild —
//! `sessionparams` in the Store API documentation, `sessionParams` in Citrix's own PowerShell
//! client — and the canonical body keeps the client's spelling.

use super::ns;
use super::xml::{self, Cursor, Node, XmlError};

/// How the client spelled the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `sessionparams` (the Store API documentation).
    Lower,
    /// `sessionParams` (Citrix's PowerShell module).
    Camel,
}

impl Root {
    /// The element name.
    pub fn name(self) -> &'static str {
        match self {
            Root::Lower => "sessionparams",
            Root::Camel => "sessionParams",
        }
    }
}

/// A checked `sessionparams` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// Root spelling, kept for the canonical body.
    pub root: Root,
    /// `clientName`, trimmed.
    pub client_name: String,
    /// `deviceId`, trimmed; an empty element counts as absent.
    pub device_id: Option<String>,
    /// `includeActiveSessions`.
    pub include_active_sessions: Option<bool>,
    /// `appSessionsOnly`.
    pub app_sessions_only: Option<bool>,
    /// `tickets/ticket` (disconnect and logoff only), trimmed, in order.
    pub tickets: Vec<String>,
}

/// Size bounds of a `sessionparams` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest `clientName` / `deviceId`, in characters.
    pub max_name_len: usize,
    /// Most tickets in one request.
    pub max_tickets: usize,
    /// Longest ticket, in characters.
    pub max_ticket_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_len: 256,
            max_tickets: 16,
            max_ticket_len: 256,
        }
    }
}

/// Why a `sessionparams` (or `launchparams`) body was refused. The message is a sentence for
/// the client; [`ParamsError::reason`] is the machine-readable class.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParamsError {
    /// Not readable as XML, forbidden markup, or beyond the reader's bounds.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Wrong root element or namespace; holds what was expected.
    #[error("the root element must be {0}")]
    WrongRoot(&'static str),
    /// A required element is absent.
    #[error("element {0} is required")]
    Missing(&'static str),
    /// An element that may appear once appears again.
    #[error("element {0} appears more than once")]
    Duplicate(&'static str),
    /// Child elements inside an element that holds text.
    #[error("element {0} must contain text only")]
    NotText(&'static str),
    /// Non-whitespace text directly inside an element that holds elements.
    #[error("element {0} must contain elements only")]
    StrayText(&'static str),
    /// A boolean other than `true` / `false`.
    #[error("element {0} must be exactly true or false")]
    NotBoolean(&'static str),
    /// An empty (or all-whitespace) value where one is required.
    #[error("element {0} must not be empty")]
    Empty(&'static str),
    /// NUL, CR, LF or another control character.
    #[error("element {0} must not contain control characters (NUL, CR, LF and the like)")]
    ControlChar(&'static str),
    /// A value longer than allowed.
    #[error("element {0} is longer than {1} characters")]
    TooLong(&'static str, usize),
    /// `tickets` in an `available` request.
    #[error("element tickets is only allowed in disconnect and logoff requests")]
    TicketsNotAllowed,
    /// More tickets than [`Limits::max_tickets`].
    #[error("element tickets holds more than {0} tickets")]
    TooManyTickets(usize),
    /// A ticket with a character outside visible ASCII.
    #[error("element ticket must contain visible ASCII characters only")]
    BadTicket,
}

impl ParamsError {
    /// The machine-readable class of the refusal: `body_malformed` (not well-formed, not
    /// UTF-8), `body_forbidden_markup` (DOCTYPE, entity, processing instruction) or
    /// `body_invalid` (everything else: root, fields, limits).
    pub fn reason(&self) -> &'static str {
        match self {
            ParamsError::Xml(e) if e.is_forbidden() => "body_forbidden_markup",
            ParamsError::Xml(e) if e.is_limit() => "body_invalid",
            ParamsError::Xml(_) => "body_malformed",
            _ => "body_invalid",
        }
    }
}

const ROOT: &str =
    "sessionparams or sessionParams in namespace http://citrix.com/delivery-services/1-0/sessionparams";

/// Parse and check a `sessionparams` body. `allow_tickets` is true for disconnect and logoff.
pub fn parse(
    body: &[u8],
    allow_tickets: bool,
    limits: &Limits,
) -> Result<SessionParams, ParamsError> {
    let mut cur = Cursor::new(body)?;
    let root_element = cur.root()?;
    let root = match (root_element.ns, root_element.local()) {
        (Some(ns::SESSION_PARAMS), "sessionparams") => Root::Lower,
        (Some(ns::SESSION_PARAMS), "sessionParams") => Root::Camel,
        _ => return Err(ParamsError::WrongRoot(ROOT)),
    };
    let mut seen = Seen::default();
    let mut client_name = None;
    let mut params = SessionParams {
        root,
        client_name: String::new(),
        device_id: None,
        include_active_sessions: None,
        app_sessions_only: None,
        tickets: Vec::new(),
    };
    loop {
        match cur.next_node()? {
            Node::Start(child) if child.ns == Some(ns::SESSION_PARAMS) => match child.local() {
                "clientName" => {
                    once(&mut seen.client_name, "clientName")?;
                    let value = leaf(&mut cur, "clientName")?;
                    client_name = Some(check_name("clientName", &value, limits)?.to_string());
                }
                "deviceId" => {
                    once(&mut seen.device_id, "deviceId")?;
                    let value = leaf(&mut cur, "deviceId")?;
                    if !value.trim_matches(xml::is_xml_space).is_empty() {
                        params.device_id =
                            Some(check_name("deviceId", &value, limits)?.to_string());
                    }
                }
                "includeActiveSessions" => {
                    once(&mut seen.include_active_sessions, "includeActiveSessions")?;
                    params.include_active_sessions =
                        Some(boolean(&mut cur, "includeActiveSessions")?);
                }
                "appSessionsOnly" => {
                    once(&mut seen.app_sessions_only, "appSessionsOnly")?;
                    params.app_sessions_only = Some(boolean(&mut cur, "appSessionsOnly")?);
                }
                "tickets" if !allow_tickets => return Err(ParamsError::TicketsNotAllowed),
                "tickets" => {
                    once(&mut seen.tickets, "tickets")?;
                    params.tickets = tickets(&mut cur, limits)?;
                }
                // An unknown element of our namespace: ignored, and not forwarded.
                _ => cur.skip()?,
            },
            // Elements of other namespaces are extensions we do not know: ignored as well.
            Node::Start(_) => cur.skip()?,
            Node::Text { text, .. } => stray_text(&text, root.name())?,
            Node::End(_) => break,
            Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
    cur.finish()?;
    params.client_name = client_name.ok_or(ParamsError::Missing("clientName"))?;
    Ok(params)
}

impl SessionParams {
    /// The canonical body: XML declaration, the client's root spelling with the default
    /// namespace, then clientName, deviceId, includeActiveSessions, appSessionsOnly,
    /// tickets/ticket — the ones present, no indentation.
    pub fn to_xml(&self) -> Vec<u8> {
        xml::document(|w| {
            w.create_element(self.root.name())
                .with_attribute(("xmlns", ns::SESSION_PARAMS))
                .write_inner_content(|w| {
                    xml::text_element(w, "clientName", &self.client_name)?;
                    if let Some(device_id) = &self.device_id {
                        xml::text_element(w, "deviceId", device_id)?;
                    }
                    if let Some(v) = self.include_active_sessions {
                        xml::text_element(w, "includeActiveSessions", bool_text(v))?;
                    }
                    if let Some(v) = self.app_sessions_only {
                        xml::text_element(w, "appSessionsOnly", bool_text(v))?;
                    }
                    if !self.tickets.is_empty() {
                        w.create_element("tickets").write_inner_content(|w| {
                            self.tickets
                                .iter()
                                .try_for_each(|t| xml::text_element(w, "ticket", t))
                        })?;
                    }
                    Ok(())
                })
                .map(|_| ())
        })
    }
}

/// Which known elements were already read (each may appear once).
#[derive(Default)]
struct Seen {
    client_name: bool,
    device_id: bool,
    include_active_sessions: bool,
    app_sessions_only: bool,
    tickets: bool,
}

fn once(seen: &mut bool, name: &'static str) -> Result<(), ParamsError> {
    if std::mem::replace(seen, true) {
        return Err(ParamsError::Duplicate(name));
    }
    Ok(())
}

/// The text of the element just started; child elements are refused.
fn leaf(cur: &mut Cursor<'_>, name: &'static str) -> Result<String, ParamsError> {
    cur.leaf()?.ok_or(ParamsError::NotText(name))
}

fn stray_text(text: &str, parent: &'static str) -> Result<(), ParamsError> {
    if text.trim_matches(xml::is_xml_space).is_empty() {
        Ok(())
    } else {
        Err(ParamsError::StrayText(parent))
    }
}

/// A client name or device id: trimmed, non-empty, no control character, bounded.
pub(crate) fn check_name<'v>(
    name: &'static str,
    value: &'v str,
    limits: &Limits,
) -> Result<&'v str, ParamsError> {
    let value = value.trim_matches(xml::is_xml_space);
    if value.is_empty() {
        return Err(ParamsError::Empty(name));
    }
    check_text(name, value, limits.max_name_len)?;
    Ok(value)
}

/// No control character (NUL, CR, LF, DEL, C1 ...), at most `max` characters.
pub(crate) fn check_text(name: &'static str, value: &str, max: usize) -> Result<(), ParamsError> {
    if value.chars().any(char::is_control) {
        return Err(ParamsError::ControlChar(name));
    }
    if value.chars().count() > max {
        return Err(ParamsError::TooLong(name, max));
    }
    Ok(())
}

fn boolean(cur: &mut Cursor<'_>, name: &'static str) -> Result<bool, ParamsError> {
    match leaf(cur, name)?.trim_matches(xml::is_xml_space) {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ParamsError::NotBoolean(name)),
    }
}

fn bool_text(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

/// The `ticket` children of the `tickets` element just started.
fn tickets(cur: &mut Cursor<'_>, limits: &Limits) -> Result<Vec<String>, ParamsError> {
    let mut tickets = Vec::new();
    loop {
        match cur.next_node()? {
            Node::Start(child) if child.is(ns::SESSION_PARAMS, "ticket") => {
                if tickets.len() >= limits.max_tickets {
                    return Err(ParamsError::TooManyTickets(limits.max_tickets));
                }
                let value = leaf(cur, "ticket")?;
                let value = value.trim_matches(xml::is_xml_space);
                if value.is_empty() {
                    return Err(ParamsError::Empty("ticket"));
                }
                if !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ParamsError::BadTicket);
                }
                if value.len() > limits.max_ticket_len {
                    return Err(ParamsError::TooLong("ticket", limits.max_ticket_len));
                }
                tickets.push(value.to_string());
            }
            Node::Start(_) => cur.skip()?,
            Node::Text { text, .. } => stray_text(&text, "tickets")?,
            Node::End(_) => return Ok(tickets),
            Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = ns::SESSION_PARAMS;

    fn ok(body: &str, tickets: bool) -> SessionParams {
        parse(body.as_bytes(), tickets, &Limits::default())
            .unwrap_or_else(|e| panic!("{body}: {e}"))
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
        let body = include_bytes!("../../tests/fixtures/storefront/sessionparams-available.xml");
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
        let body = include_bytes!("../../tests/fixtures/storefront/sessionparams-disconnect.xml");
        let p = parse(body, true, &Limits::default()).unwrap();
        assert_eq!(
            p.tickets,
            vec!["85EB92973D2C3804F93A99AAEC232D".to_string()]
        );
        let body = include_bytes!("../../tests/fixtures/storefront/sessionparams-logoff.xml");
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
        let none = "<sessionparams><clientName>C</clientName></sessionparams>";
        assert_eq!(err(none, false), ParamsError::WrongRoot(ROOT));
        let other =
            r#"<sessionparams xmlns="urn:other"><clientName>C</clientName></sessionparams>"#;
        assert_eq!(err(other, false), ParamsError::WrongRoot(ROOT));
        assert_eq!(
            err(&doc("SessionParams", "<clientName>C</clientName>"), false).reason(),
            "body_invalid"
        );
        // Children in another namespace are unknown elements: clientName is then missing.
        let foreign_child = format!(
            r#"<sessionparams xmlns="{NS}"><clientName xmlns="urn:x">C</clientName></sessionparams>"#
        );
        assert_eq!(
            err(&foreign_child, false),
            ParamsError::Missing("clientName")
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
        assert_eq!(name("   "), ParamsError::Empty("clientName"));
        assert_eq!(name(""), ParamsError::Empty("clientName"));
        assert_eq!(name("a\nb"), ParamsError::ControlChar("clientName"));
        assert_eq!(name("a&#10;b"), ParamsError::ControlChar("clientName"));
        assert_eq!(name("a&#13;b"), ParamsError::ControlChar("clientName"));
        assert_eq!(name("a\u{7f}b"), ParamsError::ControlChar("clientName"));
        assert_eq!(name("a\u{85}b"), ParamsError::ControlChar("clientName"));
        // NUL cannot even be written as a reference; as a raw byte it is a control character.
        assert!(matches!(name("a&#0;b"), ParamsError::Xml(_)));
        assert_eq!(name("a\0b"), ParamsError::ControlChar("clientName"));
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
            name(&"x".repeat(257)),
            ParamsError::TooLong("clientName", 256)
        );
        assert_eq!(name("<b/>"), ParamsError::NotText("clientName"));
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
                    "<clientName>C</clientName><deviceId>a\u{1}</deviceId>"
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
            parse(doc("sessionparams", &format!("<clientName>C</clientName><includeActiveSessions>{v}</includeActiveSessions>")).as_bytes(), false, &Limits::default())
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
        assert_eq!(
            t(" <ticket> A1 </ticket> ").unwrap().tickets,
            vec!["A1".to_string()]
        );
        assert_eq!(t("").unwrap().tickets, Vec::<String>::new());
        let sixteen = "<ticket>T</ticket>".repeat(16);
        assert_eq!(t(&sixteen).unwrap().tickets.len(), 16);
        let seventeen = "<ticket>T</ticket>".repeat(17);
        assert_eq!(t(&seventeen).unwrap_err(), ParamsError::TooManyTickets(16));
        assert_eq!(
            t("<ticket></ticket>").unwrap_err(),
            ParamsError::Empty("ticket")
        );
        assert_eq!(
            t("<ticket>a b</ticket>").unwrap_err(),
            ParamsError::BadTicket
        );
        assert_eq!(t("<ticket>é</ticket>").unwrap_err(), ParamsError::BadTicket);
        assert_eq!(
            t(&format!("<ticket>{}</ticket>", "A".repeat(257))).unwrap_err(),
            ParamsError::TooLong("ticket", 256)
        );
        assert_eq!(
            t("junk<ticket>A</ticket>").unwrap_err(),
            ParamsError::StrayText("tickets")
        );
        assert_eq!(
            t("<ticket><b/></ticket>").unwrap_err(),
            ParamsError::NotText("ticket")
        );
        // Unknown elements among the tickets are ignored.
        assert_eq!(
            t("<x>y</x><ticket>A</ticket>").unwrap().tickets,
            vec!["A".to_string()]
        );
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
}
