//! The one XML reader (and the writer helpers) every Store API document in this crate goes through.
//!
//! StoreFront itself was vulnerable to XXE (CVE-2019-13608), so a body is only ever read through
//! [`Cursor`], which:
//!
//! * decodes the bytes as UTF-8, whatever the XML declaration says (real clients declare
//!   `encoding="utf-16"` on plainly UTF-8 bytes), strips a UTF-8 BOM and refuses anything that is
//!   not valid UTF-8;
//! * refuses any `<!DOCTYPE` (with or without an internal subset), any processing instruction
//!   other than the XML declaration at the very start, and any entity reference other than the
//!   five predefined ones and character references — no DTD or entity is ever resolved;
//! * bounds nesting depth, attributes per element and namespace bindings;
//! * refuses input that is not well-formed: mismatched or unclosed tags, no root, several roots,
//!   text outside the root, characters XML does not allow (raw NUL, ESC, ...), `]]>` in text, `--`
//!   in a comment, a second BOM, a prefix bound nowhere (on elements and attributes);
//! * resolves every element to (namespace URI, local name), so callers never look at prefixes.
//!
//! Text is handed out decoded (references replaced) but not end-of-line normalised: a literal CR
//! survives, which is what keeps an ICA file (`\r\n` lines) byte-exact through a parse.
//!
//! The documents read on every request have a fast path: a single-pass scanner (`xml/scan.rs`)
//! over the subset of XML that StoreFront and its clients write, which never refuses anything:
//! outside its subset it gives up, and the `Cursor` reads the document again and decides. It
//! serves [`rewrite`], and through [`ScanCursor`] (both readers implement [`Nodes`]) the readers
//! of `sessionparams` bodies and of brokers' answers.
//!
//! Documents are written with quick-xml's `Writer` via [`document`] and [`text_element`], which
//! escape by default, or, for the flat canonical `sessionparams`, by [`push_text_element`] with
//! the same escaping; they are copied with chosen values replaced by [`rewrite`].

use std::borrow::Cow;

use quick_xml::errors::Error as QxError;
use quick_xml::escape::{resolve_predefined_entity, EscapeError};
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::ns;

mod scan;
mod scan_cursor;
mod writer;
pub use scan_cursor::ScanCursor;
pub use writer::{
    copy, document, push_text_element, rewrite, rewrite_each, text_element, write_error, Visit,
    XmlWriter, DECLARATION,
};

/// Deepest element nesting accepted; the Store API documents need 5.
pub const MAX_DEPTH: usize = 32;
/// Most attributes (namespace declarations included) accepted on one element.
pub const MAX_ATTRIBUTES: usize = 16;
/// Most namespace bindings in scope at once; bounds the resolver's memory.
const MAX_NAMESPACE_BINDINGS: usize = 16;

/// Why a body could not be read as XML at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// The bytes are not UTF-8 (the only encoding accepted, whatever the declaration says).
    #[error("the body is not valid UTF-8")]
    NotUtf8,
    /// Not well-formed XML.
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    /// Markup that is refused on principle: a document type declaration, entity declaration,
    /// processing instruction or unknown entity reference.
    #[error("the body contains forbidden markup: {0}")]
    Forbidden(&'static str),
    /// Elements nested deeper than [`MAX_DEPTH`].
    #[error("elements are nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// An element with more than [`MAX_ATTRIBUTES`] attributes.
    #[error("an element has more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
}

impl XmlError {
    /// Is this markup refused on principle (DOCTYPE, entity, PI), as opposed to broken input?
    pub fn is_forbidden(&self) -> bool {
        matches!(self, XmlError::Forbidden(_))
    }

    /// Is this a breach of a size bound rather than of XML itself?
    pub fn is_limit(&self) -> bool {
        matches!(self, XmlError::TooDeep | XmlError::TooManyAttributes)
    }
}

