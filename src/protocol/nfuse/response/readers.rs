//! The two readers of [`parse_response`](super::parse_response) agree: the scanner reads what
//! brokers send, DOCTYPE and ISO-8859-1 included, with the `Cursor`'s result; anything else is
//! the `Cursor`'s to answer.

use super::*;
use crate::protocol::nfuse::RequestKind;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/nfuse/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Read by the scanner, with the `Cursor`'s answer (which must be one).
fn scanned(body: &[u8], kind: RequestKind) -> Response {
    let (fast, slow) = parse_response_each(body, kind);
    let slow = slow.unwrap_or_else(|e| panic!("the Cursor refuses it: {e}"));
    assert_eq!(
        fast,
        Some(Ok(slow.clone())),
        "{}",
        String::from_utf8_lossy(body)
    );
    assert_eq!(parse_response(body, kind), Ok(slow.clone()));
    slow
}

#[test]
fn brokers_answers_are_read_by_the_scanner_with_the_cursors_result() {
    for (name, kind) in [
        (
            "reconnect-session-data-one.xml",
            RequestKind::ReconnectSessionData,
        ),
        (
            "reconnect-session-data-empty.xml",
            RequestKind::ReconnectSessionData,
        ),
        (
            "disconnect-user-sessions.xml",
            RequestKind::DisconnectUserSessions,
        ),
        ("address-launch.xml", RequestKind::Address),
        ("ticket.xml", RequestKind::Ticket),
        ("server-farm-data.xml", RequestKind::ServerFarmData),
    ] {
        let body = fixture(name);
        scanned(&body, kind);
        // The same answer declared and sent as ISO-8859-1, a name with an accent in it.
        let latin1: Vec<u8> = String::from_utf8(body)
            .unwrap()
            .replacen("UTF-8", "ISO-8859-1", 1)
            .replace("Notepad", "Bloc-notes é")
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        scanned(&latin1, kind);
    }
}

#[test]
fn a_doctype_outside_the_plain_form_is_the_cursors() {
    let body = fixture("reconnect-session-data-one.xml");
    let text = String::from_utf8(body).unwrap();
    // (the DOCTYPE, whether the Cursor reads the answer)
    for (doctype, read) in [
        ("<!DOCTYPE NFuseProtocol [<!ENTITY x \"y\">]>", false),
        (
            "<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\"><!DOCTYPE NFuseProtocol>",
            false,
        ),
        ("<!DOCTYPE NFuseProtocol SYSTEM \"NFuse<.dtd\">", true),
    ] {
        let doc = text.replace("<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">", doctype);
        let (fast, slow) = parse_response_each(doc.as_bytes(), RequestKind::ReconnectSessionData);
        assert!(!matches!(fast, Some(Ok(_))), "{doctype}");
        assert_eq!(slow.is_ok(), read, "{doctype}");
        assert_eq!(
            parse_response(doc.as_bytes(), RequestKind::ReconnectSessionData),
            slow
        );
    }
    // A comment is read by the Cursor, with the same answer.
    let commented = text.replace("<AppDataSet>", "<!-- c --><AppDataSet>");
    let (fast, slow) = parse_response_each(commented.as_bytes(), RequestKind::ReconnectSessionData);
    assert!(fast.is_none() || matches!(fast, Some(Err(_))));
    assert_eq!(
        slow,
        Ok(scanned(text.as_bytes(), RequestKind::ReconnectSessionData))
    );
}

#[test]
fn a_brokers_error_is_named_by_the_cursor() {
    let body = fixture("error-unspecified.xml");
    let (fast, slow) = parse_response_each(&body, RequestKind::Address);
    assert!(matches!(slow, Err(ResponseError::Farm(_))), "{slow:?}");
    assert!(!matches!(fast, Some(Ok(_))));
    assert_eq!(parse_response(&body, RequestKind::Address), slow);
}
