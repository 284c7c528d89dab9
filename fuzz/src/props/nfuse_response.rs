//! What a legacy farm's XML broker answers (NFuse), read for every request kind.

use sessiongate::protocol::nfuse::{
    parse_response, parse_response_each, ErrorId, RequestKind, Response, ResponseError,
    MAX_SESSIONS, MAX_TEXT_CHARS,
};

/// Longest error text kept (`ErrorId`, `MPSError`, `BrowserError`); kept in step with
/// `response.rs`.
const MAX_ERROR_CHARS: usize = 64;

/// The input is a broker's answer, read as the answer to each of the six request kinds:
///
/// * the answer has the shape of the kind asked (sessions only for `ReconnectSessionData`,
///   `Done` for disconnect and logoff, an address, a ticket, a farm name);
/// * every kept text is trimmed and at most [`MAX_TEXT_CHARS`] characters; the values an answer
///   needs (`InName`, `HostId`, `SessionId`, `ServerAddress`, `Ticket`, `ServerFarmName`) are not
///   empty, optional ones are absent rather than empty; at most [`MAX_SESSIONS`] sessions;
/// * an `ErrorId` answer keeps at most 64 characters of text, trimmed in front, and its id is
///   what [`ErrorId::parse`] makes of that text;
/// * a UTF-8 byte order mark in front changes nothing;
/// * the answer is the `Cursor`'s, and the scanner's fast path, where it takes the answer, reads
///   the same (it never takes what the `Cursor` refuses).
pub fn nfuse_response(data: &[u8]) {
    for kind in RequestKind::ALL {
        let result = parse_response(data, kind);
        let (scanned, by_cursor) = parse_response_each(data, kind);
        assert_eq!(
            by_cursor, result,
            "the {kind:?} answer differs from the Cursor's"
        );
        if let Some(Ok(fast)) = scanned {
            assert_eq!(
                Ok(fast),
                by_cursor,
                "the scanner reads the {kind:?} answer otherwise"
            );
        }
        if !data.starts_with(b"\xef\xbb\xbf") {
            let mut with_bom = b"\xef\xbb\xbf".to_vec();
            with_bom.extend_from_slice(data);
            assert_eq!(
                parse_response(&with_bom, kind),
                result,
                "a byte order mark changed the {kind:?} answer"
            );
        }
        match result {
            Ok(response) => shape(kind, &response),
            Err(ResponseError::Farm(e)) => {
                error_text("ErrorId", &e.raw);
                assert_eq!(e.id, ErrorId::parse(&e.raw), "ErrorId of {:?}", e.raw);
                if let Some(detail) = &e.detail {
                    error_text("error detail", detail);
                    assert!(!detail.is_empty(), "an empty error detail is kept");
                }
            }
            Err(ResponseError::Document(_) | ResponseError::Xml(_)) => {}
        }
    }
}

/// An error text: trimmed in front, at most 64 characters (the cut may end on a space, which
/// is harmless for a text that is only reported).
fn error_text(what: &str, value: &str) {
    assert_eq!(value, value.trim_start(), "{what} is not trimmed");
    assert!(
        value.chars().count() <= MAX_ERROR_CHARS,
        "{what} is longer than {MAX_ERROR_CHARS}"
    );
}

/// A kept text: trimmed, bounded, and not empty if `required`.
fn kept(what: &str, value: &str, max: usize, required: bool) {
    assert_eq!(value, value.trim(), "{what} is not trimmed");
    assert!(value.chars().count() <= max, "{what} is longer than {max}");
    assert!(!required || !value.is_empty(), "{what} is empty");
}

fn optional(what: &str, value: Option<&String>) {
    if let Some(v) = value {
        kept(what, v, MAX_TEXT_CHARS, true);
    }
}

fn shape(kind: RequestKind, response: &Response) {
    match (kind, response) {
        (RequestKind::ReconnectSessionData, Response::Sessions(list)) => {
            assert!(list.sessions.len() <= MAX_SESSIONS, "too many sessions");
            for s in &list.sessions {
                kept("InName", &s.session.in_name, MAX_TEXT_CHARS, true);
                kept("HostId", &s.session.host_id, MAX_TEXT_CHARS, true);
                kept("HostId type", &s.session.host_id_type, MAX_TEXT_CHARS, true);
                kept("SessionId", &s.session.session_id, MAX_TEXT_CHARS, true);
                optional("ServerType", s.server_type.as_ref());
                optional("ClientType", s.client_type.as_ref());
            }
        }
        (RequestKind::DisconnectUserSessions | RequestKind::LogoffUserSessions, Response::Done) => {
        }
        (RequestKind::Address, Response::Address(a)) => {
            kept("ServerAddress", &a.server_address, MAX_TEXT_CHARS, true);
            for (what, value) in [
                ("addresstype", &a.address_type),
                ("ServerType", &a.server_type),
                ("ConnectionType", &a.connection_type),
                ("TicketTag", &a.ticket_tag),
                ("SSLRelayAddress", &a.ssl_relay_address),
                ("CGPAddress", &a.cgp_address),
            ] {
                optional(what, value.as_ref());
            }
        }
        (RequestKind::Ticket, Response::Ticket(t)) => kept("Ticket", t, MAX_TEXT_CHARS, true),
        (RequestKind::ServerFarmData, Response::FarmName(n)) => {
            kept("ServerFarmName", n, MAX_TEXT_CHARS, true)
        }
        (kind, other) => panic!("{kind:?} answered with {other:?}"),
    }
}
