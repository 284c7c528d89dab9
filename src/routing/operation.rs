//! What a request under a store asks for, read from the path below the store.

use crate::protocol::{media, url};

/// The operations the gateway treats specially; everything else is plain passthrough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `POST sessions/v1/available` (endpoint id `ListSessions`).
    ListSessions,
    /// `POST sessions/v1/disconnect` (`DisconnectSessions`).
    DisconnectSessions,
    /// `POST sessions/v1/logoff` (`LogOffSessions`).
    LogOffSessions,
    /// `POST sessions/v1/{id}/launch/ica`; the id is kept as it appeared in the path.
    LaunchIca { session_id: String },
    /// `sessions/v1/{id}/launch/ica` with an id that cannot be a session id.
    BadSessionId,
    /// `GET endpoints/v1`: answered with URLs rewritten.
    Endpoints,
    /// A path in a subtree the gateway owns (`sessions/`, `session/`, `endpoints/`) that names no
    /// route it serves. Never passed through: the server might read it as a route the gateway
    /// checks (IIS decodes `%61vailable`, merges `//`, drops trailing dots), which would bypass
    /// every rule.
    Reserved,
    /// Any other path under the store.
    Passthrough,
}

impl Operation {
    /// The `operation` metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Operation::ListSessions => "available",
            Operation::DisconnectSessions => "disconnect",
            Operation::LogOffSessions => "logoff",
            Operation::LaunchIca { .. } | Operation::BadSessionId => "launch",
            Operation::Endpoints => "endpoints",
            Operation::Reserved => "reserved",
            Operation::Passthrough => "passthrough",
        }
    }

    /// Is this a Sessions Service route (POST only, token, Accept, body checks)?
    pub fn is_sessions(&self) -> bool {
        matches!(
            self,
            Operation::ListSessions
                | Operation::DisconnectSessions
                | Operation::LogOffSessions
                | Operation::LaunchIca { .. }
                | Operation::BadSessionId
        )
    }

    /// The media type of the answer, which the client's `Accept` must allow.
    pub fn response_media(&self) -> Option<&'static str> {
        match self {
            Operation::ListSessions => Some(media::SESSION_STATE),
            Operation::DisconnectSessions | Operation::LogOffSessions => {
                Some(media::SESSION_RESULTS)
            }
            Operation::LaunchIca { .. } | Operation::BadSessionId => Some(media::LAUNCH_DATA),
            Operation::Endpoints | Operation::Reserved | Operation::Passthrough => None,
        }
    }

    /// The media type the request body must have.
    pub fn request_media(&self) -> Option<&'static str> {
        match self {
            Operation::ListSessions | Operation::DisconnectSessions | Operation::LogOffSessions => {
                Some(media::SESSION_PARAMS)
            }
            Operation::LaunchIca { .. } | Operation::BadSessionId => Some(media::LAUNCH_PARAMS),
            Operation::Endpoints | Operation::Reserved | Operation::Passthrough => None,
        }
    }

    /// Read the operation from the path below the store (no leading slash, no query).
    ///
    /// Anything that is not provably outside the gateway's subtrees is [`Operation::Reserved`]:
    /// a path that is not exactly one of the routes is passed through only when its first
    /// segment is plain ASCII (letters, digits, `-`, `_`, inner dots) and names no owned subtree,
    /// and no segment, however loosely a server decodes it, is a dot segment. A Windows server
    /// reads `%uNNNN`, overlong UTF-8, `ſ`/`ı`/`K` folded to ASCII, fullwidth `／`, `;params`
    /// and trailing dots or spaces in ways no list can follow; this rule does not need to.
    pub fn from_store_path(rest: &str) -> Operation {
        match Operation::strict(rest) {
            Operation::Passthrough if !provably_outside(rest) => Operation::Reserved,
            op => op,
        }
    }

    /// The routes exactly as the gateway serves them.
    fn strict(rest: &str) -> Operation {
        let trimmed = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = trimmed.split('/');
        let first = segments.next().unwrap_or("");
        let service =
            first.eq_ignore_ascii_case("sessions") || first.eq_ignore_ascii_case("session");
        let segs: Vec<&str> = segments.collect();
        if first.eq_ignore_ascii_case("endpoints")
            && segs.len() == 1
            && segs.first().is_some_and(|s| s.eq_ignore_ascii_case("v1"))
        {
            return Operation::Endpoints;
        }
        if !service || !segs.first().is_some_and(|v| v.eq_ignore_ascii_case("v1")) {
            return Operation::Passthrough;
        }
        match segs.as_slice() {
            [_, op] if op.eq_ignore_ascii_case("available") => Operation::ListSessions,
            [_, op] if op.eq_ignore_ascii_case("disconnect") => Operation::DisconnectSessions,
            [_, op] if op.eq_ignore_ascii_case("logoff") => Operation::LogOffSessions,
            [_, id, launch, ica]
                if launch.eq_ignore_ascii_case("launch") && ica.eq_ignore_ascii_case("ica") =>
            {
                if url::is_session_id(id) {
                    Operation::LaunchIca {
                        session_id: (*id).to_string(),
                    }
                } else {
                    Operation::BadSessionId
                }
            }
            _ => Operation::Passthrough,
        }
    }
}

