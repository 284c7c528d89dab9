//! The fast path of [`rewrite`](super::rewrite): a single-pass scanner over the subset of XML
//! that StoreFront writes.
//!
//! Reading a document with the [`Cursor`](super::Cursor) costs about 60 instructions per byte
//! (quick-xml's event reader, its namespace resolver, and the checks on every event), and the
//! `sessionState` rewrite runs on every `available` answer: it was close to half of the
//! gateway's work per request. This scanner looks at each byte once, through a table.
//!
//! It never decides that a document is bad. It accepts a document only when every construct in
//! it lies inside a subset that it checks completely; at the first byte outside that subset it
//! gives up ([`Unsupported`]), and the caller reads the whole document again with the `Cursor`,
//! which applies every rule of the module documentation and names the error. So whatever the
//! scanner accepts, the `Cursor` accepts too, with the same output: the differential property
//! in `fuzz/src/props/documents.rs` holds the two to that.
//!
//! The subset:
//!
//! * an optional XML declaration at the very start, `<?xml version="1.0"` with optional
//!   `encoding` and `standalone` (the encoding is not believed: the body is UTF-8 or refused);
//! * element and attribute names of ASCII letters, digits, `_`, `-` and `.` (so no prefix);
//!   `xmlns="…"` is the only namespace declaration;
//! * attribute values without `<`, `&`, control characters (tab, CR, LF included, which the
//!   attribute value normalisation would change) or a byte `EF` (the first byte of U+FFFE and
//!   U+FFFF); at most [`MAX_ATTRIBUTES`] attributes, none twice;
//! * character data with the five predefined entity references and character references to XML
//!   characters, without other control characters, U+FFFE, U+FFFF or `]]>`; outside the root,
//!   whitespace only;
//! * at most [`MAX_DEPTH`] levels, and few default-namespace declarations in scope.
//!
//! Outside it, and so read by the `Cursor`: comments, CDATA sections, processing instructions,
//! document type declarations, prefixes, other references, anything not well-formed.

use std::borrow::Cow;

use quick_xml::events::BytesStart;

use super::{is_xml_char, ns, Element, MAX_ATTRIBUTES, MAX_DEPTH};

/// The document leaves the scanner's subset (or breaks a rule): read it with the `Cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

type Scan<T> = Result<T, Unsupported>;

/// Default-namespace declarations in scope at once; well under the `Cursor`'s bound on bindings.
const MAX_DECLARATIONS: usize = 8;

/// URIs that may not be a default namespace: left to the `Cursor`'s resolver to refuse.
const RESERVED_NAMESPACES: [&[u8]; 2] = [
    b"http://www.w3.org/XML/1998/namespace",
    b"http://www.w3.org/2000/xmlns/",
];

/// Bytes that end a run of plain character data: markup, a reference, a possible `]]>`, the
/// first byte of U+FFFE/U+FFFF, and the control characters XML does not allow.
// Evaluated at compile time: an index out of range would fail the build, not a request.
#[allow(clippy::indexing_slicing)]
const TEXT_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = !matches!(b, 0x09 | 0x0a | 0x0d);
        b += 1;
    }
    t[b'<' as usize] = true;
    t[b'&' as usize] = true;
    t[b']' as usize] = true;
    t[0xef] = true;
    t
};

/// `[A-Za-z0-9._-]`: the bytes of a name after its first.
#[allow(clippy::indexing_slicing)]
const NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
        b += 1;
    }
    t
};