/// Error of a document the gateway reads from StoreFront (or writes itself): `sessionState`,
/// `sessionResults`, `launch`, `endpoints`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DocumentError {
    /// Not readable as XML, or forbidden markup.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The root element is not the expected one (in its namespace).
    #[error("the root element is not {0}")]
    WrongRoot(&'static str),
    /// A required element or attribute is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// An element that may appear once appears again.
    #[error("{0} appears more than once")]
    Duplicate(&'static str),
    /// A value outside what the document type allows.
    #[error("{0} has an invalid value")]
    BadValue(&'static str),
    /// Child elements where only text is allowed, or text where only elements are.
    #[error("unexpected content in {0}")]
    Unexpected(&'static str),
}

/// Check the bytes are UTF-8 and drop a leading BOM.
pub fn decode(body: &[u8]) -> Result<&str, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    one_bom(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// After the one BOM a document may start with, another is character data before the root
/// (quick-xml would drop it silently).
fn one_bom(text: &str) -> Result<&str, XmlError> {
    if text.starts_with('\u{feff}') {
        return Err(XmlError::Malformed("a second byte order mark".into()));
    }
    Ok(text)
}

/// Decode a legacy (NFuse) body: UTF-8, or ISO-8859-1 when the XML declaration says so (nmap and
/// old brokers declare it); windows-1252 and US-ASCII declarations are read as ISO-8859-1 too,
/// which is exact for every byte a broker sends in practice.
pub fn decode_legacy(body: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return one_bom(text).map(Cow::Borrowed);
    }
    if declares_latin1(body) {
        return Ok(Cow::Owned(body.iter().map(|&b| char::from(b)).collect()));
    }
    Err(XmlError::NotUtf8)
}

/// Does the XML declaration at the start of `body` name a single-byte Latin encoding?
fn declares_latin1(body: &[u8]) -> bool {
    let Some(rest) = body.strip_prefix(b"<?xml") else {
        return false;
    };
    let end = rest
        .windows(2)
        .position(|w| w == b"?>")
        .unwrap_or(rest.len());
    let decl = String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).to_ascii_lowercase();
    [
        "iso-8859-1",
        "iso8859-1",
        "latin1",
        "latin-1",
        "windows-1252",
        "us-ascii",
    ]
    .iter()
    .any(|e| decl.contains(e))
}

/// A start tag (or empty-element tag), resolved.
#[derive(Debug, Clone)]
pub struct Element<'i> {
    /// The namespace URI if it is one of ours ([`ns::ALL`]); `None` for no namespace or any other.
    pub ns: Option<&'static str>,
    /// In any namespace at all (ours or another): documents without namespaces (NFuse) refuse it.
    pub namespaced: bool,
    /// The tag as read, for copying it unchanged.
    pub start: BytesStart<'i>,
    /// `<x/>`: the cursor yields a matching [`Node::End`]`(None)` next.
    pub empty: bool,
}

impl Element<'_> {
    /// Local name (prefix dropped).
    pub fn local(&self) -> &str {
        self.start.local_name().into_inner()
    }

    /// Is this `local` in namespace `ns`?
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == Some(ns) && self.local() == local
    }

    /// Value of the unprefixed attribute `name` (attributes without a prefix are in no
    /// namespace), references decoded.
    pub fn attr(&self, name: &str) -> Result<Option<Cow<'_, str>>, XmlError> {
        for attr in self.start.attributes() {
            let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
            if attr.key.as_ref() == name {
                return attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map(Some)
                    .map_err(reader_error);
            }
        }
        Ok(None)
    }
}