/// Subtrees below a store that belong to the gateway: nothing in them is passed through.
const OWNED_SUBTREES: &[&str] = &["sessions", "session", "endpoints"];
/// Rounds of percent-decoding a server might apply (IIS decodes twice in some configurations).
const DECODE_ROUNDS: usize = 3;

/// Is the path below the store certainly not in an owned subtree, on any server?
fn provably_outside(rest: &str) -> bool {
    if rest.is_empty() {
        return true;
    }
    let first = rest.split('/').next().unwrap_or("");
    let plain = !first.is_empty()
        && !first.ends_with('.')
        && first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    plain
        && !OWNED_SUBTREES.iter().any(|o| first.eq_ignore_ascii_case(o))
        && !loosely_decoded(rest)
            .split(['/', '\\'])
            .map(|s| s.trim_matches([' ', '\t']))
            .any(|s| !s.is_empty() && s.bytes().all(|b| b == b'.'))
}

/// `path` as loosely as a server might read it: percent escapes (`%XX` and IIS's `%uNNNN`)
/// decoded for a few rounds, overlong UTF-8 taken as the character it encodes, fullwidth forms
/// and Unicode letters that case-insensitive matching folds to ASCII mapped to ASCII.
fn loosely_decoded(path: &str) -> String {
    let mut text = path.to_string();
    for _ in 0..DECODE_ROUNDS {
        let next = percent_decoded(&text);
        if next == text {
            break;
        }
        text = next;
    }
    text.chars().map(fold).collect()
}

/// One round of `%XX` and `%uNNNN` decoding; bytes that are not UTF-8 are read as overlong
/// sequences where they are one, else dropped.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |s: Option<&[u8]>| {
        s.and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let wide = bytes
            .get(i + 1)
            .is_some_and(|u| u.eq_ignore_ascii_case(&b'u'));
        match (b, wide) {
            (b'%', true) if hex(bytes.get(i + 2..i + 6)).is_some() => {
                let c = hex(bytes.get(i + 2..i + 6)).and_then(char::from_u32);
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.unwrap_or('\u{fffd}').encode_utf8(&mut buf).as_bytes());
                i += 6;
            }
            (b'%', false) if hex(bytes.get(i + 1..i + 3)).is_some() => {
                out.extend(hex(bytes.get(i + 1..i + 3)).and_then(|v| u8::try_from(v).ok()));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    overlong_to_ascii(&out)
}

