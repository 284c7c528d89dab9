//! The CitrixAuth HTTP authentication scheme: `Authorization: CitrixAuth <token>` and the
//! `WWW-Authenticate` challenge.
//!
//! Real clients read the challenge with a strict regular expression (one line, the parameters
//! `realm`, `reqtokentemplate`, `reason`, `locations`, `serviceroot-hint` in that order, `", "`
//! between them), so [`Challenge::render`] writes exactly that and rewriting an upstream challenge
//! keeps its parameters in the order they came.

use thiserror::Error;

/// The scheme name; case-sensitive, as in the CitrixAuth specification.
pub const SCHEME: &str = "CitrixAuth";
/// Longest token accepted; StoreFront tokens are compressed and base64-encoded, a few KiB at most.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Longest upstream challenge we parse.
const MAX_CHALLENGE_LEN: usize = 16 * 1024;

/// Why an `Authorization` header does not carry a usable CitrixAuth token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error("the request has no Authorization header")]
    Missing,
    #[error("the Authorization header does not use the CitrixAuth scheme")]
    WrongScheme,
    #[error("the Authorization header carries no CitrixAuth token")]
    NoToken,
    #[error("the CitrixAuth token holds characters a token cannot hold, or is too long")]
    InvalidToken,
    #[error("the request has more than one Authorization header")]
    Ambiguous,
}

impl AuthError {
    /// The challenge `reason` that answers this error.
    pub fn challenge_reason(self) -> &'static str {
        match self {
            AuthError::InvalidToken => "invalidtoken",
            _ => "notoken",
        }
    }
}

/// Extract the token of `CitrixAuth <token>`. The token is 1*VCHAR (printable ASCII, no spaces).
pub fn parse_authorization(value: &[u8]) -> Result<&str, AuthError> {
    let value = std::str::from_utf8(value).map_err(|_| AuthError::InvalidToken)?;
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    if value.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if scheme != SCHEME {
        return Err(AuthError::WrongScheme);
    }
    let token = rest.trim_start_matches([' ', '\t']);
    if token.is_empty() {
        return Err(AuthError::NoToken);
    }
    if token.len() > MAX_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthError::InvalidToken);
    }
    Ok(token)
}

/// Find the CitrixAuth token among all `Authorization` header values of a request.
pub fn token_from_headers<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<&'a str, AuthError> {
    let mut values = values.into_iter();
    let first = values.next().ok_or(AuthError::Missing)?;
    if values.next().is_some() {
        return Err(AuthError::Ambiguous);
    }
    parse_authorization(first)
}

/// A CitrixAuth challenge, its parameters kept in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    params: Vec<(String, String)>,
}

impl Challenge {
    /// The standard challenge, parameters in the order real clients expect.
    pub fn new(
        realm: &str,
        reason: &str,
        locations: &[String],
        serviceroot_hint: &str,
    ) -> Challenge {
        Challenge {
            params: vec![
                ("realm".into(), realm.into()),
                ("reqtokentemplate".into(), String::new()),
                ("reason".into(), reason.into()),
                ("locations".into(), locations.join("|")),
                ("serviceroot-hint".into(), serviceroot_hint.into()),
            ],
        }
    }

    /// The value of a parameter, if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The token-service URLs of `locations`.
    pub fn locations(&self) -> Vec<&str> {
        self.param("locations")
            .map(|l| l.split('|').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Rewrite every URL of `locations` and `serviceroot-hint` with `map` (which returns `None` to
    /// keep a URL as it is).
    pub fn rewrite_urls(&mut self, map: &dyn Fn(&str) -> Option<String>) {
        for (name, value) in &mut self.params {
            if name.eq_ignore_ascii_case("locations") {
                let parts: Vec<String> = value
                    .split('|')
                    .map(|u| map(u).unwrap_or_else(|| u.to_string()))
                    .collect();
                *value = parts.join("|");
            } else if name.eq_ignore_ascii_case("serviceroot-hint") {
                if let Some(new) = map(value) {
                    *value = new;
                }
            }
        }
    }

    /// The `WWW-Authenticate` value: one line, `", "` between parameters.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str(SCHEME);
        out.push(' ');
        for (i, (name, value)) in self.params.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(name);
            out.push_str("=\"");
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                // A header value cannot carry line breaks; nothing we write contains them.
                if c != '\r' && c != '\n' {
                    out.push(c);
                }
            }
            out.push('"');
        }
        out
    }

