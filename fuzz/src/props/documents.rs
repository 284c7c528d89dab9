//! StoreFront's answers the gateway rewrites: `sessionState` (launch URLs) and the endpoints
//! document (service URLs).

use std::sync::OnceLock;

use sessiongate::protocol::url::{encode_segment, is_session_id, UrlMap};
use sessiongate::protocol::xml::DocumentError;
use sessiongate::protocol::{endpoints as ep, session_state as ss};

use super::params::well_formed_chars;

/// The gateway's launch URL for a session (as `config::Store::launch_url` builds it).
fn launch_url(id: &str) -> String {
    format!(
        "https://workspace.example.com/Citrix/Store/sessions/v1/{}/launch/ica",
        encode_segment(id)
    )
}

/// A launch URL that carries the id unencoded, so the writer's escaping is exercised too.
fn raw_launch_url(id: &str) -> String {
    format!("gw:{id}")
}

/// `sessionState` and its rewrite, with both URL builders:
///
/// * what parses also rewrites, unless a session's id is outside the closed alphabet of ids
///   (`url::is_session_id`): then the rewrite may refuse it, and only for that reason;
/// * a rewritten document is made of XML characters only (when the input was, with the
///   gateway's URL builder) and is a fixed point of the rewrite (`rewrite(rewrite(x)) == rewrite(x)`);
/// * it parses exactly when the input parses, to the same sessions, except that every launch URL
///   is now the gateway's for that session id (an empty one stays empty only if there was no
///   `url` to rewrite): no StoreFront URL survives.
pub fn session_state(data: &[u8]) {
    let parsed = ss::parse(data);
    for (url_for, real) in [
        (launch_url as fn(&str) -> String, true),
        (raw_launch_url, false),
    ] {
        let rewritten = ss::rewrite_launch_urls(data, &url_for);
        let (scanned, by_cursor) = ss::rewrite_launch_urls_each(data, &url_for);
        same_path_verdict(scanned, &by_cursor, &rewritten);
        if let (Ok(state), Err(e)) = (&parsed, &rewritten) {
            let odd_id = state.sessions.iter().any(|s| !is_session_id(&s.id));
            if !odd_id || *e != ss::DocumentError::BadValue("session/@id") {
                panic!("a sessionState that parses is refused by the rewrite: {e}");
            }
        }
        let Ok(out) = rewritten else { continue };
        if real && std::str::from_utf8(data).is_ok_and(|t| t.chars().all(super::is_xml_char)) {
            well_formed_chars("rewritten sessionState", &out);
        }
        match ss::rewrite_launch_urls(&out, &url_for) {
            Ok(again) => assert!(again == out, "the rewrite is not a fixed point"),
            Err(e) => panic!("a rewritten sessionState is refused by the rewrite: {e}"),
        }
        let reparsed = ss::parse(&out);
        match (&parsed, &reparsed) {
            (Ok(before), Ok(after)) => same_sessions(before, after, url_for),
            (Err(_), Err(_)) => {}
            (Ok(_), Err(e)) => panic!("the rewritten sessionState no longer parses: {e}"),
            (Err(e), Ok(_)) => panic!("the rewrite made an unreadable sessionState readable: {e}"),
        }
    }
}

fn same_sessions(before: &ss::SessionState, after: &ss::SessionState, url_for: fn(&str) -> String) {
    assert_eq!(before.enumeration, after.enumeration, "enumeration");
    assert_eq!(before.sessions.len(), after.sessions.len(), "session count");
    for (b, a) in before.sessions.iter().zip(&after.sessions) {
        let expected = url_for(&a.id);
        assert!(
            a.launch_url == expected || (a.launch_url.is_empty() && b.launch_url.is_empty()),
            "session {:?}: launch URL {:?} after the rewrite (was {:?})",
            a.id,
            a.launch_url,
            b.launch_url
        );
        let mut b = b.clone();
        b.launch_url.clone_from(&a.launch_url);
        assert_eq!(&b, a, "a session changed beyond its launch URL");
    }
}

