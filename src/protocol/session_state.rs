//! The `sessionState` document StoreFront answers to `available`: write it (simulator, tests),
//! parse it, and — the gateway's hot path — copy it with every launch URL replaced.
//!
//! The launch URL in `sessions/session/launchIca/url` points at the StoreFront server; the
//! gateway must hand out its own URL instead, and must not let anything it could not read reach
//! the client. So [`rewrite_launch_urls`] goes through the safe [`Cursor`] and fails (the gateway
//! answers 502) on anything not well-formed, forbidden markup, a wrong root or a session without
//! an `id`. Everything else is copied event by event, unchanged.

pub use super::xml::DocumentError;
use super::xml::{self, children, leaf_text, once, Cursor, Element, Nodes, Visit};
use super::{ns, url};

/// One listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `session/@id`.
    pub id: String,
    /// `serverType` (empty if absent).
    pub server_type: String,
    /// `launchIca/url` (empty if absent).
    pub launch_url: String,
    /// `initialapp`.
    pub initial_app: Option<String>,
    /// `initialappresourceaggregated`.
    pub initial_app_resource_aggregated: Option<bool>,
    /// `initialappresourceid`.
    pub initial_app_resource_id: Option<String>,
    /// `publishername`.
    pub publisher_name: Option<String>,
}

/// `sessionState/@enumeration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enumeration {
    /// Every farm answered.
    Full,
    /// Some farms did not answer.
    Partial,
}

/// The `available` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    /// Complete or partial list.
    pub enumeration: Enumeration,
    /// The sessions, in document order.
    pub sessions: Vec<Session>,
}

/// The document, in the namespace [`ns::SESSION_STATE`], no indentation.
pub fn write(state: &SessionState) -> Vec<u8> {
    let enumeration = match state.enumeration {
        Enumeration::Full => "full",
        Enumeration::Partial => "partial",
    };
    xml::document(|w| {
        w.create_element("sessionState")
            .with_attribute(("xmlns", ns::SESSION_STATE))
            .with_attribute(("enumeration", enumeration))
            .write_inner_content(|w| {
                w.create_element("sessions")
                    .write_inner_content(|w| {
                        state.sessions.iter().try_for_each(|s| write_session(w, s))
                    })
                    .map(|_| ())
            })
            .map(|_| ())
    })
}

fn write_session(w: &mut xml::XmlWriter, s: &Session) -> std::io::Result<()> {
    w.create_element("session")
        .with_attribute(("id", s.id.as_str()))
        .write_inner_content(|w| {
            xml::text_element(w, "serverType", &s.server_type)?;
            w.create_element("launchIca")
                .write_inner_content(|w| xml::text_element(w, "url", &s.launch_url))?;
            if let Some(v) = &s.initial_app {
                xml::text_element(w, "initialapp", v)?;
            }
            if let Some(v) = s.initial_app_resource_aggregated {
                xml::text_element(
                    w,
                    "initialappresourceaggregated",
                    if v { "true" } else { "false" },
                )?;
            }
            if let Some(v) = &s.initial_app_resource_id {
                xml::text_element(w, "initialappresourceid", v)?;
            }
            if let Some(v) = &s.publisher_name {
                xml::text_element(w, "publishername", v)?;
            }
            Ok(())
        })
        .map(|_| ())
}

/// Read a `sessionState` document. Unknown elements are ignored; a missing `enumeration`
/// counts as `full`; a session needs an `id`, each of its known children may appear once.
pub fn parse(body: &[u8]) -> Result<SessionState, DocumentError> {
    let mut cur = Cursor::new(body)?;
    let root = cur.root()?;
    if !root.is(ns::SESSION_STATE, "sessionState") {
        return Err(DocumentError::WrongRoot("sessionState"));
    }
    let enumeration = match root.attr("enumeration")?.as_deref() {
        None | Some("full") => Enumeration::Full,
        Some("partial") => Enumeration::Partial,
        Some(_) => return Err(DocumentError::BadValue("sessionState/@enumeration")),
    };
    let mut sessions = None;
    children(&mut cur, |cur, child| {
        if !child.is(ns::SESSION_STATE, "sessions") {
            return Ok(false);
        }
        if sessions.is_some() {
            return Err(DocumentError::Duplicate("sessions"));
        }
        let mut list = Vec::new();
        children(cur, |cur, child| {
            if !child.is(ns::SESSION_STATE, "session") {
                return Ok(false);
            }
            list.push(parse_session(cur, child)?);
            Ok(true)
        })?;
        sessions = Some(list);
        Ok(true)
    })?;
    cur.finish()?;
    Ok(SessionState {
        enumeration,
        sessions: sessions.unwrap_or_default(),
    })
}

