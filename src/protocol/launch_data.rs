//! The launch data StoreFront answers to `POST .../launch/ica` (root `launch`): an ICA file, a
//! "retry later", or an error.
//!
//! The gateway forwards this answer byte for byte; this module writes it (simulator, tests)
//! and reads it (tests). Shapes, from the Store API documentation:
//!
//! ```text
//! <launch status="success"><result type="ica"><ica>…</ica><logonTicket>…</logonTicket></result></launch>
//! <launch status="retry"><result type="retry"><retry><url/><after>30</after><reason>rebooting</reason></retry></result></launch>
//! <launch status="failure"><result type="error"><error><id>AppRemoved</id><text/></error></result></launch>
//! ```
//!
//! The ICA file is INI text with CRLF line ends and must come back exactly. Its text is written
//! with `&`, `<` and `>` escaped but CR kept literal — quick-xml's default escaping would turn
//! each CR into `&#13;`, and the ICA file is expected on the wire as plain CRLF lines — and
//! [`Cursor`] does not normalise line ends, so a parse returns the CRLF as written.

use std::borrow::Cow;

use quick_xml::events::BytesText;

use super::ns;
pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Nodes, XmlWriter};

/// What the launch produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchResult {
    /// `status="success"`, `type="ica"`: the ICA file and, optionally, the logon ticket.
    Ica {
        ica: String,
        logon_ticket: Option<String>,
    },
    /// `status="retry"`: try again (at `url`, if given) after some seconds.
    Retry {
        url: Option<String>,
        after_seconds: u32,
        reason: String,
    },
    /// `status="failure"`, `type="error"`: an error id (`AppRemoved`, ...) and optional text.
    Error { id: String, text: Option<String> },
}

/// The launch data document, in the namespace [`ns::LAUNCH`], no indentation.
pub fn write(result: &LaunchResult) -> Vec<u8> {
    let (status, kind) = match result {
        LaunchResult::Ica { .. } => ("success", "ica"),
        LaunchResult::Retry { .. } => ("retry", "retry"),
        LaunchResult::Error { .. } => ("failure", "error"),
    };
    xml::document(|w| {
        w.create_element("launch")
            .with_attribute(("xmlns", ns::LAUNCH))
            .with_attribute(("status", status))
            .write_inner_content(|w| {
                w.create_element("result")
                    .with_attribute(("type", kind))
                    .write_inner_content(|w| write_result(w, result))
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn write_result(w: &mut XmlWriter, result: &LaunchResult) -> std::io::Result<()> {
    match result {
        LaunchResult::Ica { ica, logon_ticket } => {
            w.create_element("ica")
                .write_text_content(BytesText::from_escaped(escape_keep_cr(ica)))?;
            if let Some(ticket) = logon_ticket {
                xml::text_element(w, "logonTicket", ticket)?;
            }
            Ok(())
        }
        LaunchResult::Retry {
            url,
            after_seconds,
            reason,
        } => w
            .create_element("retry")
            .write_inner_content(|w| {
                if let Some(url) = url {
                    xml::text_element(w, "url", url)?;
                }
                xml::text_element(w, "after", &after_seconds.to_string())?;
                xml::text_element(w, "reason", reason)
            })
            .map(|_| ()),
        LaunchResult::Error { id, text } => w
            .create_element("error")
            .write_inner_content(|w| {
                xml::text_element(w, "id", id)?;
                match text {
                    Some(text) => xml::text_element(w, "text", text),
                    None => Ok(()),
                }
            })
            .map(|_| ()),
    }
}

/// Escape text content (`&`, `<`, `>`) but leave CR as is (see the module documentation).
fn escape_keep_cr(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Read a launch data document. `status` must agree with `result/@type`; unknown elements are
/// ignored; texts are kept exactly as written (no trimming), except `after`, a number.
pub fn parse(body: &[u8]) -> Result<LaunchResult, DocumentError> {
    let mut cur = Cursor::new(body)?;
    let root = cur.root()?;
    if !root.is(ns::LAUNCH, "launch") {
        return Err(DocumentError::WrongRoot("launch"));
    }
    let status = root
        .attr("status")?
        .ok_or(DocumentError::Missing("launch/@status"))?
        .into_owned();
    let mut result = None;
    children(&mut cur, |cur, child| {
        if !child.is(ns::LAUNCH, "result") {
            return Ok(false);
        }
        let kind = child
            .attr("type")?
            .ok_or(DocumentError::Missing("result/@type"))?
            .into_owned();
        once(&mut result, parse_result(cur, &kind)?, "result").map(|()| true)
    })?;
    cur.finish()?;
    let result = result.ok_or(DocumentError::Missing("result"))?;
    match (status.as_str(), &result) {
        ("success", LaunchResult::Ica { .. })
        | ("retry", LaunchResult::Retry { .. })
        | ("failure", LaunchResult::Error { .. }) => Ok(result),
        _ => Err(DocumentError::BadValue("launch/@status")),
    }
}

/// The children of the `result` element just started, of type `kind`.
fn parse_result(cur: &mut Cursor<'_>, kind: &str) -> Result<LaunchResult, DocumentError> {
    let (mut ica, mut logon_ticket) = (None, None);
    let (mut url, mut after, mut reason) = (None, None, None);
    let (mut id, mut text) = (None, None);
    children(cur, |cur, child| {
        if child.ns != Some(ns::LAUNCH) {
            return Ok(false);
        }
        match child.local() {
            "ica" => once(&mut ica, leaf_text(cur, "ica")?, "ica")?,
            "logonTicket" => once(
                &mut logon_ticket,
                leaf_text(cur, "logonTicket")?,
                "logonTicket",
            )?,
            "retry" => children(cur, |cur, child| {
                if child.ns != Some(ns::LAUNCH) {
                    return Ok(false);
                }
                match child.local() {
                    "url" => once(&mut url, leaf_text(cur, "retry/url")?, "retry/url")?,
                    "after" => once(&mut after, leaf_text(cur, "retry/after")?, "retry/after")?,
                    "reason" => once(&mut reason, leaf_text(cur, "retry/reason")?, "retry/reason")?,
                    _ => return Ok(false),
                }
                Ok(true)
            })?,
            "error" => children(cur, |cur, child| {
                if child.ns != Some(ns::LAUNCH) {
                    return Ok(false);
                }
                match child.local() {
                    "id" => once(&mut id, leaf_text(cur, "error/id")?, "error/id")?,
                    "text" => once(&mut text, leaf_text(cur, "error/text")?, "error/text")?,
                    _ => return Ok(false),
                }
                Ok(true)
            })?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    match kind {
        "ica" => Ok(LaunchResult::Ica {
            ica: ica.ok_or(DocumentError::Missing("result/ica"))?,
            logon_ticket,
        }),
        "retry" => Ok(LaunchResult::Retry {
            url,
            after_seconds: after
                .ok_or(DocumentError::Missing("retry/after"))?
                .trim_matches(xml::is_xml_space)
                .parse()
                .map_err(|_| DocumentError::BadValue("retry/after"))?,
            reason: reason.ok_or(DocumentError::Missing("retry/reason"))?,
        }),
        "error" => Ok(LaunchResult::Error {
            id: id.ok_or(DocumentError::Missing("error/id"))?,
            text,
        }),
        _ => Err(DocumentError::BadValue("result/@type")),
    }
}

#[cfg(test)]
mod tests;
