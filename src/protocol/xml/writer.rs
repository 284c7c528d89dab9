//! Writing documents: quick-xml's escaping [`Writer`], whole documents, and the copy of a read
//! document with chosen text values replaced (how the gateway rewrites launch and endpoint URLs).

use std::borrow::Cow;
use std::io;

use quick_xml::escape::escape;
use quick_xml::events::{BytesText, Event};
use quick_xml::Writer;

use super::scan::{Scanner, Token, Unsupported};
use super::{leaf_text, Cursor, DocumentError, Element, Node, Nodes, XmlError};

/// The output of the writers.
pub type XmlWriter = Writer<Vec<u8>>;

/// A complete document: the [`DECLARATION`], then whatever `body` writes, without indentation.
pub fn document(body: impl FnOnce(&mut XmlWriter) -> io::Result<()>) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(DECLARATION.as_bytes());
    let mut w = Writer::new(out);
    let written = body(&mut w);
    // Writing into a Vec cannot fail; the result only exists because `Write` is generic.
    debug_assert!(written.is_ok());
    w.into_inner()
}

/// `<name>text</name>`, text escaped (a CR is written as `&#13;` so that it survives a
/// conforming reader).
pub fn text_element(w: &mut XmlWriter, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))
        .map(|_| ())
}

/// The XML declaration [`document`] writes.
pub const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;

