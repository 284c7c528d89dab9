//! Media types of the Store API and `Accept` / `Content-Type` negotiation.
//!
//! Matching follows RFC 9110 §12.5.1: types are compared without regard to case, parameters other
//! than `q` are ignored, the most specific matching range decides the quality, and `q=0` excludes.

/// Request body of `available`, `disconnect` and `logoff`.
pub const SESSION_PARAMS: &str = "application/vnd.citrix.sessionparams+xml";
/// Request body of `.../launch/ica`.
pub const LAUNCH_PARAMS: &str = "application/vnd.citrix.launchparams+xml";
/// Answer of `available`.
pub const SESSION_STATE: &str = "application/vnd.citrix.sessionstate+xml";
/// Answer of `disconnect` and `logoff`.
pub const SESSION_RESULTS: &str = "application/vnd.citrix.sessionresults+xml";
/// Answer of `.../launch/ica`.
pub const LAUNCH_DATA: &str = "application/vnd.citrix.launchdata+xml";
/// The endpoints document (`{store}/endpoints/v1`).
pub const ENDPOINTS: &str = "application/vnd.citrix.endpoints+xml";
/// What the gateway forwards as the canonical request `Content-Type` of a sessionparams body.
pub const SESSION_PARAMS_UTF8: &str = "application/vnd.citrix.sessionparams+xml; charset=utf-8";
/// What the gateway forwards as the canonical request `Content-Type` of a launchparams body.
pub const LAUNCH_PARAMS_UTF8: &str = "application/vnd.citrix.launchparams+xml; charset=utf-8";

/// Longest `Accept` value we look at; longer values are refused rather than scanned.
const MAX_ACCEPT_LEN: usize = 4096;

/// The `type/subtype` part of a media type value, trimmed, parameters dropped.
fn essence(value: &str) -> &str {
    value.split(';').next().unwrap_or("").trim()
}

/// Does a `Content-Type` value name `expected` (case-insensitive, parameters such as `charset`
/// allowed)?
pub fn content_type_matches(value: &[u8], expected: &str) -> bool {
    std::str::from_utf8(value)
        .map(|v| essence(v).eq_ignore_ascii_case(expected))
        .unwrap_or(false)
}

/// One media range of an `Accept` header with its quality in thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    quality: u16,
}

impl<'a> Range<'a> {
    fn parse(item: &'a str) -> Option<Self> {
        let mut parts = split_outside_quotes(item, b';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut quality = 1000;
        for param in parts {
            if let Some((name, value)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("q") {
                    quality = parse_quality(value.trim())?;
                }
            }
        }
        Some(Range {
            kind,
            subtype,
            quality,
        })
    }

    /// 2 for an exact match, 1 for `type/*`, 0 for `*/*`, `None` when the range does not match.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        if self.kind == "*" {
            return Some(0);
        }
        if !self.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if self.subtype == "*" {
            return Some(1);
        }
        self.subtype.eq_ignore_ascii_case(subtype).then_some(2)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
/// Split a header value on `delimiter` where it is not inside a quoted string (RFC 9110 §5.6.4:
/// a comma or semicolon inside `"…"`, or escaped there with `\`, is part of the value).
fn split_outside_quotes(value: &str, delimiter: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let text = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, b) in text.bytes().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                _ if b == delimiter && !quoted => {
                    rest = text.get(i + 1..);
                    return text.get(..i);
                }
                _ => {}
            }
        }
        rest = None;
        Some(text)
    })
}