fn parse_session(cur: &mut Cursor<'_>, start: &Element<'_>) -> Result<Session, DocumentError> {
    let id = start
        .attr("id")?
        .ok_or(DocumentError::Missing("session/@id"))?
        .into_owned();
    let (mut server_type, mut launch_url, mut initial_app) = (None, None, None);
    let (mut aggregated, mut resource_id, mut publisher) = (None, None, None);
    children(cur, |cur, child| {
        if child.ns != Some(ns::SESSION_STATE) {
            return Ok(false);
        }
        match child.local() {
            "serverType" => once(
                &mut server_type,
                leaf_text(cur, "serverType")?,
                "serverType",
            )?,
            "launchIca" => {
                let mut url = None;
                children(cur, |cur, child| {
                    if !child.is(ns::SESSION_STATE, "url") {
                        return Ok(false);
                    }
                    once(&mut url, leaf_text(cur, "launchIca/url")?, "launchIca/url")?;
                    Ok(true)
                })?;
                once(&mut launch_url, url.unwrap_or_default(), "launchIca")?;
            }
            "initialapp" => once(
                &mut initial_app,
                leaf_text(cur, "initialapp")?,
                "initialapp",
            )?,
            "initialappresourceaggregated" => {
                let value = match leaf_text(cur, "initialappresourceaggregated")?.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(DocumentError::BadValue("initialappresourceaggregated")),
                };
                once(&mut aggregated, value, "initialappresourceaggregated")?;
            }
            "initialappresourceid" => once(
                &mut resource_id,
                leaf_text(cur, "initialappresourceid")?,
                "initialappresourceid",
            )?,
            "publishername" => once(
                &mut publisher,
                leaf_text(cur, "publishername")?,
                "publishername",
            )?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Session {
        id,
        server_type: server_type.unwrap_or_default(),
        launch_url: launch_url.unwrap_or_default(),
        initial_app,
        initial_app_resource_aggregated: aggregated,
        initial_app_resource_id: resource_id,
        publisher_name: publisher,
    })
}

/// Where the copy is in the document, for the elements that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Root,
    Sessions,
    /// A session, with its id.
    Session(String),
    LaunchIca,
    Other,
}

/// Copy a `sessionState` document unchanged, except that the text of every
/// `sessions/session/launchIca/url` becomes `url_for(session id)`. A session with a launch URL
/// whose id is not a [`url::is_session_id`] is refused: its launch URL could not be taken back.
pub fn rewrite_launch_urls(
    body: &[u8],
    url_for: &dyn Fn(&str) -> String,
) -> Result<Vec<u8>, DocumentError> {
    xml::rewrite(body, enter, |path, _| launch_url(path, url_for))
}

/// [`rewrite_launch_urls`] by each of [`xml::rewrite_each`]'s readers alone (tests, fuzzing).
pub fn rewrite_launch_urls_each(
    body: &[u8],
    url_for: &dyn Fn(&str) -> String,
) -> (Option<Vec<u8>>, Result<Vec<u8>, DocumentError>) {
    xml::rewrite_each(body, enter, |path, _| launch_url(path, url_for))
}

/// The rewrite's decision at each start tag.
fn enter(path: &[Level], e: &Element<'_>) -> Result<Visit<Level>, DocumentError> {
    let ours = e.ns == Some(ns::SESSION_STATE);
    Ok(Visit::Enter(match (path.last(), ours, e.local()) {
        (None, true, "sessionState") => Level::Root,
        (None, _, _) => return Err(DocumentError::WrongRoot("sessionState")),
        (Some(Level::Root), true, "sessions") => Level::Sessions,
        (Some(Level::Sessions), true, "session") => {
            let id = e.attr("id")?.ok_or(DocumentError::Missing("session/@id"))?;
            Level::Session(id.into_owned())
        }
        // Only an id that can stand in a URL as it is gets a launch URL.
        (Some(Level::Session(id)), true, "launchIca") if !url::is_session_id(id) => {
            return Err(DocumentError::BadValue("session/@id"))
        }
        (Some(Level::Session(_)), true, "launchIca") => Level::LaunchIca,
        (Some(Level::LaunchIca), true, "url") => return Ok(Visit::ReplaceText("launchIca/url")),
        _ => Level::Other,
    }))
}

/// The new launch URL for the `url` under `path`.
fn launch_url(path: &[Level], url_for: &dyn Fn(&str) -> String) -> String {
    // `enter` only asks for a replacement inside session/launchIca, so the id is there.
    let id = path.iter().rev().find_map(|l| match l {
        Level::Session(id) => Some(id.as_str()),
        _ => None,
    });
    url_for(id.unwrap_or_default())
}

#[cfg(test)]
mod tests;