/// UTF-8 text, with two- and three-byte overlong encodings of ASCII (`C0 AF` for `/`) replaced
/// by the character they encode, as lenient decoders do.
fn overlong_to_ascii(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let next = |k: usize| bytes.get(i + k).copied().unwrap_or(0);
        match b {
            0xC0 | 0xC1 if next(1) & 0xC0 == 0x80 => {
                out.push(((b & 0x01) << 6) | (next(1) & 0x3F));
                i += 2;
            }
            0xE0 if next(1) & 0xE0 == 0x80 && next(2) & 0xC0 == 0x80 => {
                out.push(((next(1) & 0x01) << 6) | (next(2) & 0x3F));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The ASCII character a server's case-insensitive or width-insensitive matching may take `c`
/// for, lower case.
fn fold(c: char) -> char {
    match c {
        'ſ' => 's',
        'ı' | 'İ' => 'i',
        '\u{212A}' => 'k',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
    .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_routes() {
        use Operation::*;
        for (p, op) in [
            ("sessions/v1/available", ListSessions),
            ("sessions/v1/available/", ListSessions),
            ("Sessions/V1/Available", ListSessions),
            ("session/v1/available", ListSessions),
            ("sessions/v1/disconnect/", DisconnectSessions),
            ("sessions/v1/logoff", LogOffSessions),
            (
                "sessions/v1/abc-1/launch/ica",
                LaunchIca {
                    session_id: "abc-1".into(),
                },
            ),
            ("session/v1/a%2Fb/launch/ica", BadSessionId),
            ("sessions/v1/..%2F..%2Fx/launch/ica", BadSessionId),
            ("sessions/v1/%41/launch/ica", BadSessionId),
            ("sessions/v1/a b/launch/ica", BadSessionId),
            ("sessions/v1/../launch/ica", BadSessionId),
            ("sessions/v1/%zz/launch/ica", BadSessionId),
            ("endpoints/v1", Endpoints),
            ("resources/v2", Passthrough),
            ("resources/sessions/v1/available", Passthrough),
            ("sessionsx/v1/available", Passthrough),
            ("", Passthrough),
            ("sessions/v2/available", Reserved),
            ("sessions/v1/available/x", Reserved),
            ("sessions/v1/%61vailable", Reserved),
            ("%73essions/v1/available", Reserved),
            ("/sessions/v1/available", Reserved),
            ("sessions./v1/available", Reserved),
            ("SESSION/v1/logoff.", Reserved),
            ("endpoints/v1/x", Reserved),
            ("endpoints/v2", Reserved),
            // Spellings a Windows server may read as the Sessions Service: not provably
            // outside, so never passed through.
            ("ſessions/v1/available", Reserved),
            ("%C5%BFessions/v1/available", Reserved),
            ("sessıons/v1/available", Reserved),
            ("%u0073essions/v1/available", Reserved),
            ("sessions%C0%AFv1%C0%AFavailable", Reserved),
            ("sessions%EF%BC%8Fv1%EF%BC%8Favailable", Reserved),
            ("sessions;x/v1/available", Reserved),
            (" sessions/v1/available", Reserved),
            ("sessions\t/v1/available", Reserved),
            ("resources/..%u002fsessions/v1/available", Reserved),
            ("resources/%C0%AE%C0%AE/sessions/v1/available", Reserved),
            ("resources/%252e%252e/sessions/v1/available", Reserved),
            (
                "resources/%EF%BC%8E%EF%BC%8E/sessions/v1/available",
                Reserved,
            ),
            (
                "resources/v2/Controller.Notepad%20%24S1-2/launch/ica",
                Passthrough,
            ),
            ("Home/index.html", Passthrough),
        ] {
            assert_eq!(Operation::from_store_path(p), op, "{p}");
        }
        let long = format!(
            "sessions/v1/{}/launch/ica",
            "a".repeat(url::MAX_SESSION_ID_LEN + 1)
        );
        assert_eq!(Operation::from_store_path(&long), BadSessionId);
    }

    #[test]
    fn ids_are_encoded_for_paths() {
        use crate::protocol::url::encode_segment;
        assert_eq!(encode_segment("zyxw9876"), "zyxw9876");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert!(!url::is_session_id(&encode_segment("é/?#")));
        assert!(url::is_session_id(&encode_segment("zyxw-9876_.~")));
    }
}
