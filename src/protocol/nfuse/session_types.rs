//! The active-session safeguard's rewrite of a `RequestReconnectSessionData`: the request is
//! copied with its `SessionType` elements replaced by one `<SessionType>disconnected</SessionType>`
//! where the first of them stood.
//!
//! Replaced rather than removed: a request whose only `SessionType` was `active` would otherwise
//! name none, and nothing documents what a broker lists then; naming `disconnected` explicitly is
//! the one answer that cannot disconnect anything.
//!
//! The copy is written in UTF-8 under a declaration saying so (the client may have declared
//! ISO-8859-1, whose bytes the reader already decoded); everything else is copied as read.

use quick_xml::events::{BytesDecl, Event};
use quick_xml::Writer;

use super::inbound::InboundError;
use crate::protocol::xml::{self, copy, text_element, Cursor, Node, Nodes};

/// Depth of the `Request*` element's children (the root is depth 1).
const REQUEST_CHILD_DEPTH: usize = 3;

/// `body` (already accepted by [`super::parse_inbound`]) asking for disconnected sessions only.
pub fn only_disconnected(body: &[u8]) -> Result<Vec<u8>, InboundError> {
    let text = xml::decode_legacy(body)?;
    let mut cur = Cursor::from_text(&text).allow_doctype();
    let mut w = Writer::new(Vec::with_capacity(body.len() + 16));
    let io = |e: std::io::Error| InboundError::Xml(xml::XmlError::Malformed(e.to_string()));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    let (mut depth, mut replaced) = (0usize, false);
    loop {
        let node = cur.next_node()?;
        match &node {
            Node::Eof => break,
            Node::Other(Event::Decl(_)) => continue,
            Node::Start(el) if depth + 1 == REQUEST_CHILD_DEPTH && el.local() == "SessionType" => {
                cur.skip()?;
                if !std::mem::replace(&mut replaced, true) {
                    text_element(&mut w, "SessionType", "disconnected").map_err(io)?;
                }
                continue;
            }
            Node::Start(_) => depth += 1,
            Node::End(_) => depth = depth.saturating_sub(1),
            Node::Text { .. } | Node::Other(_) => {}
        }
        copy(&mut w, node).map_err(io)?;
    }
    Ok(w.into_inner())
}
