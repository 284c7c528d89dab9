//! Turning a StoreFront server's answer into the client's: URLs rewritten to the public side,
//! media types normalised, hop-by-hop headers dropped, exact framing.

use bytes::Bytes;
use pingora::http::ResponseHeader;

use super::{Exchange, Servers, StoreFrontError};
use crate::config::Store;
use crate::protocol::citrix_auth::Challenge;
use crate::protocol::url::UrlMap;
use crate::protocol::{endpoints, media, session_state};

/// What the client asked the server for, which decides how the answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// `available`: a sessionState whose launch URLs are rewritten.
    SessionList,
    /// `disconnect`, `logoff`: a sessionResults document.
    SessionResults,
    /// A launch: launch data carrying the ICA file, passed byte for byte.
    Launch,
    /// `endpoints/v1`: an endpoints document whose URLs are rewritten.
    Endpoints,
}

impl Asked {
    /// The media type a successful answer has.
    fn media(self) -> &'static str {
        match self {
            Asked::SessionList => media::SESSION_STATE,
            Asked::SessionResults => media::SESSION_RESULTS,
            Asked::Launch => media::LAUNCH_DATA,
            Asked::Endpoints => media::ENDPOINTS,
        }
    }
}

/// Headers that describe one connection or one encoding of the body, never copied across.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
];

/// Headers that describe the exact bytes of a body the gateway rewrote.
const BODY_VALIDATORS: &[&str] = &["etag", "content-md5", "digest", "content-encoding"];

/// Rewrite `Location`, `Content-Location` and CitrixAuth challenges so they point at the public
/// side. A CitrixAuth challenge that cannot be parsed is replaced by the store's own.
pub fn rewrite_headers(
    header: &mut ResponseHeader,
    store: &Store,
    map: &UrlMap,
) -> pingora::Result<()> {
    for name in ["location", "content-location"] {
        let rewritten = header
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| map.rewrite(v));
        if let Some(value) = rewritten {
            header.insert_header(name, value)?;
        }
    }
    let challenges: Vec<String> = header
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if challenges
        .iter()
        .any(|c| c.trim_start().starts_with("CitrixAuth"))
    {
        header.remove_header("www-authenticate");
        for c in challenges {
            let value = if c.trim_start().starts_with("CitrixAuth") {
                match Challenge::parse(&c) {
                    Some(mut parsed) => {
                        parsed.rewrite_urls(&|u| map.rewrite(u));
                        parsed.render()
                    }
                    None => store.challenge.with_reason("notoken").render(),
                }
            } else {
                c
            };
            header.append_header("www-authenticate", value)?;
        }
    }
    Ok(())
}

/// Is `value` a media type an upstream may use for `expected` (the vnd type itself, generic XML,
/// or the singular `sessionresult+xml` spelling)?
fn xml_alias(value: &[u8], expected: &str) -> bool {
    [
        expected,
        "application/xml",
        "text/xml",
        "application/vnd.citrix.sessionresult+xml",
    ]
    .iter()
    .any(|m| media::content_type_matches(value, m))
}

/// Does the body name one of the upstream's authorities? Such a body must not reach a client.
fn mentions_upstream(body: &[u8], servers: &Servers) -> bool {
    servers.names.iter().any(|n| {
        body.windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
    })
}

/// The public launch URL of a session id (the store's, or one carrying a canary's launch tag).
pub type LaunchUrl<'a> = &'a dyn Fn(&str) -> String;

/// The client's answer for a Sessions Service or endpoints exchange; `launch_url` writes the
/// launch URLs of a session list.
pub fn build(
    store: &Store,
    servers: &Servers,
    asked: Asked,
    exchange: Exchange,
    launch_url: LaunchUrl<'_>,
) -> Result<(ResponseHeader, Bytes), StoreFrontError> {
    let bad = |_| StoreFrontError::BadAnswer;
    let Exchange {
        header: upstream,
        body,
        ..
    } = exchange;
    let status = upstream.status.as_u16();
    let success = (200..300).contains(&status);
    let mut header = ResponseHeader::build(status, Some(upstream.headers.len())).map_err(bad)?;
    for (name, value) in upstream.headers.iter() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            header
                .append_header(name.clone(), value.clone())
                .map_err(bad)?;
        }
    }
    rewrite_headers(&mut header, store, &servers.url_map).map_err(bad)?;
    let content_type = upstream.headers.get("content-type").map(|v| v.as_bytes());
    let (body, media_type) = if success {
        success_body(store, servers, asked, body, content_type, launch_url)?
    } else if mentions_upstream(&body, servers) {
        // Error pages are passed on unless they would show the upstream's name.
        header.remove_header("content-type");
        (Bytes::new(), None)
    } else {
        (body, None)
    };
    if success && matches!(asked, Asked::SessionList | Asked::Endpoints) {
        for name in BODY_VALIDATORS {
            header.remove_header(*name);
        }
    }
    if let Some(m) = media_type {
        header.insert_header("content-type", m).map_err(bad)?;
    }
    header
        .insert_header("content-length", body.len())
        .map_err(bad)?;
    Ok((header, body))
}

/// The body of a 2xx answer and the media type to state for it, if it must be normalised.
fn success_body(
    store: &Store,
    servers: &Servers,
    asked: Asked,
    body: Bytes,
    content_type: Option<&[u8]>,
    launch_url: LaunchUrl<'_>,
) -> Result<(Bytes, Option<&'static str>), StoreFrontError> {
    match asked {
        Asked::SessionList => {
            let rewritten = session_state::rewrite_launch_urls(&body, launch_url)
                .map_err(|e| {
                    tracing::warn!(store = %store.name, error = %e, "unreadable sessionState from StoreFront");
                    StoreFrontError::BadAnswer
                })?;
            Ok((Bytes::from(rewritten), Some(media::SESSION_STATE)))
        }
        Asked::Endpoints => {
            let rewritten = endpoints::rewrite_urls(&body, &|u| servers.url_map.rewrite(u))
                .map_err(|e| {
                    tracing::warn!(store = %store.name, error = %e, "unreadable endpoints document from StoreFront");
                    StoreFrontError::BadAnswer
                })?;
            let keep =
                content_type.is_some_and(|c| media::content_type_matches(c, media::ENDPOINTS));
            Ok((Bytes::from(rewritten), (!keep).then_some(media::ENDPOINTS)))
        }
        // The launch answer carries the ICA file: it goes back byte for byte.
        Asked::Launch => {
            let normalise = content_type.is_none_or(|c| xml_alias(c, media::LAUNCH_DATA));
            Ok((body, normalise.then_some(media::LAUNCH_DATA)))
        }
        Asked::SessionResults => {
            if mentions_upstream(&body, servers) {
                return Err(StoreFrontError::BadAnswer);
            }
            let expected = asked.media();
            let normalise = content_type.is_none_or(|c| xml_alias(c, expected));
            Ok((body, normalise.then_some(expected)))
        }
    }
}