/// The URL map of a store whose StoreFront servers call themselves `10.0.0.11`,
/// `sf.corp.local` or `[fd00::11]:8080`.
pub(super) fn url_map() -> &'static UrlMap {
    static MAP: OnceLock<UrlMap> = OnceLock::new();
    MAP.get_or_init(|| {
        match UrlMap::new(
            &[
                "10.0.0.11:80".into(),
                "sf.corp.local".into(),
                "[fd00::11]:8080".into(),
            ],
            "/Citrix/Store",
            "https://workspace.example.com/Citrix/Store/",
        ) {
            Ok(map) => map,
            Err(e) => panic!("the fuzz URL map: {e}"),
        }
    })
}

/// The endpoints document and its rewrite with a store's URL map:
///
/// * what parses also rewrites, unless a session's id is outside the closed alphabet of ids
///   (`url::is_session_id`): then the rewrite may refuse it, and only for that reason; a rewritten document is made of XML characters only (when the
///   input was) and is a fixed point of the rewrite;
/// * it parses exactly when the input parses, to the same endpoints with each URL mapped (or kept
///   when the map leaves it), and no URL of it is one the map would still rewrite: no upstream URL
///   survives.
pub fn endpoints(data: &[u8]) {
    let map = url_map();
    let rewrite = |u: &str| map.rewrite(u);
    let parsed = ep::parse(data);
    let rewritten = ep::rewrite_urls(data, &rewrite);
    let (scanned, by_cursor) = ep::rewrite_urls_each(data, &rewrite);
    same_path_verdict(scanned, &by_cursor, &rewritten);
    if let (Ok(_), Err(e)) = (&parsed, &rewritten) {
        panic!("an endpoints document that parses is refused by the rewrite: {e}");
    }
    let Ok(out) = rewritten else { return };
    if std::str::from_utf8(data).is_ok_and(|t| t.chars().all(super::is_xml_char)) {
        well_formed_chars("rewritten endpoints", &out);
    }
    match ep::rewrite_urls(&out, &rewrite) {
        Ok(again) => assert!(again == out, "the rewrite is not a fixed point"),
        Err(e) => panic!("a rewritten endpoints document is refused by the rewrite: {e}"),
    }
    match (&parsed, ep::parse(&out)) {
        (Ok(before), Ok(after)) => {
            assert_eq!(before.len(), after.len(), "endpoint count");
            for (b, a) in before.iter().zip(&after) {
                let expected = map.rewrite(&b.url).unwrap_or_else(|| b.url.clone());
                assert_eq!(a.url, expected, "endpoint {:?}", b.id);
                assert_eq!((&a.id, &a.capabilities), (&b.id, &b.capabilities));
                assert_eq!(
                    map.rewrite(&a.url),
                    None,
                    "an upstream URL survives: {:?}",
                    a.url
                );
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("the rewritten endpoints document no longer parses: {e}"),
        (Err(e), Ok(_)) => panic!("the rewrite made an unreadable document readable: {e}"),
    }
}

/// The scanner's fast path gives exactly the `Cursor`'s output whenever it does not give up,
/// and the rewrite is whatever the `Cursor` says.
fn same_path_verdict(
    scanned: Option<Vec<u8>>,
    by_cursor: &Result<Vec<u8>, DocumentError>,
    rewritten: &Result<Vec<u8>, DocumentError>,
) {
    assert!(
        by_cursor == rewritten,
        "the rewrite differs from the Cursor's"
    );
    match (scanned, by_cursor) {
        (Some(fast), Ok(slow)) => assert!(fast == *slow, "the scanner's output differs"),
        (Some(_), Err(e)) => panic!("the scanner accepts what the Cursor refuses: {e}"),
        (None, _) => {}
    }
}