/// One step through the document.
#[derive(Debug)]
pub(super) enum Token<'i> {
    /// A start tag whose `<` is at `markup`. An empty-element tag has no [`Token::End`].
    Start { markup: usize, element: Element<'i> },
    /// The innermost open element, named, ends.
    End(&'i str),
    /// Character data, as written (references not replaced).
    Text(&'i str),
    /// A document type declaration before the root, when allowed ([`Scanner::allow_doctype`]):
    /// what follows `<!DOCTYPE`, leading whitespace dropped.
    Doctype(&'i str),
    /// End of input, after the root.
    Eof,
}

/// An open element.
struct Open<'i> {
    name: &'i [u8],
    /// Its default namespace (`None`: no namespace).
    ns: Option<&'i [u8]>,
    /// That namespace if it is one of ours ([`ns::ALL`]): looked up once per declaration.
    known: Option<&'static str>,
    declares: bool,
}

/// The scanner over a decoded document (see [`super::decode`]).
pub(super) struct Scanner<'i> {
    src: &'i str,
    pos: usize,
    open: Vec<Open<'i>>,
    declarations: usize,
    root_closed: bool,
    /// One `<!DOCTYPE …>` may still come (legacy NFuse documents).
    doctype_allowed: bool,
}

impl<'i> Scanner<'i> {
    /// A scanner past the XML declaration, if there is one.
    pub(super) fn new(src: &'i str) -> Scan<Self> {
        let pos = if src.starts_with("<?") {
            declaration(src.as_bytes())?
        } else {
            0
        };
        Ok(Scanner {
            src,
            pos,
            open: Vec::with_capacity(8),
            declarations: 0,
            root_closed: false,
            doctype_allowed: false,
        })
    }

    /// Accept one document type declaration before the root, in the form legacy brokers send
    /// (`<!DOCTYPE NFuseProtocol SYSTEM "NFuse.dtd">`): a name, then names, whitespace and quoted
    /// literals free of markup. It is skipped; an internal subset (`[`) is outside the subset.
    pub(super) fn allow_doctype(&mut self) {
        self.doctype_allowed = true;
    }

    /// Elements open: 0 before the root and after it.
    pub(super) fn depth(&self) -> usize {
        self.open.len()
    }

    /// Bytes read so far: where the next token's markup begins.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// The next token.
    pub(super) fn next_token(&mut self) -> Scan<Token<'i>> {
        let bytes = self.src.as_bytes();
        match (bytes.get(self.pos), bytes.get(self.pos + 1)) {
            (None, _) if self.root_closed => Ok(Token::Eof),
            (None, _) => Err(Unsupported),
            (Some(b'<'), Some(b'/')) => self.end_tag(),
            (Some(b'<'), Some(b'!')) if self.doctype_allowed && self.before_root() => {
                self.doctype()
            }
            (Some(b'<'), Some(b'?' | b'!') | None) => Err(Unsupported),
            (Some(b'<'), Some(_)) => self.start_tag(),
            (Some(_), _) => self.text(),
        }
    }

    /// After a non-empty start tag: its text, decoded, up to and including its end tag.
    pub(super) fn leaf(&mut self) -> Scan<Cow<'i, str>> {
        let raw = match self.next_token()? {
            Token::End(_) => return Ok(Cow::Borrowed("")),
            Token::Text(raw) => raw,
            Token::Start { .. } | Token::Doctype(_) | Token::Eof => return Err(Unsupported),
        };
        match self.next_token()? {
            Token::End(_) => quick_xml::escape::unescape(raw).map_err(|_| Unsupported),
            _ => Err(Unsupported),
        }
    }

    fn before_root(&self) -> bool {
        self.open.is_empty() && !self.root_closed
    }

    fn doctype(&mut self) -> Scan<Token<'i>> {
        let bytes = self.src.as_bytes();
        let from = self.pos + b"<!DOCTYPE".len();
        if bytes.get(self.pos..from) != Some(b"<!DOCTYPE")
            || !bytes.get(from).is_some_and(|&b| is_space(b))
        {
            return Err(Unsupported);
        }
        let mut pos = skip_space(bytes, from);
        let content = pos;
        name_end(bytes, pos)?;
        let close = loop {
            match bytes.get(pos) {
                Some(b'>') => break pos,
                Some(&quote @ (b'"' | b'\'')) => pos = literal_end(bytes, pos + 1, quote)?,
                Some(&b) if is_space(b) || is_name_byte(b) => pos += 1,
                _ => return Err(Unsupported),
            }
        };
        self.doctype_allowed = false;
        self.pos = close + 1;
        self.src
            .get(content..close)
            .map(Token::Doctype)
            .ok_or(Unsupported)
    }

    fn text(&mut self) -> Scan<Token<'i>> {
        let from = self.pos;
        self.pos = text_end(self.src.as_bytes(), from)?;
        let raw = self.src.get(from..self.pos).ok_or(Unsupported)?;
        if self.open.is_empty() && !raw.bytes().all(is_space) {
            return Err(Unsupported);
        }
        Ok(Token::Text(raw))
    }

    fn start_tag(&mut self) -> Scan<Token<'i>> {
        if self.root_closed || self.open.len() >= MAX_DEPTH {
            return Err(Unsupported);
        }
        let bytes = self.src.as_bytes();
        let markup = self.pos;
        let name_end = name_end(bytes, markup + 1)?;
        let mut attributes = Attributes::default();
        let mut pos = name_end;
        let (close, empty) = loop {
            let next = skip_space(bytes, pos);
            match bytes.get(next) {
                Some(b'>') => break (next, false),
                Some(b'/') if bytes.get(next + 1) == Some(&b'>') => break (next, true),
                // An attribute must be preceded by whitespace.
                Some(_) if next > pos => pos = attributes.read(bytes, next)?,
                _ => return Err(Unsupported),
            }
        };
        let content = self.src.get(markup + 1..close).ok_or(Unsupported)?;
        let name = bytes.get(markup + 1..name_end).ok_or(Unsupported)?;
        let element = self.open_element(name, content, attributes.xmlns, empty)?;
        self.pos = close + if empty { 2 } else { 1 };
        Ok(Token::Start { markup, element })
    }

    /// Resolve the element's namespace and, unless it is empty, open it.
    fn open_element(
        &mut self,
        name: &'i [u8],
        content: &'i str,
        xmlns: Option<&'i [u8]>,
        empty: bool,
    ) -> Scan<Element<'i>> {
        let (ns, known) = match xmlns {
            Some(uri) if RESERVED_NAMESPACES.contains(&uri) => return Err(Unsupported),
            Some(b"") => (None, None),
            Some(uri) => (
                Some(uri),
                ns::ALL.iter().copied().find(|k| k.as_bytes() == uri),
            ),
            None => self.open.last().map_or((None, None), |o| (o.ns, o.known)),
        };
        if !empty {
            let declares = xmlns.is_some();
            self.declarations += usize::from(declares);
            if self.declarations > MAX_DECLARATIONS {
                return Err(Unsupported);
            }
            self.open.push(Open {
                name,
                ns,
                known,
                declares,
            });
        } else if self.open.is_empty() {
            self.root_closed = true;
        }
        Ok(Element {
            ns: known,
            namespaced: ns.is_some(),
            start: BytesStart::from_content(content, name.len()),
            empty,
        })
    }

    fn end_tag(&mut self) -> Scan<Token<'i>> {
        let bytes = self.src.as_bytes();
        let name_from = self.pos + 2;
        let name_end = name_end(bytes, name_from)?;
        let close = skip_space(bytes, name_end);
        let open = self.open.pop().ok_or(Unsupported)?;
        // Names are ASCII: the slice of the `str` falls on character boundaries.
        let name = self.src.get(name_from..name_end).ok_or(Unsupported)?;
        if bytes.get(close) != Some(&b'>') || name.as_bytes() != open.name {
            return Err(Unsupported);
        }
        self.declarations -= usize::from(open.declares);
        self.root_closed = self.open.is_empty();
        self.pos = close + 1;
        Ok(Token::End(name))
    }
}

