//! The request bodies the gateway canonicalises: `sessionparams` and `launchparams`.

use sessiongate::protocol::launch_params::{self, FIELDS, MAX_VALUE_LEN};
use sessiongate::protocol::session_params::{self, Limits, ParamsError, SessionParams};
use sessiongate::protocol::xml::is_xml_space;

use super::is_xml_char;

/// `sessionparams`, read as for `available` (no tickets) and as for `disconnect`/`logoff`:
///
/// * a refusal has one of the three documented reason classes;
/// * what is accepted without tickets is accepted, the same, with tickets allowed;
/// * every kept value is trimmed, non-empty, free of control characters and within the limits;
///   tickets only where allowed, visible ASCII only;
/// * the canonical body is made of XML characters only, re-parses (same mode, same limits) to the
///   same value, and is a fixed point (`to_xml(parse(to_xml(p))) == to_xml(p)`);
/// * the answer is the `Cursor`'s, and the scanner's fast path, where it accepts, gives the same
///   value (it never accepts what the `Cursor` refuses).
pub fn session_params(data: &[u8]) {
    let limits = Limits::default();
    let without = session_params::parse(data, false, &limits);
    let with = session_params::parse(data, true, &limits);
    for (allow_tickets, result) in [(false, &without), (true, &with)] {
        let (scanned, by_cursor) = session_params::parse_each(data, allow_tickets, &limits);
        assert!(&by_cursor == result, "the answer differs from the Cursor's");
        if let Some(Ok(fast)) = scanned {
            assert!(
                by_cursor == Ok(fast),
                "the scanner accepts a different value"
            );
        }
    }
    if let Ok(p) = &without {
        assert_eq!(
            with.as_ref(),
            Ok(p),
            "allowing tickets changed an accepted body"
        );
    }
    for (allow_tickets, result) in [(false, &without), (true, &with)] {
        match result {
            Ok(p) => canonical_session_params(p, allow_tickets, &limits),
            Err(e) => known_reason(e),
        }
    }
}

fn known_reason(e: &ParamsError) {
    assert!(
        matches!(
            e.reason(),
            "body_malformed" | "body_forbidden_markup" | "body_invalid"
        ),
        "unknown reason {:?} for {e:?}",
        e.reason()
    );
}

/// A kept value: trimmed, not empty, no control character, at most `max` characters.
fn clean_value(what: &str, value: &str, max: usize) {
    assert!(!value.is_empty(), "{what} is empty");
    assert_eq!(
        value,
        value.trim_matches(is_xml_space),
        "{what} is not trimmed"
    );
    assert!(
        !value.chars().any(char::is_control),
        "{what} holds a control character: {value:?}"
    );
    assert!(value.chars().count() <= max, "{what} is longer than {max}");
}

fn canonical_session_params(p: &SessionParams, allow_tickets: bool, limits: &Limits) {
    clean_value("clientName", &p.client_name, limits.max_name_len);
    if let Some(device_id) = &p.device_id {
        clean_value("deviceId", device_id, limits.max_name_len);
    }
    assert!(
        allow_tickets || p.tickets.is_empty(),
        "tickets where none are allowed"
    );
    assert!(
        p.tickets.len() <= limits.max_tickets,
        "too many tickets kept"
    );
    for t in &p.tickets {
        assert!(
            !t.is_empty() && t.len() <= limits.max_ticket_len,
            "ticket length {}",
            t.len()
        );
        assert!(t.bytes().all(|b| b.is_ascii_graphic()), "ticket {t:?}");
    }
    let xml = p.to_xml();
    well_formed_chars("canonical sessionparams", &xml);
    match session_params::parse(&xml, allow_tickets, limits) {
        Ok(again) => assert_eq!(&again, p, "the canonical body reads back differently"),
        Err(e) => panic!(
            "the canonical body is refused ({e}): {}",
            String::from_utf8_lossy(&xml)
        ),
    }
}

/// `launchparams`:
///
/// * every kept field is one of the sixteen, trimmed, non-empty, without control characters,
///   at most [`MAX_VALUE_LEN`] characters;
/// * the canonical body is made of XML characters only, re-parses to the same value and is a
///   fixed point;
/// * setting each kept field to its own value changes nothing.
pub fn launch_params(data: &[u8]) {
    let p = match launch_params::parse(data) {
        Ok(p) => p,
        Err(e) => return known_reason(&e),
    };
    for (name, value) in p.fields() {
        assert!(FIELDS.contains(&name), "unknown field {name}");
        clean_value(name, value, MAX_VALUE_LEN);
        assert_eq!(p.get(name), Some(value), "get({name})");
    }
    let xml = p.to_xml();
    well_formed_chars("canonical launchparams", &xml);
    match launch_params::parse(&xml) {
        Ok(again) => {
            assert_eq!(again, p, "the canonical body reads back differently");
            assert_eq!(
                again.to_xml(),
                xml,
                "the canonical body is not a fixed point"
            );
        }
        Err(e) => panic!(
            "the canonical body is refused ({e}): {}",
            String::from_utf8_lossy(&xml)
        ),
    }
    let mut copy = p.clone();
    for (name, value) in p.fields() {
        assert_eq!(copy.set(name, Some(value)), Ok(true), "set({name})");
    }
    assert_eq!(copy, p, "setting fields to their own values changed them");
}

/// The document is UTF-8 made of XML 1.0 characters only.
pub(super) fn well_formed_chars(what: &str, xml: &[u8]) {
    match std::str::from_utf8(xml) {
        Ok(text) => {
            if let Some(c) = text.chars().find(|c| !is_xml_char(*c)) {
                panic!("{what} holds {c:?}, not an XML character: {text:?}");
            }
        }
        Err(_) => panic!("{what} is not UTF-8"),
    }
}
