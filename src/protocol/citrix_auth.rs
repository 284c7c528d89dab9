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
    // RFC 7235 §2.1: `auth-scheme 1*SP token68`; only spaces part scheme and token.
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme != SCHEME {
        return Err(AuthError::WrongScheme);
    }
    let token = rest.trim_start_matches(' ');
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
mod tests;
