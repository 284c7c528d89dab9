//! The `{store}/endpoints/v1` document: which service lives at which URL. Write it (simulator,
//! tests), parse it, and copy it with the URLs mapped to the gateway's public side.
//!
//! Like the session list, the endpoints document names StoreFront's own URLs, which must not
//! reach the client; [`rewrite_urls`] goes through the safe [`Cursor`] and fails on anything it
//! could not read, so the gateway answers 502 instead of leaking.

use super::ns;
pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Element, Nodes, Visit};

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `endpoint/@id`, e.g. `ListSessions`.
    pub id: String,
    /// `url`.
    pub url: String,
    /// `capabilities/capability`, in order.
    pub capabilities: Vec<String>,
}

/// The document, in the namespace [`ns::ENDPOINTS`], no indentation.
pub fn write(endpoints: &[Endpoint]) -> Vec<u8> {
    xml::document(|w| {
        w.create_element("endpoints")
            .with_attribute(("xmlns", ns::ENDPOINTS))
            .write_inner_content(|w| endpoints.iter().try_for_each(|e| write_endpoint(w, e)))
            .map(|_| ())
    })
}

fn write_endpoint(w: &mut xml::XmlWriter, e: &Endpoint) -> std::io::Result<()> {
    w.create_element("endpoint")
        .with_attribute(("id", e.id.as_str()))
        .write_inner_content(|w| {
            xml::text_element(w, "url", &e.url)?;
            w.create_element("capabilities")
                .write_inner_content(|w| {
                    e.capabilities
                        .iter()
                        .try_for_each(|c| xml::text_element(w, "capability", c))
                })
                .map(|_| ())
        })
        .map(|_| ())
}

/// Read an endpoints document. Every endpoint needs an `id` and a `url`; unknown elements are
/// ignored.
pub fn parse(body: &[u8]) -> Result<Vec<Endpoint>, DocumentError> {
    let mut cur = Cursor::new(body)?;
    if !cur.root()?.is(ns::ENDPOINTS, "endpoints") {
        return Err(DocumentError::WrongRoot("endpoints"));
    }
    let mut endpoints = Vec::new();
    children(&mut cur, |cur, child| {
        if !child.is(ns::ENDPOINTS, "endpoint") {
            return Ok(false);
        }
        endpoints.push(parse_endpoint(cur, child)?);
        Ok(true)
    })?;
    cur.finish()?;
    Ok(endpoints)
}

fn parse_endpoint(cur: &mut Cursor<'_>, start: &Element<'_>) -> Result<Endpoint, DocumentError> {
    let id = start
        .attr("id")?
        .ok_or(DocumentError::Missing("endpoint/@id"))?
        .into_owned();
    let mut url = None;
    let mut capabilities: Option<Vec<String>> = None;
    children(cur, |cur, child| {
        if child.ns != Some(ns::ENDPOINTS) {
            return Ok(false);
        }
        match child.local() {
            "url" => once(&mut url, leaf_text(cur, "endpoint/url")?, "endpoint/url")?,
            "capabilities" => {
                let mut list = Vec::new();
                children(cur, |cur, child| {
                    if !child.is(ns::ENDPOINTS, "capability") {
                        return Ok(false);
                    }
                    list.push(leaf_text(cur, "capability")?);
                    Ok(true)
                })?;
                once(&mut capabilities, list, "capabilities")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Endpoint {
        id,
        url: url.ok_or(DocumentError::Missing("endpoint/url"))?,
        capabilities: capabilities.unwrap_or_default(),
    })
}

/// Copy an endpoints document unchanged, except that the text `t` of every `endpoint/url`
/// becomes `map(t)` when that is `Some` (when `None`, the same text is written back).
pub fn rewrite_urls(
    body: &[u8],
    map: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, DocumentError> {
    xml::rewrite(body, enter, |_, old| new_url(old, map))
}

/// [`rewrite_urls`] by each of [`xml::rewrite_each`]'s readers alone (tests, fuzzing).
pub fn rewrite_urls_each(
    body: &[u8],
    map: &dyn Fn(&str) -> Option<String>,
) -> (Option<Vec<u8>>, Result<Vec<u8>, DocumentError>) {
    xml::rewrite_each(body, enter, |_, old| new_url(old, map))
}

/// `map(old)`, or the same text when the map has nothing for it.
fn new_url(old: &str, map: &dyn Fn(&str) -> Option<String>) -> String {
    map(old).unwrap_or_else(|| old.to_string())
}

/// The rewrite's decision at each start tag; each open element's level says whether it is an
/// `endpoint` directly under the root.
fn enter(path: &[bool], e: &Element<'_>) -> Result<Visit<bool>, DocumentError> {
    match path {
        [] if e.is(ns::ENDPOINTS, "endpoints") => Ok(Visit::Enter(false)),
        [] => Err(DocumentError::WrongRoot("endpoints")),
        [_, true] if e.is(ns::ENDPOINTS, "url") => Ok(Visit::ReplaceText("endpoint/url")),
        [_] => Ok(Visit::Enter(e.is(ns::ENDPOINTS, "endpoint"))),
        _ => Ok(Visit::Enter(false)),
    }
}

#[cfg(test)]
mod tests;