/// Append `<name>text</name>` to `out`: the bytes [`text_element`] writes, without a writer.
/// For the small flat documents written on every request (the canonical `sessionparams`), where
/// quick-xml's writer was a third of the work.
pub fn push_text_element(out: &mut Vec<u8>, name: &str, text: &str) {
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    out.extend_from_slice(escape(text).as_bytes());
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// Writing into a `Vec` cannot fail, but `Writer` is generic over `Write`: should it ever
/// happen, the document is refused rather than truncated.
pub fn write_error(e: io::Error) -> DocumentError {
    XmlError::Malformed(e.to_string()).into()
}

/// What [`rewrite`] does with an element it meets.
pub enum Visit<L> {
    /// Copy it; `L` describes it to the visits of its children.
    Enter(L),
    /// Replace its content, which must be text only (`what` names it in the error otherwise).
    ReplaceText(&'static str),
}

/// Copy `body` unchanged except for the text of some elements: `enter` sees every start tag with
/// the levels of its ancestors (empty for the root) and decides; for an element to replace,
/// `replace` gets the ancestors' levels and the old text and returns the new one, which is
/// written escaped. This is how the gateway rewrites the URLs of StoreFront's answers.
///
/// What is kept is copied from the input as spans of bytes rather than written again event by
/// event: the bytes are the ones the server sent (after its BOM). The document is read by the
/// scanner (`xml/scan.rs`) when it lies in the subset StoreFront writes, and otherwise (or when
/// `enter` refuses it) by the [`Cursor`], which names the error.
pub fn rewrite<L>(
    body: &[u8],
    enter: impl Fn(&[L], &Element<'_>) -> Result<Visit<L>, DocumentError>,
    replace: impl Fn(&[L], &str) -> String,
) -> Result<Vec<u8>, DocumentError> {
    match rewrite_by_scanner(body, &enter, &replace) {
        Ok(out) => Ok(out),
        Err(Unsupported) => rewrite_by_cursor(body, enter, replace),
    }
}

/// [`rewrite`]'s two readers each alone: the scanner's result (`None` when it gave the document
/// up) and the `Cursor`'s. For the tests and the differential fuzz property that hold the
/// scanner to the `Cursor`'s output.
pub fn rewrite_each<L>(
    body: &[u8],
    enter: impl Fn(&[L], &Element<'_>) -> Result<Visit<L>, DocumentError>,
    replace: impl Fn(&[L], &str) -> String,
) -> (Option<Vec<u8>>, Result<Vec<u8>, DocumentError>) {
    let scanned = rewrite_by_scanner(body, &enter, &replace).ok();
    (scanned, rewrite_by_cursor(body, enter, replace))
}

/// The fast path: the same copy through the [`Scanner`]. An error of `enter` is left to the
/// `Cursor` to give, so that an error never depends on the path.
fn rewrite_by_scanner<L>(
    body: &[u8],
    enter: &impl Fn(&[L], &Element<'_>) -> Result<Visit<L>, DocumentError>,
    replace: &impl Fn(&[L], &str) -> String,
) -> Result<Vec<u8>, Unsupported> {
    let text = super::decode(body).map_err(|_| Unsupported)?;
    let source = text.as_bytes();
    let mut scan = Scanner::new(text)?;
    let mut out = Vec::with_capacity(body.len() + body.len() / 4);
    let mut copied = 0;
    let mut path: Vec<L> = Vec::with_capacity(8);
    loop {
        match scan.next_token()? {
            Token::Start { markup, element } => match enter(&path, &element) {
                Ok(Visit::Enter(_)) if element.empty => {}
                Ok(Visit::Enter(level)) => path.push(level),
                Ok(Visit::ReplaceText(_)) => {
                    let old = if element.empty {
                        Cow::Borrowed("")
                    } else {
                        scan.leaf()?
                    };
                    out.extend_from_slice(source.get(copied..markup).ok_or(Unsupported)?);
                    write_with_text(&mut out, &element, &replace(&path, &old));
                    copied = scan.position();
                }
                Err(_) => return Err(Unsupported),
            },
            Token::End(_) => {
                path.pop();
            }
            Token::Text(_) => {}
            // Not allowed on this path: the scanner never gives one.
            Token::Doctype(_) => return Err(Unsupported),
            Token::Eof => break,
        }
    }
    out.extend_from_slice(source.get(copied..).ok_or(Unsupported)?);
    Ok(out)
}

/// The reference path: every node read (and so checked) by the [`Cursor`].
fn rewrite_by_cursor<L>(
    body: &[u8],
    enter: impl Fn(&[L], &Element<'_>) -> Result<Visit<L>, DocumentError>,
    replace: impl Fn(&[L], &str) -> String,
) -> Result<Vec<u8>, DocumentError> {
    let mut cur = Cursor::new(body)?;
    let source = cur.source().as_bytes();
    let mut out = Vec::with_capacity(body.len() + body.len() / 4);
    // Input up to here is in `out` already.
    let mut copied = 0;
    // The open elements' levels; never deeper than the reader's bound.
    let mut path: Vec<L> = Vec::with_capacity(8);
    loop {
        let markup = cur.position();
        match cur.next_node()? {
            Node::Start(e) => match enter(&path, &e)? {
                Visit::Enter(level) => path.push(level),
                Visit::ReplaceText(what) => {
                    let old = leaf_text(&mut cur, what)?;
                    out.extend_from_slice(span(source, copied, markup)?);
                    write_with_text(&mut out, &e, &replace(&path, &old));
                    copied = cur.position();
                }
            },
            Node::End(_) => {
                path.pop();
            }
            Node::Eof => break,
            Node::Text { .. } | Node::Other(_) => {}
        }
    }
    out.extend_from_slice(span(source, copied, source.len())?);
    Ok(out)
}

/// `source[from..to]`; positions come from the reader, so a bad one is a reader bug, answered as
/// a document that could not be read rather than a panic.
fn span(source: &[u8], from: usize, to: usize) -> Result<&[u8], DocumentError> {
    source
        .get(from..to)
        .ok_or_else(|| XmlError::Malformed("reader position out of range".into()).into())
}

/// `element` again with `text` (escaped, as quick-xml's writer escapes text) as its only
/// content, whatever it held before: `<start-tag as read>text</name>`.
fn write_with_text(out: &mut Vec<u8>, element: &Element<'_>, text: &str) {
    let tag: &str = element.start.as_ref();
    out.push(b'<');
    out.extend_from_slice(tag.as_bytes());
    out.push(b'>');
    out.extend_from_slice(escape(text).as_bytes());
    out.extend_from_slice(b"</");
    out.extend_from_slice(element.start.name().as_ref().as_bytes());
    out.push(b'>');
}

/// Copy one node read by a [`Cursor`] to `w` unchanged.
pub fn copy(w: &mut XmlWriter, node: Node<'_>) -> io::Result<()> {
    match node {
        Node::Start(e) if e.empty => w.write_event(Event::Empty(e.start)),
        Node::Start(e) => w.write_event(Event::Start(e.start)),
        Node::End(Some(end)) => w.write_event(Event::End(end)),
        Node::Text { event, .. } | Node::Other(event) => w.write_event(event),
        Node::End(None) | Node::Eof => Ok(()),
    }
}
