//! The scanner (`scan.rs`) as a [`Nodes`] reader, so that a document is read by the same code on
//! either path.
//!
//! A `sessionparams` body is read on every Sessions Service call, and a broker's answer once per
//! farm of a listing; through the [`Cursor`] the reading was most of their cost. A document in
//! the scanner's subset is read here at a fraction of that; a document outside it makes this
//! reader fail, and the caller reads it again with the `Cursor`. The error this reader gives is never shown: the `Cursor` decides every refusal and
//! names it, so that what a client is told never depends on the path (the caller's contract).

use quick_xml::escape::unescape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::scan::{Scanner, Token};
use super::{decode, Node, Nodes, XmlError};

/// A [`Nodes`] reader over the scanner's subset of XML; see the module documentation.
pub struct ScanCursor<'i> {
    scan: Scanner<'i>,
    /// The XML declaration's content (`xml version="1.0" …`), handed out first as a
    /// [`Node::Other`], as from the `Cursor`.
    declaration: Option<&'i str>,
    /// An empty-element tag was handed out: its [`Node::End`]`(None)` comes next, as from the
    /// `Cursor`.
    pending_end: bool,
}

impl<'i> ScanCursor<'i> {
    /// A reader over `body`, or `None` when its start already lies outside the subset (not
    /// UTF-8, a declaration the scanner does not read).
    pub fn new(body: &'i [u8]) -> Option<Self> {
        ScanCursor::from_text(decode(body).ok()?)
    }

    /// A reader over text already decoded (as by [`decode_legacy`](super::decode_legacy)).
    pub fn from_text(text: &'i str) -> Option<Self> {
        let scan = Scanner::new(text).ok()?;
        // The scanner has read the declaration, `<?…?>`, if there is one.
        let declaration = scan
            .position()
            .checked_sub(2)
            .and_then(|end| text.get(2..end));
        Some(ScanCursor {
            scan,
            declaration,
            pending_end: false,
        })
    }
}

impl ScanCursor<'_> {
    /// Accept one `<!DOCTYPE …>` before the root, as [`Cursor::allow_doctype`](super::Cursor::allow_doctype)
    /// does, in the plain form legacy brokers send (no internal subset, no markup in literals).
    pub fn allow_doctype(mut self) -> Self {
        self.scan.allow_doctype();
        self
    }
}

/// The placeholder for "outside the subset": never shown (see the module documentation).
fn outside<E>(_: E) -> XmlError {
    XmlError::Malformed("outside the scanner's subset".into())
}

impl<'i> Nodes<'i> for ScanCursor<'i> {
    fn next_node(&mut self) -> Result<Node<'i>, XmlError> {
        if let Some(content) = self.declaration.take() {
            let start = BytesStart::from_content(content, 3);
            return Ok(Node::Other(Event::Decl(BytesDecl::from_start(start))));
        }
        if std::mem::take(&mut self.pending_end) {
            return Ok(Node::End(None));
        }
        match self.scan.next_token().map_err(outside)? {
            Token::Start { element, .. } => {
                self.pending_end = element.empty;
                Ok(Node::Start(element))
            }
            Token::End(name) => Ok(Node::End(Some(BytesEnd::new(name)))),
            // Outside the root the scanner has let whitespace through, and nothing else.
            Token::Text(raw) if self.scan.depth() == 0 => {
                Ok(Node::Other(Event::Text(BytesText::from_escaped(raw))))
            }
            Token::Text(raw) => Ok(Node::Text {
                text: unescape(raw).map_err(outside)?,
                event: Event::Text(BytesText::from_escaped(raw)),
            }),
            Token::Doctype(content) => Ok(Node::Other(Event::DocType(BytesText::from_escaped(
                content,
            )))),
            Token::Eof => Ok(Node::Eof),
        }
    }
}

#[cfg(test)]
mod tests;