fn parse_quality(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .enumerate()
    {
        let digit = u16::from(b - b'0');
        thousandths += digit * [100, 10, 1].get(i).copied().unwrap_or(0);
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Does an `Accept` header (all its values, in order) allow `media`?
///
/// A missing header means `*/*`. Unparseable ranges are skipped; a header with no usable range
/// at all allows nothing.
pub fn accepts<'a>(values: impl IntoIterator<Item = &'a [u8]>, media: &str) -> bool {
    let (kind, subtype) = media.split_once('/').unwrap_or((media, ""));
    let mut seen_header = false;
    // (specificity, quality) of the most specific range that matches.
    let mut best: Option<(u8, u16)> = None;
    let mut total = 0usize;
    for value in values {
        seen_header = true;
        total += value.len();
        if total > MAX_ACCEPT_LEN {
            return false;
        }
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        for range in split_outside_quotes(value, b',').filter_map(Range::parse) {
            if let Some(spec) = range.specificity(kind, subtype) {
                // Equal specificity: the first listed wins, as most servers do.
                if best.is_none_or(|(s, _)| spec > s) {
                    best = Some((spec, range.quality));
                }
            }
        }
    }
    if !seen_header {
        return true;
    }
    best.is_some_and(|(_, q)| q > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(accept: &str, media: &str) -> bool {
        accepts([accept.as_bytes()], media)
    }

    #[test]
    fn missing_accept_means_anything() {
        assert!(accepts(std::iter::empty::<&[u8]>(), SESSION_STATE));
    }

    #[test]
    fn exact_and_wildcards() {
        assert!(ok(SESSION_STATE, SESSION_STATE));
        assert!(ok("APPLICATION/VND.CITRIX.SESSIONSTATE+XML", SESSION_STATE));
        assert!(ok("*/*", SESSION_STATE));
        assert!(ok("application/*", SESSION_STATE));
        assert!(ok("text/html, application/*;q=0.1", SESSION_STATE));
        assert!(!ok("text/*", SESSION_STATE));
        assert!(!ok(SESSION_RESULTS, SESSION_STATE));
        assert!(!ok("application/xml", SESSION_STATE));
    }

    #[test]
    fn parameters_other_than_q_are_ignored() {
        assert!(ok(
            "application/vnd.citrix.sessionstate+xml; charset=utf-8; version=1",
            SESSION_STATE
        ));
    }

    #[test]
    fn quoted_parameters_do_not_split_the_list() {
        // A comma or semicolon inside a quoted string is part of the parameter, not a new range.
        let cases = [
            (
                r#"text/html; x="a, application/vnd.citrix.sessionstate+xml""#,
                false,
            ),
            (
                r#"text/html; x="a; q=1", application/vnd.citrix.sessionstate+xml"#,
                true,
            ),
            (
                r#"application/vnd.citrix.sessionstate+xml; x="\", q=0"; q=0.5"#,
                true,
            ),
            (
                r#"application/vnd.citrix.sessionstate+xml; x="a;q=0""#,
                true,
            ),
        ];
        for (accept, want) in cases {
            assert_eq!(ok(accept, SESSION_STATE), want, "{accept}");
        }
    }

    #[test]
    fn q_zero_excludes_and_most_specific_wins() {
        assert!(!ok(
            "application/vnd.citrix.sessionstate+xml;q=0",
            SESSION_STATE
        ));
        assert!(!ok(
            "*/*, application/vnd.citrix.sessionstate+xml;q=0",
            SESSION_STATE
        ));
        assert!(ok(
            "*/*;q=0, application/vnd.citrix.sessionstate+xml;q=0.5",
            SESSION_STATE
        ));
        assert!(!ok("*/*;q=0.000", SESSION_STATE));
        assert!(ok("*/*;q=0.001", SESSION_STATE));
        assert!(!ok("application/*;q=0, */*", SESSION_STATE));
    }

    #[test]
    fn garbage_ranges_are_skipped() {
        assert!(!ok("", SESSION_STATE));
        assert!(!ok("nonsense", SESSION_STATE));
        assert!(!ok("*/xml", SESSION_STATE));
        assert!(ok("nonsense, */*", SESSION_STATE));
        assert!(!ok("*/*;q=2", SESSION_STATE));
        assert!(!ok("*/*;q=0.5x", SESSION_STATE));
        assert!(!accepts([&[0xff, 0xfe][..]], SESSION_STATE));
    }

    #[test]
    fn several_header_lines_are_combined() {
        assert!(accepts(
            [
                &b"text/html"[..],
                &b"application/vnd.citrix.sessionresults+xml"[..]
            ],
            SESSION_RESULTS
        ));
    }

    #[test]
    fn oversized_accept_is_refused() {
        let long = "text/html, ".repeat(1000) + "*/*";
        assert!(!ok(&long, SESSION_STATE));
    }

    #[test]
    fn content_type() {
        assert!(content_type_matches(
            SESSION_PARAMS.as_bytes(),
            SESSION_PARAMS
        ));
        assert!(content_type_matches(
            b"Application/Vnd.Citrix.SessionParams+XML ; charset=UTF-8",
            SESSION_PARAMS
        ));
        assert!(!content_type_matches(b"application/xml", SESSION_PARAMS));
        assert!(!content_type_matches(b"", SESSION_PARAMS));
        assert!(!content_type_matches(&[0xff], SESSION_PARAMS));
    }
}