/// One step through a document.
#[derive(Debug, Clone)]
pub enum Node<'i> {
    /// An element starts.
    Start(Element<'i>),
    /// The innermost open element ends; `None` closes an empty-element tag.
    End(Option<BytesEnd<'i>>),
    /// Character data inside the root: `text` is decoded, `event` is what was read (text,
    /// CDATA or reference) for copying it unchanged.
    Text {
        event: Event<'i>,
        text: Cow<'i, str>,
    },
    /// XML declaration, comment, or whitespace outside the root: nothing to interpret.
    Other(Event<'i>),
    /// End of input, after a complete root element.
    Eof,
}

/// The safe, namespace-aware pull reader (see the module documentation).
pub struct Cursor<'i> {
    reader: NsReader<&'i [u8]>,
    /// What `reader` reads, for copying spans of it unchanged.
    source: &'i str,
    depth: usize,
    root_seen: bool,
    root_closed: bool,
    pending_end: bool,
    at_start: bool,
    /// Legacy NFuse documents: a `<!DOCTYPE>` without internal subset is skipped (never resolved).
    doctype_allowed: bool,
}

impl<'i> Cursor<'i> {
    /// A cursor over `body`; fails only if it is not UTF-8.
    pub fn new(body: &'i [u8]) -> Result<Self, XmlError> {
        Ok(Cursor::from_text(decode(body)?))
    }

    /// A cursor over text already decoded (see [`decode`], [`decode_legacy`]: they drop one
    /// BOM; a second is character data before the root, refused).
    pub fn from_text(text: &'i str) -> Self {
        // From a `&str` the reader is locked to UTF-8, so the declared encoding is never used.
        let mut reader = NsReader::from_str(text);
        reader
            .resolver_mut()
            .set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
        Cursor {
            reader,
            source: text,
            depth: 0,
            root_seen: false,
            root_closed: false,
            pending_end: false,
            at_start: true,
            doctype_allowed: false,
        }
    }

    /// Accept one `<!DOCTYPE ...>` before the root, as legacy XML brokers send
    /// (`<!DOCTYPE NFuseProtocol SYSTEM "NFuse.dtd">`). It is skipped, never fetched or
    /// resolved; one with an internal subset (`[...]`, where entities are declared) is still
    /// refused.
    pub fn allow_doctype(mut self) -> Self {
        self.doctype_allowed = true;
        self
    }

    /// The next node; every rule of the module documentation is enforced here.
    fn read_node(&mut self) -> Result<Node<'i>, XmlError> {
        if self.pending_end {
            self.pending_end = false;
            self.close();
            return Ok(Node::End(None));
        }
        let event = self.reader.read_event().map_err(reader_error)?;
        let at_start = std::mem::replace(&mut self.at_start, false);
        match event {
            Event::Start(start) => self.open(start, false),
            Event::Empty(start) => self.open(start, true),
            Event::End(end) => {
                self.close();
                Ok(Node::End(Some(end)))
            }
            Event::Text(t) => {
                let text = t.clone().into_inner();
                self.text(Event::Text(t), text)
            }
            Event::CData(c) => {
                let text = c.clone().into_inner();
                self.text(Event::CData(c), text)
            }
            Event::GeneralRef(r) => {
                let text = resolve_reference(&r)?;
                self.text(Event::GeneralRef(r), text)
            }
            Event::Comment(ref c) => {
                check_comment(c.as_ref())?;
                Ok(Node::Other(event))
            }
            Event::Decl(_) if at_start => Ok(Node::Other(event)),
            Event::Decl(_) => Err(XmlError::Malformed(
                "XML declaration not at the start of the document".into(),
            )),
            Event::PI(_) => Err(XmlError::Forbidden("processing instruction")),
            Event::DocType(d) if self.doctype_allowed && !self.root_seen && !d.contains('[') => {
                self.doctype_allowed = false;
                Ok(Node::Other(Event::DocType(d)))
            }
            Event::DocType(d) => Err(XmlError::Forbidden(if d.contains("ENTITY") {
                "entity declaration"
            } else {
                "document type declaration"
            })),
            Event::Eof if self.depth > 0 => {
                Err(XmlError::Malformed("input ends inside an element".into()))
            }
            Event::Eof if !self.root_seen => Err(XmlError::Malformed("no root element".into())),
            Event::Eof => Ok(Node::Eof),
        }
    }

    fn open(&mut self, start: BytesStart<'i>, empty: bool) -> Result<Node<'i>, XmlError> {
        if self.root_closed {
            return Err(XmlError::Malformed("more than one root element".into()));
        }
        if self.depth >= MAX_DEPTH {
            return Err(XmlError::TooDeep);
        }
        let mut count = 0;
        for attr in start.attributes() {
            let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
            count += 1;
            if count > MAX_ATTRIBUTES {
                return Err(XmlError::TooManyAttributes);
            }
            // Decode only to validate: an unknown entity in an attribute is refused as well.
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(reader_error)?;
            check_chars(&value)?;
            if let ResolveResult::Unknown(_) = self.reader.resolver().resolve_attribute(attr.key).0
            {
                return Err(XmlError::Malformed("undeclared namespace prefix".into()));
            }
        }
        let (ns, namespaced) = match self.reader.resolver().resolve_element(start.name()).0 {
            ResolveResult::Bound(uri) => {
                (ns::ALL.iter().copied().find(|known| *known == uri.0), true)
            }
            ResolveResult::Unbound => (None, false),
            ResolveResult::Unknown(_) => {
                return Err(XmlError::Malformed("undeclared namespace prefix".into()))
            }
        };
        self.root_seen = true;
        self.depth += 1;
        self.pending_end = empty;
        Ok(Node::Start(Element {
            ns,
            namespaced,
            start,
            empty,
        }))
    }

    fn close(&mut self) {
        // quick-xml has already refused an end tag that matches no open element.
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.root_closed = true;
        }
    }

    fn text(&mut self, event: Event<'i>, text: Cow<'i, str>) -> Result<Node<'i>, XmlError> {
        check_chars(&text)?;
        // XML 1.0 §2.4: `]]>` may not appear in character data (a CDATA section inside another
        // leaves one behind).
        // (A byte search first: a substring search costs a setup on every text.)
        if matches!(event, Event::Text(_))
            && text.as_bytes().contains(&b']')
            && text.contains("]]>")
        {
            return Err(XmlError::Malformed("]]> in character data".into()));
        }
        if self.depth > 0 {
            return Ok(Node::Text { event, text });
        }
        // Outside the root only whitespace may appear, and only as plain text.
        if matches!(event, Event::Text(_)) && text.trim_matches(is_xml_space).is_empty() {
            Ok(Node::Other(event))
        } else {
            Err(XmlError::Malformed(
                "character data outside the root element".into(),
            ))
        }
    }

    /// Bytes of the (decoded) input read so far: where the next node's markup begins.
    pub fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    /// The decoded input (after the BOM), which [`Cursor::position`] indexes.
    pub fn source(&self) -> &'i str {
        self.source
    }
}

