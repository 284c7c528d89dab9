//! Turning a StoreFront server's answer into the client's: URLs rewritten to the public side,
//! media types normalised, hop-by-hop headers dropped, exact framing.

use bytes::Bytes;
use pingora::http::ResponseHeader;

use super::error::GatewayError;
use crate::backend::storefront::Exchange;
use crate::config::{Store, StoreFront};
use crate::protocol::citrix_auth::Challenge;
use crate::protocol::url::UrlMap;
use crate::protocol::{endpoints, media, session_state};
use crate::routing::operation::encode_session_id;
use crate::routing::Operation;

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

/// The public launch URL of a session.
pub fn launch_url(store: &Store, session_id: &str) -> String {
    format!(
        "{}/sessions/v1/{}/launch/ica",
        store.public_url,
        encode_session_id(session_id)
    )
}

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
fn mentions_upstream(body: &[u8], sf: &StoreFront) -> bool {
    sf.names.iter().any(|n| {
        body.windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n.as_bytes()))
    })
}

/// The client's answer for a Sessions Service or endpoints exchange.
pub fn build(
    store: &Store,
    sf: &StoreFront,
    operation: &Operation,
    exchange: Exchange,
) -> Result<(ResponseHeader, Bytes), GatewayError> {
    let Exchange {
        header: upstream,
        body,
        ..
    } = exchange;
    let status = upstream.status.as_u16();
    let success = (200..300).contains(&status);
    let mut header = ResponseHeader::build(status, Some(upstream.headers.len()))
        .map_err(|_| GatewayError::BadUpstreamAnswer)?;
    for (name, value) in upstream.headers.iter() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            header
                .append_header(name.clone(), value.clone())
                .map_err(|_| GatewayError::BadUpstreamAnswer)?;
        }
    }
    rewrite_headers(&mut header, store, &sf.url_map)
        .map_err(|_| GatewayError::BadUpstreamAnswer)?;

    let content_type = upstream.headers.get("content-type").map(|v| v.as_bytes());
    let (body, media_type) = match (operation, success) {
        (Operation::ListSessions, true) => {
            let rewritten = session_state::rewrite_launch_urls(&body, &|id| launch_url(store, id))
                .map_err(|e| {
                    tracing::warn!(store = %store.name, error = %e, "unreadable sessionState from StoreFront");
                    GatewayError::BadUpstreamAnswer
                })?;
            (Bytes::from(rewritten), Some(media::SESSION_STATE))
        }
        (Operation::Endpoints, true) => {
            let rewritten = endpoints::rewrite_urls(&body, &|u| sf.url_map.rewrite(u)).map_err(|e| {
                tracing::warn!(store = %store.name, error = %e, "unreadable endpoints document from StoreFront");
                GatewayError::BadUpstreamAnswer
            })?;
            let keep =
                content_type.is_some_and(|c| media::content_type_matches(c, media::ENDPOINTS));
            (Bytes::from(rewritten), (!keep).then_some(media::ENDPOINTS))
        }
        // The launch answer carries the ICA file: it goes back byte for byte.
        (Operation::LaunchIca { .. }, true) => {
            let normalise = content_type.is_none_or(|c| xml_alias(c, media::LAUNCH_DATA));
            (body, normalise.then_some(media::LAUNCH_DATA))
        }
        (_, true) => {
            if mentions_upstream(&body, sf) {
                return Err(GatewayError::BadUpstreamAnswer);
            }
            let expected = operation.response_media();
            let normalise = expected.filter(|e| content_type.is_none_or(|c| xml_alias(c, e)));
            (body, normalise)
        }
        // Error pages are passed on unless they would show the upstream's name.
        (_, false) => {
            if mentions_upstream(&body, sf) {
                header.remove_header("content-type");
                (Bytes::new(), None)
            } else {
                (body, None)
            }
        }
    };
    let rewritten = matches!(operation, Operation::ListSessions | Operation::Endpoints);
    if success && rewritten {
        for name in BODY_VALIDATORS {
            header.remove_header(*name);
        }
    }
    if let Some(m) = media_type {
        header
            .insert_header("content-type", m)
            .map_err(|_| GatewayError::BadUpstreamAnswer)?;
    }
    header
        .insert_header("content-length", body.len())
        .map_err(|_| GatewayError::BadUpstreamAnswer)?;
    Ok((header, body))
}
