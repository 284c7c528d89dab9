//! `Accept` negotiation and `Content-Type` matching.

use sessiongate::protocol::media::{self, accepts, content_type_matches};

use super::split_selector;

/// The media types the gateway negotiates, and two it does not serve.
const TYPES: [&str; 8] = [
    media::SESSION_PARAMS,
    media::LAUNCH_PARAMS,
    media::SESSION_STATE,
    media::SESSION_RESULTS,
    media::LAUNCH_DATA,
    media::ENDPOINTS,
    "application/xml",
    "text/html",
];

/// Longest `Accept` (all values together) the gateway reads; kept in step with `media.rs`.
const MAX_ACCEPT_LEN: usize = 4096;

/// Input: a selector byte (which media type) and `Accept` header values separated by `\n` (which
/// a header value cannot hold). Metamorphic properties, since RFC 9110 leaves no single oracle:
///
/// * ASCII case does not matter (types and `q` are case-insensitive);
/// * several header values mean the same as one joined with `,` (RFC 9110 §5.3), when all are
///   UTF-8 and the joined value is within the length bound;
/// * the exact type listed first decides: with `q=1` it is accepted, with `q=0` refused,
///   whatever follows;
/// * a trailing `*/*;q=0` changes nothing (a less specific range never overrides);
/// * `Content-Type` (the whole input after the selector as one value): a match survives an
///   added `; charset=utf-8` and ASCII case changes, and one value matches at most one type.
pub fn media(data: &[u8]) {
    let (selector, rest) = split_selector(data);
    let ty = TYPES
        .get(usize::from(selector) % TYPES.len())
        .copied()
        .unwrap_or(media::SESSION_STATE);
    let values: Vec<&[u8]> = rest.split(|b| *b == b'\n').collect();
    let total: usize = values.iter().map(|v| v.len()).sum();
    let result = accepts(values.iter().copied(), ty);

    let upper: Vec<Vec<u8>> = values.iter().map(|v| v.to_ascii_uppercase()).collect();
    assert_eq!(
        accepts(upper.iter().map(Vec::as_slice), ty),
        result,
        "ASCII case changed the answer for {ty}"
    );

    let joined = values.join(&b","[..]);
    if values.len() > 1
        && joined.len() <= MAX_ACCEPT_LEN
        && values.iter().all(|v| std::str::from_utf8(v).is_ok())
    {
        assert_eq!(
            accepts([joined.as_slice()], ty),
            result,
            "one joined value differs from {} values for {ty}",
            values.len()
        );
    }

    for (q, expected) in [("1", true), ("0", false)] {
        let first = format!("{ty};q={q}");
        if total + first.len() <= MAX_ACCEPT_LEN {
            let listed = std::iter::once(first.as_bytes()).chain(values.iter().copied());
            assert_eq!(accepts(listed, ty), expected, "{first} listed first");
        }
    }

    let none = b"*/*;q=0";
    if total + none.len() <= MAX_ACCEPT_LEN {
        let listed = values.iter().copied().chain(std::iter::once(&none[..]));
        assert_eq!(accepts(listed, ty), result, "a trailing */*;q=0 for {ty}");
    }

    content_type(rest);
}

fn content_type(value: &[u8]) {
    let matching: Vec<&str> = TYPES
        .into_iter()
        .filter(|ty| content_type_matches(value, ty))
        .collect();
    assert!(matching.len() <= 1, "{value:?} matches {matching:?}");
    for ty in matching {
        let mut with_charset = value.to_vec();
        with_charset.extend_from_slice(b"; charset=utf-8");
        assert!(
            content_type_matches(&with_charset, ty),
            "{ty} with a charset"
        );
        assert!(
            content_type_matches(&value.to_ascii_uppercase(), ty),
            "{ty} in upper case"
        );
        assert!(
            content_type_matches(&value.to_ascii_lowercase(), ty),
            "{ty} in lower case"
        );
    }
}