/// A pull reader of [`Node`]s. Two exist: the [`Cursor`], which applies every rule of the module
/// documentation, and [`ScanCursor`], the scanner's fast path over the subset StoreFront and its
/// clients write, which gives up rather than refuse. The document readers are written once,
/// against this trait, and read by either.
pub trait Nodes<'i> {
    /// The next node.
    fn next_node(&mut self) -> Result<Node<'i>, XmlError>;

    /// Skip to the first element, which must come (after the declaration, comments, whitespace).
    fn root(&mut self) -> Result<Element<'i>, XmlError> {
        loop {
            match self.next_node()? {
                Node::Start(root) => return Ok(root),
                Node::Eof => return Err(XmlError::Malformed("no root element".into())),
                _ => {}
            }
        }
    }

    /// After a [`Node::Start`]: consume everything up to and including its end.
    fn skip(&mut self) -> Result<(), XmlError> {
        let mut level = 1usize;
        loop {
            match self.next_node()? {
                Node::Start(_) => level += 1,
                Node::End(_) => {
                    level -= 1;
                    if level == 0 {
                        return Ok(());
                    }
                }
                Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into())),
                _ => {}
            }
        }
    }

    /// After a [`Node::Start`]: its text content, up to and including its end. `None` if it has
    /// child elements (the whole element is consumed all the same). Borrowed from the input when
    /// the text is one piece (the usual case: no reference, no CDATA, no comment inside).
    fn leaf(&mut self) -> Result<Option<Cow<'i, str>>, XmlError> {
        let mut text = Cow::Borrowed("");
        let mut children = false;
        loop {
            match self.next_node()? {
                Node::Start(_) => {
                    children = true;
                    self.skip()?;
                }
                Node::End(_) => return Ok((!children).then_some(text)),
                Node::Text { text: t, .. } if text.is_empty() => text = t,
                Node::Text { text: t, .. } => text.to_mut().push_str(&t),
                Node::Other(_) => {}
                Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into())),
            }
        }
    }

    /// After the root's end: read to the end of input, which may hold only whitespace and
    /// comments.
    fn finish(&mut self) -> Result<(), XmlError> {
        while !matches!(self.next_node()?, Node::Eof) {}
        Ok(())
    }
}

