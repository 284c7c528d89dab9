//! The answer documents of the simulated broker, written with quick-xml: the NFuse envelope a
//! farm of each era writes (version, encoding, CRLF lines, DOCTYPE) and one document per
//! answer.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::state::Listed;
use crate::protocol::xml::{self, XmlWriter};

/// Longest `Request*` element name mirrored into a `Response*` name.
const MAX_KIND_LEN: usize = 64;
/// [I] The element an error is wrapped in when the request names no `Request*` element: no
/// source shows what a broker answers to an unreadable body.
const GENERIC_RESPONSE: &str = "Response";

/// The `Response*` element answering `kind`.
pub(super) fn response_name(kind: &str) -> String {
    match kind.strip_prefix("Request") {
        Some(rest) if !kind.is_empty() && kind.len() <= MAX_KIND_LEN => format!("Response{rest}"),
        _ => GENERIC_RESPONSE.to_string(),
    }
}

/// The NFuse envelope: declaration, DOCTYPE and `NFuseProtocol` on their own lines (CRLF, as the
/// captures show), then whatever `body` writes. A pre-XenDesktop-7 farm speaks 4.7 in
/// ISO-8859-1, a later one 5.2 in UTF-8 ([I] which dialects and encodings exactly: PS 4.5 FP1
/// answered 4.7, XA6/XD4 answered 5.2; nmap and old brokers declare ISO-8859-1).
pub(super) fn envelope(
    pre_xd7: bool,
    body: impl FnOnce(&mut XmlWriter) -> io::Result<()>,
) -> Vec<u8> {
    let (version, encoding) = if pre_xd7 {
        ("4.7", "ISO-8859-1")
    } else {
        ("5.2", "UTF-8")
    };
    let mut w = Writer::new(Vec::with_capacity(512));
    let crlf = || Event::Text(BytesText::from_escaped("\r\n"));
    let written = w
        .write_event(Event::Decl(BytesDecl::new("1.0", Some(encoding), None)))
        .and_then(|()| w.write_event(crlf()))
        .and_then(|()| {
            w.write_event(Event::DocType(BytesText::from_escaped(
                "NFuseProtocol SYSTEM \"NFuse.dtd\"",
            )))
        })
        .and_then(|()| w.write_event(crlf()))
        .and_then(|()| {
            w.create_element("NFuseProtocol")
                .with_attribute(("version", version))
                .write_inner_content(body)
                .map(|_| ())
        });
    // Writing into a Vec cannot fail; the result only exists because `Write` is generic.
    debug_assert!(written.is_ok());
    let utf8 = w.into_inner();
    if pre_xd7 {
        latin1(utf8)
    } else {
        utf8
    }
}

/// Re-encode a document the writer produced (UTF-8) as ISO-8859-1. Characters beyond U+00FF can
/// only be in text or attribute values (every name written is ASCII), where a character
/// reference means the same.
fn latin1(utf8: Vec<u8>) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(&utf8) else {
        return utf8;
    };
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => out.push(b),
            Err(_) => out.extend_from_slice(format!("&#{};", u32::from(c)).as_bytes()),
        }
    }
    out
}

/// `<Response…><ErrorId>id</ErrorId></Response…>`.
pub(super) fn error_document(pre_xd7: bool, kind: &str, error_id: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element(response_name(kind))
            .write_inner_content(|w| xml::text_element(w, "ErrorId", error_id))
            .map(|_| ())
    })
}

/// A `Response*` element with nothing inside (success of disconnect and logoff).
pub(super) fn empty_document(pre_xd7: bool, kind: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element(response_name(kind))
            .write_inner_content(|_| Ok(()))
            .map(|_| ())
    })
}

pub(super) fn farm_data_document(pre_xd7: bool, name: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseServerFarmData")
            .write_inner_content(|w| {
                w.create_element("ServerFarmData")
                    .write_inner_content(|w| xml::text_element(w, "ServerFarmName", name))
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

pub(super) fn reconnect_data_document(pre_xd7: bool, listed: &[Listed]) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseReconnectSessionData")
            .write_inner_content(|w| {
                if listed.is_empty() {
                    return Ok(());
                }
                w.create_element("AppDataSet")
                    .write_inner_content(|w| {
                        for s in listed {
                            app_data(w, s)?;
                        }
                        Ok(())
                    })
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn app_data(w: &mut XmlWriter, s: &Listed) -> io::Result<()> {
    w.create_element("AppData")
        .with_attribute(("type", "session"))
        .write_inner_content(|w| {
            xml::text_element(w, "InName", &s.app)?;
            w.create_element("DataType")
                .with_attribute(("value", "session"))
                .write_empty()?;
            xml::text_element(w, "ServerType", "win32")?;
            xml::text_element(w, "ClientType", "ica30")?;
            w.create_element("HostId")
                .with_attribute(("type", "ima-host-id"))
                .write_text_content(BytesText::new(&s.host_id.to_string()))?;
            xml::text_element(w, "SessionId", &s.session_id.to_string())
        })
        .map(|_| ())
}

pub(super) fn address_document(
    pre_xd7: bool,
    server: &str,
    host_id: u32,
    disconnected: bool,
) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseAddress")
            .write_inner_content(|w| {
                w.create_element("ServerAddress")
                    .with_attribute(("addresstype", "dot-port"))
                    .write_text_content(BytesText::new(server))?;
                xml::text_element(w, "ServerType", "win32")?;
                xml::text_element(w, "ConnectionType", "tcp")?;
                xml::text_element(w, "ClientType", "ica30")?;
                xml::text_element(w, "TicketTag", &format!("IMAHostId:{host_id}"))?;
                w.create_element("CGPAddress")
                    .with_attribute(("addresstype", "port"))
                    .write_text_content(BytesText::new("2598"))?;
                if disconnected {
                    w.create_element("DisconnectedSession").write_empty()?;
                }
                Ok(())
            })
            .map(|_| ())
    })
}

pub(super) fn ticket_document(pre_xd7: bool, ticket: &str) -> Vec<u8> {
    envelope(pre_xd7, |w| {
        w.create_element("ResponseTicket")
            .write_inner_content(|w| xml::text_element(w, "Ticket", ticket))
            .map(|_| ())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn envelope_and_encoding() {
        let doc = farm_data_document(false, "Farm\u{2014}");
        let text = String::from_utf8(doc).unwrap();
        assert!(text.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol version=\"5.2\">"
        ));
        assert!(text.contains("<ServerFarmName>Farm\u{2014}</ServerFarmName>"));
        let doc = farm_data_document(true, "Soci\u{e9}t\u{e9}\u{2014}");
        assert!(doc.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n"));
        let needle = b"<ServerFarmName>Soci\xe9t\xe9&#8212;</ServerFarmName>";
        assert!(doc.windows(needle.len()).any(|w| w == needle));
        assert!(String::from_utf8(doc).is_err());
    }

    #[test]
    fn response_names() {
        assert_eq!(response_name("RequestAddress"), "ResponseAddress");
        assert_eq!(response_name(""), GENERIC_RESPONSE);
        assert_eq!(
            response_name(&format!("Request{}", "x".repeat(80))),
            GENERIC_RESPONSE
        );
    }
}
