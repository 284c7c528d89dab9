//! The `launchparams` request body of `POST .../launch/ica`: parse, check, and write back in
//! canonical form.
//!
//! Like `sessionparams`, only the canonical body reaches StoreFront: the sixteen documented
//! children, each at most once, in documentation order. Rules that are specific to this
//! document:
//!
//! * the root is `launchparams` in its namespace, whatever the prefix (StoreFront's own test
//!   tool sends `q1:`), and every child is optional;
//! * a value is trimmed of surrounding whitespace, must be at most [`MAX_VALUE_LEN`] characters
//!   and hold no control character; an empty value counts as absent;
//! * a known element that holds child elements (`displayAbsolute` may carry nested markup in
//!   real clients) is accepted but dropped from the canonical body, since the gateway cannot
//!   check it — it still counts for the "at most once" rule;
//! * unknown elements (any namespace) are ignored and dropped;
//! * non-whitespace text directly inside the root is refused.
//!
//! Errors reuse [`ParamsError`], with the same [`ParamsError::reason`] classes.

use super::ns;
use super::session_params::{check_text, ParamsError};
use super::xml::{self, Cursor, Node, Nodes, XmlError};

/// The known children, in canonical (documentation) order.
pub const FIELDS: [&str; 16] = [
    "clientName",
    "clientAddress",
    "deviceId",
    "audio",
    "colourDepth",
    "display",
    "displayPercent",
    "displayAbsolute",
    "transparentKeyPassthrough",
    "specialFolderRedirection",
    "clearTypeRemoting",
    "showDesktopViewer",
    "launcher",
    "virtualComPort",
    "comPortMapping",
    "clientPrinter",
];

/// Longest value of any field, in characters.
pub const MAX_VALUE_LEN: usize = 256;

const ROOT: &str = "launchparams in namespace http://citrix.com/delivery-services/1-0/launchparams";

/// A checked `launchparams` body: the value of each known field that was present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchParams {
    /// Parallel to [`FIELDS`].
    values: [Option<String>; 16],
}

/// Parse and check a `launchparams` body.
pub fn parse(body: &[u8]) -> Result<LaunchParams, ParamsError> {
    let mut cur = Cursor::new(body)?;
    if !cur.root()?.is(ns::LAUNCH_PARAMS, "launchparams") {
        return Err(ParamsError::WrongRoot(ROOT));
    }
    let mut params = LaunchParams::default();
    let mut seen = [false; 16];
    loop {
        match cur.next_node()? {
            Node::Start(child) => {
                let known = FIELDS
                    .iter()
                    .zip(seen.iter_mut().zip(params.values.iter_mut()))
                    .find(|(name, _)| {
                        child.ns == Some(ns::LAUNCH_PARAMS) && **name == child.local()
                    });
                let Some((name, (seen, value))) = known else {
                    cur.skip()?;
                    continue;
                };
                if std::mem::replace(seen, true) {
                    return Err(ParamsError::Duplicate(name));
                }
                // `None`: nested markup, kept out of the canonical body (see module docs).
                if let Some(text) = cur.leaf()? {
                    *value = checked(name, &text)?;
                }
            }
            Node::Text { text, .. } => {
                if !text.trim_matches(xml::is_xml_space).is_empty() {
                    return Err(ParamsError::StrayText("launchparams"));
                }
            }
            Node::End(_) => break,
            Node::Other(_) => {}
            Node::Eof => return Err(XmlError::Malformed("unexpected end of input".into()).into()),
        }
    }
    cur.finish()?;
    Ok(params)
}

/// Trimmed value, `None` if empty.
fn checked(name: &'static str, text: &str) -> Result<Option<String>, ParamsError> {
    let value = text.trim_matches(xml::is_xml_space);
    if value.is_empty() {
        return Ok(None);
    }
    check_text(name, value, MAX_VALUE_LEN)?;
    Ok(Some(value.to_string()))
}

impl LaunchParams {
    /// The value of field `name` (one of [`FIELDS`]), if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        FIELDS
            .iter()
            .zip(self.values.iter())
            .find(|(field, _)| **field == name)
            .and_then(|(_, value)| value.as_deref())
    }

    /// Set field `name` under the parsing rules (an empty value removes it, as does `None`).
    /// `Ok(false)` if `name` is not one of [`FIELDS`].
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<bool, ParamsError> {
        let Some((field, slot)) = FIELDS
            .iter()
            .zip(self.values.iter_mut())
            .find(|(field, _)| **field == name)
        else {
            return Ok(false);
        };
        *slot = match value {
            Some(v) => checked(field, v)?,
            None => None,
        };
        Ok(true)
    }

    /// `clientName`.
    pub fn client_name(&self) -> Option<&str> {
        self.get("clientName")
    }

    /// `deviceId`.
    pub fn device_id(&self) -> Option<&str> {
        self.get("deviceId")
    }

    /// Present fields, in canonical order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        FIELDS
            .iter()
            .zip(self.values.iter())
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)))
    }

    /// The canonical body: XML declaration, `launchparams` with the default namespace, present
    /// fields in [`FIELDS`] order, no indentation.
    pub fn to_xml(&self) -> Vec<u8> {
        xml::document(|w| {
            let root = w
                .create_element("launchparams")
                .with_attribute(("xmlns", ns::LAUNCH_PARAMS));
            if self.fields().next().is_none() {
                return root.write_empty().map(|_| ());
            }
            root.write_inner_content(|w| {
                self.fields()
                    .try_for_each(|(name, value)| xml::text_element(w, name, value))
            })
            .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests;