impl<'i> Nodes<'i> for Cursor<'i> {
    fn next_node(&mut self) -> Result<Node<'i>, XmlError> {
        self.read_node()
    }
}

/// After a [`Node::Start`]: walk its children; `visit` returns whether it consumed the
/// child, otherwise it is skipped. Text between children is ignored.
pub fn children<'i, N: Nodes<'i>>(
    cur: &mut N,
    visit: impl FnMut(&mut N, &Element<'i>) -> Result<bool, DocumentError>,
) -> Result<(), DocumentError> {
    walk_children(cur, visit)
}

/// [`children`] for a document module with an error type of its own.
pub fn walk_children<'i, E: From<XmlError>, N: Nodes<'i>>(
    cur: &mut N,
    mut visit: impl FnMut(&mut N, &Element<'i>) -> Result<bool, E>,
) -> Result<(), E> {
    loop {
        match cur.next_node()? {
            Node::Start(child) => {
                if !visit(cur, &child)? {
                    cur.skip()?;
                }
            }
            Node::End(_) => return Ok(()),
            Node::Text { .. } | Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
}

/// After a [`Node::Start`]: its text; nested elements are [`DocumentError::Unexpected`].
pub fn leaf_text<'i>(
    cur: &mut impl Nodes<'i>,
    what: &'static str,
) -> Result<String, DocumentError> {
    cur.leaf()?
        .map(Cow::into_owned)
        .ok_or(DocumentError::Unexpected(what))
}

/// Store `value` in an empty slot; a second element of the same kind is a
/// [`DocumentError::Duplicate`].
pub fn once<T>(slot: &mut Option<T>, value: T, what: &'static str) -> Result<(), DocumentError> {
    if slot.is_some() {
        return Err(DocumentError::Duplicate(what));
    }
    *slot = Some(value);
    Ok(())
}

/// XML's whitespace (`S`): space, tab, CR, LF.
pub fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// The text of a reference: a character reference, or one of the five predefined entities.
fn resolve_reference<'i>(r: &BytesRef<'i>) -> Result<Cow<'i, str>, XmlError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(Cow::Owned(c.to_string())),
            _ => Err(XmlError::Malformed(format!(
                "invalid character reference &{};",
                &**r
            ))),
        };
    }
    resolve_predefined_entity(r)
        .map(Cow::Borrowed)
        .ok_or(XmlError::Forbidden("entity reference"))
}

/// Every character is an XML 1.0 `Char`: raw control characters (NUL, ESC, ...) never are, and
/// must not pass into a document the gateway writes.
///
/// Checked on bytes (this runs on every text and attribute of every document): in valid UTF-8
/// the only characters outside `Char` are the C0 controls other than tab, LF and CR (single
/// bytes below 0x20) and U+FFFE / U+FFFF (`EF BF BE`, `EF BF BF`); surrogates cannot occur.
fn check_chars(text: &str) -> Result<(), XmlError> {
    let bytes = text.as_bytes();
    let control = bytes
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    // Only a text with an `EF` byte can hold U+FFFE or U+FFFF: a rare, slower look.
    let nonchar = bytes.contains(&0xef) && text.contains(['\u{fffe}', '\u{ffff}']);
    if control || nonchar {
        Err(XmlError::Malformed("a character XML does not allow".into()))
    } else {
        Ok(())
    }
}

/// XML 1.0 §2.5: a comment holds no `--` and does not end with `-`.
fn check_comment(comment: &str) -> Result<(), XmlError> {
    if comment.contains("--") || comment.ends_with('-') {
        return Err(XmlError::Malformed("-- in a comment".into()));
    }
    check_chars(comment)
}

/// XML 1.0 `Char`: what a character reference may name.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn reader_error(e: QxError) -> XmlError {
    match e {
        QxError::Encoding(_) => XmlError::NotUtf8,
        QxError::Escape(EscapeError::UnrecognizedEntity(..)) => {
            XmlError::Forbidden("entity reference")
        }
        other => XmlError::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