/// The attributes of one start tag, as far as the scanner needs them.
#[derive(Default)]
struct Attributes<'i> {
    names: [&'i [u8]; MAX_ATTRIBUTES],
    count: usize,
    xmlns: Option<&'i [u8]>,
}

impl<'i> Attributes<'i> {
    /// Read `name = "value"` at `from`; the position after the closing quote.
    fn read(&mut self, bytes: &'i [u8], from: usize) -> Scan<usize> {
        let (name, value, after) = attribute(bytes, from)?;
        self.add(name, value)?;
        Ok(after)
    }

    fn add(&mut self, name: &'i [u8], value: &'i [u8]) -> Scan<()> {
        let seen = self.names.get(..self.count).ok_or(Unsupported)?;
        if seen.contains(&name) {
            return Err(Unsupported);
        }
        *self.names.get_mut(self.count).ok_or(Unsupported)? = name;
        self.count += 1;
        if name == b"xmlns" {
            self.xmlns = Some(value);
        }
        Ok(())
    }
}

/// The end of the character data starting at `from`: the next `<`, or the end of input.
fn text_end(bytes: &[u8], mut pos: usize) -> Scan<usize> {
    loop {
        let rest = bytes.get(pos..).ok_or(Unsupported)?;
        let Some(run) = rest.iter().position(|&b| stops_text(b)) else {
            return Ok(bytes.len());
        };
        pos += run;
        let stop = bytes.get(pos..).unwrap_or_default();
        pos += match stop {
            [b'<', ..] => return Ok(pos),
            [b'&', ..] => reference_len(stop)?,
            [b']', b']', b'>', ..] | [0xef, 0xbf, 0xbe | 0xbf, ..] => return Err(Unsupported),
            [b']' | 0xef, ..] => 1,
            _ => return Err(Unsupported),
        };
    }
}

/// Length of the reference at the start of `bytes` (`&…;`), if it is one the subset allows.
fn reference_len(bytes: &[u8]) -> Scan<usize> {
    let semicolon = bytes
        .iter()
        .take(12)
        .position(|&b| b == b';')
        .ok_or(Unsupported)?;
    let allowed = match bytes.get(1..semicolon).ok_or(Unsupported)? {
        b"lt" | b"gt" | b"amp" | b"quot" | b"apos" => true,
        [b'#', b'x', hex @ ..] => char_reference(hex, 16),
        [b'#', decimal @ ..] => char_reference(decimal, 10),
        _ => false,
    };
    allowed.then_some(semicolon + 1).ok_or(Unsupported)
}

