//! The scanner's reader hands out the `Cursor`'s nodes for documents in the subset, and fails on
//! everything outside it.

use quick_xml::events::Event;

use super::super::{Cursor, Node, Nodes, XmlError};
use super::ScanCursor;

/// A node as both readers must agree on it; text runs are joined, because the `Cursor` splits
/// them at references.
#[derive(Debug, PartialEq)]
enum Seen {
    Start(Option<&'static str>, bool, String, bool),
    End(Option<String>),
    Text(String),
    /// A document type declaration's content; anything else outside the tree is `None`.
    Other(Option<String>),
    Eof,
}

fn nodes<'i>(reader: &mut impl Nodes<'i>) -> Result<Vec<Seen>, XmlError> {
    let mut seen = Vec::new();
    loop {
        let node = match reader.next_node()? {
            Node::Start(e) => Seen::Start(e.ns, e.namespaced, e.local().to_string(), e.empty),
            Node::End(end) => Seen::End(end.map(|e| AsRef::<str>::as_ref(&e).to_string())),
            Node::Text { text, .. } => match seen.last_mut() {
                Some(Seen::Text(run)) => {
                    run.push_str(&text);
                    continue;
                }
                _ => Seen::Text(text.into_owned()),
            },
            Node::Other(Event::DocType(d)) => Seen::Other(Some(d.into_inner().into_owned())),
            Node::Other(_) => Seen::Other(None),
            Node::Eof => Seen::Eof,
        };
        let done = node == Seen::Eof;
        seen.push(node);
        if done {
            return Ok(seen);
        }
    }
}

fn scanned(doc: &str) -> Result<Vec<Seen>, XmlError> {
    let mut fast = ScanCursor::new(doc.as_bytes()).ok_or(XmlError::NotUtf8)?;
    nodes(&mut fast)
}

#[test]
fn documents_in_the_subset_give_the_cursors_nodes() {
    for doc in [
        "<a/>",
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<a>\n</a>\n",
        "<sessionparams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\">\
         <clientName> W&amp;1&#x41;&#66; </clientName><tickets><ticket>T</ticket></tickets>\
         <x xmlns=\"urn:other\"><y/></x><deviceId></deviceId></sessionparams>",
        "<a b='1' c=\"2\"><b xmlns=''>text</b ></a>",
    ] {
        let slow = nodes(&mut Cursor::new(doc.as_bytes()).unwrap()).unwrap();
        let fast = scanned(doc).unwrap_or_else(|e| panic!("the scanner gives up on {doc:?}: {e}"));
        assert_eq!(fast, slow, "{doc:?}");
    }
}

#[test]
fn the_namespace_of_ours_is_resolved_and_an_empty_tag_is_closed() {
    let doc = "<sessionParams xmlns=\"http://citrix.com/delivery-services/1-0/sessionparams\"/>";
    let seen = scanned(doc).unwrap();
    assert_eq!(
        seen,
        vec![
            Seen::Start(
                Some(crate::protocol::ns::SESSION_PARAMS),
                true,
                "sessionParams".into(),
                true
            ),
            Seen::End(None),
            Seen::Eof,
        ]
    );
}

#[test]
fn everything_outside_the_subset_fails_whatever_the_cursor_says() {
    for doc in [
        // The Cursor reads these; the scanner leaves them to it.
        "<a><!-- c --></a>",
        "<a><![CDATA[x]]></a>",
        "<p:a xmlns:p=\"urn:x\"/>",
        "<a>&#xD;\t</a>\n<!-- after -->",
        // And refuses these.
        "<!DOCTYPE a><a/>",
        "<a><?pi x?></a>",
        "<a></b>",
        "<a>&ent;</a>",
        "<a>",
        "<a/><b/>",
        "text<a/>",
    ] {
        assert!(scanned(doc).is_err(), "{doc:?}");
    }
    assert!(ScanCursor::new(b"\xff<a/>").is_none());
}

#[test]
fn a_plain_doctype_is_handed_out_when_allowed_as_by_the_cursor() {
    for doc in [
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\n<NFuseProtocol version=\"4.7\"/>",
        "<!DOCTYPE  NFuseProtocol\n  SYSTEM 'NFuse.dtd' ><NFuseProtocol></NFuseProtocol>",
        "<!DOCTYPE NFuseProtocol><NFuseProtocol/>",
    ] {
        let slow = nodes(&mut Cursor::from_text(doc).allow_doctype()).unwrap();
        let mut fast = ScanCursor::from_text(doc).unwrap().allow_doctype();
        assert_eq!(nodes(&mut fast).unwrap(), slow, "{doc:?}");
        // Not allowed: the scanner gives up, as the Cursor refuses.
        assert!(scanned(doc).is_err(), "{doc:?}");
    }
}
