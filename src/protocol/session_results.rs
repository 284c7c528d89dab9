//! The `sessionResults` document StoreFront answers to `disconnect` and `logoff`: whether the
//! whole operation succeeded.
//!
//! The Store API documentation's example uses the root `sessionResults`; Citrix's PowerShell
//! module reads `sessionResult`. Both are accepted when parsing; [`write`] emits the documented
//! `sessionResults`. The module also reads `$xml.sessionResult.status`, which in PowerShell
//! matches an attribute or a child element, so a `status` child is accepted when the attribute
//! is absent.

use super::ns;
pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Nodes};

/// Outcome of the whole operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultStatus {
    /// `success`.
    Success,
    /// `failure`.
    Failure,
}

impl ResultStatus {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Success => "success",
            ResultStatus::Failure => "failure",
        }
    }
}

/// `<sessionResults xmlns="…/sessionresult" status="…"/>` after the XML declaration.
pub fn write(status: ResultStatus) -> Vec<u8> {
    xml::document(|w| {
        w.create_element("sessionResults")
            .with_attribute(("xmlns", ns::SESSION_RESULT))
            .with_attribute(("status", status.as_str()))
            .write_empty()
            .map(|_| ())
    })
}

/// Read a `sessionResults` (or `sessionResult`) document; other children are ignored.
pub fn parse(body: &[u8]) -> Result<ResultStatus, DocumentError> {
    let mut cur = Cursor::new(body)?;
    let root = cur.root()?;
    if !(root.is(ns::SESSION_RESULT, "sessionResults")
        || root.is(ns::SESSION_RESULT, "sessionResult"))
    {
        return Err(DocumentError::WrongRoot("sessionResults"));
    }
    let mut status = root.attr("status")?.map(|s| s.into_owned());
    let from_attribute = status.is_some();
    children(&mut cur, |cur, child| {
        if from_attribute || !child.is(ns::SESSION_RESULT, "status") {
            return Ok(false);
        }
        once(&mut status, leaf_text(cur, "status")?, "status")?;
        Ok(true)
    })?;
    cur.finish()?;
    match status.as_deref().map(str::trim) {
        Some("success") => Ok(ResultStatus::Success),
        Some("failure") => Ok(ResultStatus::Failure),
        Some(_) => Err(DocumentError::BadValue("status")),
        None => Err(DocumentError::Missing("status")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::XmlError;

    const NS: &str = ns::SESSION_RESULT;

    #[test]
    fn spec_example() {
        let body = include_bytes!("../../tests/fixtures/storefront/sessionresults-success.xml");
        assert_eq!(parse(body), Ok(ResultStatus::Success));
    }

    #[test]
    fn write_exact_and_round_trip() {
        assert_eq!(
            String::from_utf8(write(ResultStatus::Success)).unwrap(),
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?><sessionResults xmlns="{NS}" status="success"/>"#
            )
        );
        for s in [ResultStatus::Success, ResultStatus::Failure] {
            assert_eq!(parse(&write(s)), Ok(s));
        }
    }

    #[test]
    fn both_spellings_and_prefixes() {
        let singular = format!(r#"<sessionResult xmlns="{NS}" status="failure"></sessionResult>"#);
        assert_eq!(parse(singular.as_bytes()), Ok(ResultStatus::Failure));
        let prefixed = format!(
            r#"<r:sessionResults xmlns:r="{NS}" status="success"><r:extra/></r:sessionResults>"#
        );
        assert_eq!(parse(prefixed.as_bytes()), Ok(ResultStatus::Success));
        let child =
            format!(r#"<sessionResult xmlns="{NS}"><status> success </status></sessionResult>"#);
        assert_eq!(parse(child.as_bytes()), Ok(ResultStatus::Success));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse(br#"<sessionResults status="success"/>"#),
            Err(DocumentError::WrongRoot("sessionResults"))
        );
        assert_eq!(
            parse(format!(r#"<sessionresults xmlns="{NS}" status="success"/>"#).as_bytes()),
            Err(DocumentError::WrongRoot("sessionResults"))
        );
        assert_eq!(
            parse(format!(r#"<sessionResults xmlns="{NS}"/>"#).as_bytes()),
            Err(DocumentError::Missing("status"))
        );
        assert_eq!(
            parse(format!(r#"<sessionResults xmlns="{NS}" status="ok"/>"#).as_bytes()),
            Err(DocumentError::BadValue("status"))
        );
        let xxe = format!(
            r#"<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><sessionResults xmlns="{NS}" status="success"/>"#
        );
        assert_eq!(
            parse(xxe.as_bytes()),
            Err(DocumentError::Xml(XmlError::Forbidden(
                "entity declaration"
            )))
        );
        assert!(
            parse(format!(r#"<sessionResults xmlns="{NS}" status="success">"#).as_bytes()).is_err()
        );
    }
}
