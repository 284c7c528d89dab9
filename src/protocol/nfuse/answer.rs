//! What the relay reads of a broker's answer before passing it on unchanged: only whether its
//! `Response*` element holds an `<ErrorId>`, and which (a failed logon feeds the throttle).
//! Anything unreadable simply has none: the answer still goes to the client as sent.

use super::error_id::ErrorId;
use crate::protocol::xml::{self, Cursor, Nodes};

/// The `ErrorId` of `NFuseProtocol/Response*/ErrorId`, if the answer is readable and has one.
pub fn error_id_of(body: &[u8]) -> Option<ErrorId> {
    let text = xml::decode_legacy(body).ok()?;
    let mut cur = Cursor::from_text(&text).allow_doctype();
    let root = cur.root().ok()?;
    if root.namespaced || root.local() != "NFuseProtocol" || root.empty {
        return None;
    }
    let mut found = None;
    xml::walk_children::<xml::XmlError, _>(&mut cur, |cur, el| {
        if !el.local().starts_with("Response") || el.empty || found.is_some() {
            return Ok(false);
        }
        xml::walk_children::<xml::XmlError, _>(cur, |cur, child| {
            if child.local() != "ErrorId" || found.is_some() {
                return Ok(false);
            }
            found = cur.leaf()?.map(|t| ErrorId::parse(&t));
            Ok(true)
        })?;
        Ok(true)
    })
    .ok()?;
    found
}
