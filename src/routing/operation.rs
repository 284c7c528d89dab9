//! What a request under a store asks for, read from the path below the store.

use crate::protocol::media;

/// Longest session id accepted in a launch path.
pub const MAX_SESSION_ID_LEN: usize = 1024;

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
    pub fn from_store_path(rest: &str) -> Operation {
        match Operation::strict(rest) {
            Operation::Passthrough if in_owned_subtree(rest) => Operation::Reserved,
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
                if valid_session_id(id) {
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

/// Does the path, read as loosely as a server might read it (percent escapes decoded, empty
/// segments skipped, trailing dots and spaces dropped, any case), start in an owned subtree?
fn in_owned_subtree(rest: &str) -> bool {
    let mut decoded = Vec::with_capacity(rest.len());
    let mut bytes = rest.bytes();
    while let Some(b) = bytes.next() {
        let hex = |b: Option<u8>| b.and_then(|b| char::from(b).to_digit(16));
        if b == b'%' {
            let (hi, lo) = (hex(bytes.next()), hex(bytes.next()));
            match (hi, lo) {
                (Some(h), Some(l)) => decoded.push(u8::try_from(h * 16 + l).unwrap_or(0)),
                // Not an escape: a server would refuse it or keep it; either way it is no route.
                _ => decoded.push(b'%'),
            }
        } else {
            decoded.push(b);
        }
    }
    let decoded = String::from_utf8_lossy(&decoded);
    decoded
        .split(['/', '\\'])
        .map(|s| s.trim_end_matches(['.', ' ']))
        .find(|s| !s.is_empty())
        .is_some_and(|first| OWNED_SUBTREES.iter().any(|o| first.eq_ignore_ascii_case(o)))
}

/// A path segment usable as a session id: unreserved characters or percent escapes, bounded.
fn valid_session_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_SESSION_ID_LEN || id == "." || id == ".." {
        return false;
    }
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
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
            (
                "session/v1/a%2Fb/launch/ica",
                LaunchIca {
                    session_id: "a%2Fb".into(),
                },
            ),
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
        ] {
            assert_eq!(Operation::from_store_path(p), op, "{p}");
        }
        let long = format!(
            "sessions/v1/{}/launch/ica",
            "a".repeat(MAX_SESSION_ID_LEN + 1)
        );
        assert_eq!(Operation::from_store_path(&long), BadSessionId);
    }

    #[test]
    fn ids_are_encoded_for_paths() {
        use crate::protocol::url::encode_segment;
        assert_eq!(encode_segment("zyxw9876"), "zyxw9876");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
        assert!(valid_session_id(&encode_segment("é/?#")));
    }
}