/// A character reference's digits name an XML character.
fn char_reference(digits: &[u8], radix: u32) -> bool {
    let all_digits = digits.iter().all(|&b| match radix {
        16 => b.is_ascii_hexdigit(),
        _ => b.is_ascii_digit(),
    });
    all_digits
        && (1..=6).contains(&digits.len())
        && std::str::from_utf8(digits)
            .ok()
            .and_then(|d| u32::from_str_radix(d, radix).ok())
            .and_then(char::from_u32)
            .is_some_and(is_xml_char)
}

/// The end of a name starting at `from`: `[A-Za-z_][A-Za-z0-9._-]*`.
fn name_end(bytes: &[u8], from: usize) -> Scan<usize> {
    match bytes.get(from) {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {}
        _ => return Err(Unsupported),
    }
    let rest = bytes.get(from + 1..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&b| !is_name_byte(b))
        .unwrap_or(rest.len());
    Ok(from + 1 + len)
}

// A `u8` always indexes a 256-entry table; `get` keeps the no-indexing rule at no cost.
fn stops_text(b: u8) -> bool {
    TEXT_STOP.get(usize::from(b)).copied().unwrap_or(true)
}

fn is_name_byte(b: u8) -> bool {
    NAME.get(usize::from(b)).copied().unwrap_or(false)
}

fn skip_space(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    from + rest
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(rest.len())
}

/// After the opening `quote` of a literal in a document type declaration: the position after
/// its closing quote. Markup, references and control characters inside are outside the subset.
fn literal_end(bytes: &[u8], from: usize, quote: u8) -> Scan<usize> {
    let rest = bytes.get(from..).ok_or(Unsupported)?;
    let len = rest.iter().position(|&b| b == quote).ok_or(Unsupported)?;
    let inside = rest.get(..len).ok_or(Unsupported)?;
    if inside
        .iter()
        .any(|&b| matches!(b, b'<' | b'>' | b'[' | b']' | b'&' | b'%') || b < 0x20)
    {
        return Err(Unsupported);
    }
    Ok(from + len + 1)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Read `<?xml version="1.0" [encoding="…"] [standalone="yes|no"] ?>` at the start of `bytes`;
/// the position after it.
fn declaration(bytes: &[u8]) -> Scan<usize> {
    let mut pos = b"<?xml".len();
    if bytes.get(..pos) != Some(b"<?xml") {
        return Err(Unsupported);
    }
    // The pseudo-attributes not yet seen, in the order they must come; `version` is required.
    let mut expected: &[&[u8]] = &[b"version", b"encoding", b"standalone"];
    loop {
        let next = skip_space(bytes, pos);
        let version_seen = expected.first() != Some(&b"version".as_slice());
        if bytes.get(next..next + 2) == Some(b"?>") && version_seen {
            return Ok(next + 2);
        }
        if next == pos {
            return Err(Unsupported);
        }
        let (name, value, after) = attribute(bytes, next)?;
        let valid = match name {
            b"version" => value == b"1.0",
            b"encoding" => version_seen && is_encoding_name(value),
            b"standalone" => version_seen && matches!(value, b"yes" | b"no"),
            _ => false,
        };
        let at = expected.iter().position(|e| *e == name);
        expected = match at {
            Some(at) if valid => expected.get(at + 1..).unwrap_or_default(),
            _ => return Err(Unsupported),
        };
        pos = after;
    }
}

/// `name = "value"` at `from` (in a start tag or the XML declaration), its value inside the
/// subset: name, value, the position after the closing quote.
fn attribute(bytes: &[u8], from: usize) -> Scan<(&[u8], &[u8], usize)> {
    let name_end = name_end(bytes, from)?;
    let name = bytes.get(from..name_end).ok_or(Unsupported)?;
    let eq = skip_space(bytes, name_end);
    let quote_at = skip_space(bytes, eq + 1);
    let quote = match (bytes.get(eq), bytes.get(quote_at)) {
        (Some(b'='), Some(&q @ (b'"' | b'\''))) => q,
        _ => return Err(Unsupported),
    };
    let rest = bytes.get(quote_at + 1..).ok_or(Unsupported)?;
    let len = rest.iter().position(|&b| b == quote).ok_or(Unsupported)?;
    let value = rest.get(..len).ok_or(Unsupported)?;
    if value
        .iter()
        .any(|&b| b < 0x20 || matches!(b, b'<' | b'&' | 0xef))
    {
        return Err(Unsupported);
    }
    Ok((name, value, quote_at + 1 + len + 1))
}

/// `[A-Za-z][A-Za-z0-9._-]*` (XML 1.0's `EncName`).
fn is_encoding_name(value: &[u8]) -> bool {
    value.first().is_some_and(u8::is_ascii_alphabetic)
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests;
