//! What a client sends to the XML relay (NFuse), read with the relay's reader.

use sessiongate::protocol::nfuse::inbound::MAX_USER_CHARS;
use sessiongate::protocol::nfuse::{only_disconnected, parse_inbound, CredentialForm};

/// The input is a request body:
///
/// * the user name kept for the throttle is lower-case and at most [`MAX_USER_CHARS`]
///   characters;
/// * the safeguard's rewrite of a request naming active sessions is read again as the same
///   request type with the same credentials, naming active sessions no more;
/// * a UTF-8 byte order mark in front changes nothing.
pub fn nfuse_request(data: &[u8]) {
    let result = parse_inbound(data);
    if !data.starts_with(b"\xef\xbb\xbf") {
        let mut with_bom = b"\xef\xbb\xbf".to_vec();
        with_bom.extend_from_slice(data);
        assert_eq!(
            parse_inbound(&with_bom),
            result,
            "a byte order mark changed the reading"
        );
    }
    let Ok(request) = result else {
        return;
    };
    if let CredentialForm::Password { user } = &request.credentials {
        assert!(
            user.chars().count() <= MAX_USER_CHARS,
            "the user key is unbounded"
        );
        assert_eq!(user, &user.to_lowercase(), "the user key is not lower-case");
    }
    if request.active_sessions {
        let rewritten = match only_disconnected(data) {
            Ok(r) => r,
            Err(e) => panic!("the safeguard cannot rewrite an accepted request: {e}"),
        };
        match parse_inbound(&rewritten) {
            Ok(again) => {
                assert_eq!(
                    again.request, request.request,
                    "the rewrite changed the type"
                );
                assert_eq!(
                    again.credentials, request.credentials,
                    "the rewrite changed the credentials"
                );
                assert!(
                    !again.active_sessions,
                    "the rewrite still names active sessions"
                );
            }
            Err(e) => panic!("the safeguard's rewrite is refused: {e}"),
        }
    }
}