    /// Parse a `WWW-Authenticate` value holding a CitrixAuth challenge (auth-params, quoted or
    /// token values, optional whitespace and line folding). `None` if it is not one.
    pub fn parse(value: &str) -> Option<Challenge> {
        if value.len() > MAX_CHALLENGE_LEN {
            return None;
        }
        let rest = value.trim_start().strip_prefix(SCHEME)?;
        if !rest.is_empty() && !rest.starts_with([' ', '\t', '\r', '\n']) {
            return None;
        }
        let mut params = Vec::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() || c == ',' {
                    break;
                }
                name.push(c);
                chars.next();
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if name.is_empty() || chars.next() != Some('=') {
                return None;
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut val = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => val.push(chars.next()?),
                        c => val.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' || c.is_whitespace() {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
            }
            params.push((name, val));
        }
        (!params.is_empty()).then_some(Challenge { params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The regular expression S-PSMOD (a Citrix-written client) applies to the header.
    fn psmod_regex_matches(h: &str) -> Option<[String; 5]> {
        // Equivalent of: ^CitrixAuth realm="(.*?)", reqtokentemplate="(.*?)", reason="(.*?)",
        // locations="(.*?)", serviceroot-hint="(.*?)"$ without a regex dependency.
        let rest = h.strip_prefix("CitrixAuth realm=\"")?;
        let (realm, rest) = rest.split_once("\", reqtokentemplate=\"")?;
        let (tpl, rest) = rest.split_once("\", reason=\"")?;
        let (reason, rest) = rest.split_once("\", locations=\"")?;
        let (loc, rest) = rest.split_once("\", serviceroot-hint=\"")?;
        let hint = rest.strip_suffix('"')?;
        Some([realm, tpl, reason, loc, hint].map(String::from))
    }

    #[test]
    fn authorization_forms() {
        assert_eq!(parse_authorization(b"CitrixAuth abc=="), Ok("abc=="));
        assert_eq!(parse_authorization(b"CitrixAuth   H4sI+/x"), Ok("H4sI+/x"));
        assert_eq!(parse_authorization(b""), Err(AuthError::Missing));
        assert_eq!(parse_authorization(b"   "), Err(AuthError::Missing));
        assert_eq!(
            parse_authorization(b"citrixauth abc"),
            Err(AuthError::WrongScheme)
        );
        assert_eq!(
            parse_authorization(b"Bearer abc"),
            Err(AuthError::WrongScheme)
        );
        assert_eq!(
            parse_authorization(b"CitrixAuthabc"),
            Err(AuthError::WrongScheme)
        );
        assert_eq!(parse_authorization(b"CitrixAuth"), Err(AuthError::NoToken));
        assert_eq!(
            parse_authorization(b"CitrixAuth    "),
            Err(AuthError::NoToken)
        );
        assert_eq!(
            parse_authorization(b"CitrixAuth a b"),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(
            parse_authorization(b"CitrixAuth a\x01"),
            Err(AuthError::InvalidToken)
        );
        assert_eq!(
            parse_authorization(b"CitrixAuth \xff"),
            Err(AuthError::InvalidToken)
        );
        let long = format!("CitrixAuth {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            parse_authorization(long.as_bytes()),
            Err(AuthError::InvalidToken)
        );
    }

    #[test]
    fn several_authorization_headers_are_refused() {
        let v: [&[u8]; 2] = [b"CitrixAuth a", b"CitrixAuth b"];
        assert_eq!(token_from_headers(v), Err(AuthError::Ambiguous));
        assert_eq!(
            token_from_headers(std::iter::empty()),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn rendered_challenge_matches_the_client_regex() {
        let c = Challenge::new(
            "6b78ab94-a709-4e3a-8b9b-a49ca317c70c",
            "notoken",
            &["https://a.example/t1".into(), "https://a.example/t2".into()],
            "https://a.example/Citrix/Store/resources/v2",
        );
        let h = c.render();
        assert_eq!(
            h,
            "CitrixAuth realm=\"6b78ab94-a709-4e3a-8b9b-a49ca317c70c\", reqtokentemplate=\"\", \
             reason=\"notoken\", locations=\"https://a.example/t1|https://a.example/t2\", \
             serviceroot-hint=\"https://a.example/Citrix/Store/resources/v2\""
        );
        let m = psmod_regex_matches(&h).unwrap();
        assert_eq!(m[2], "notoken");
        assert_eq!(m[3], "https://a.example/t1|https://a.example/t2");
    }

    #[test]
    fn parse_folded_upstream_challenge_and_rewrite() {
        let upstream = "CitrixAuth realm=\"6b78\",\r\n      reqtokentemplate=\"\", reason=\"expired\",\r\n   locations=\"http://10.0.0.11/Citrix/StoreAuth/auth/v1/token\",\r\n  serviceroot-hint=\"http://10.0.0.11/Citrix/Store/resources/v2\"";
        let mut c = Challenge::parse(upstream).unwrap();
        assert_eq!(c.param("reason"), Some("expired"));
        assert_eq!(
            c.locations(),
            vec!["http://10.0.0.11/Citrix/StoreAuth/auth/v1/token"]
        );
        c.rewrite_urls(&|u| {
            u.strip_prefix("http://10.0.0.11")
                .map(|p| format!("https://pub{p}"))
        });
        let m = psmod_regex_matches(&c.render()).unwrap();
        assert_eq!(m[3], "https://pub/Citrix/StoreAuth/auth/v1/token");
        assert_eq!(m[4], "https://pub/Citrix/Store/resources/v2");
    }

    #[test]
    fn parse_rejects_other_schemes_and_garbage() {
        assert!(Challenge::parse("Negotiate").is_none());
        assert!(Challenge::parse("CitrixAuthX realm=\"a\"").is_none());
        assert!(Challenge::parse("CitrixAuth realm=\"unterminated").is_none());
        assert!(Challenge::parse("CitrixAuth =x").is_none());
        assert!(Challenge::parse("CitrixAuth").is_none());
    }

    #[test]
    fn quotes_in_values_are_escaped() {
        let c = Challenge::new("a\"b", "notoken", &[], "x");
        let back = Challenge::parse(&c.render()).unwrap();
        assert_eq!(back.param("realm"), Some("a\"b"));
    }
}
