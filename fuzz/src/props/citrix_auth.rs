//! The CitrixAuth scheme: the `Authorization` token and the `WWW-Authenticate` challenge.

use http::HeaderValue;
use sessiongate::protocol::citrix_auth::{
    parse_authorization, token_from_headers, AuthError, Challenge, MAX_TOKEN_LEN,
};

use super::documents::url_map;

/// The input is one header value, read both ways.
///
/// `Authorization`:
/// * a token is 1..=[`MAX_TOKEN_LEN`] visible ASCII characters, and `CitrixAuth <token>` gives it
///   back; one header value gives what [`parse_authorization`] gives, two are `Ambiguous`.
///
/// `WWW-Authenticate` (as the gateway rewrites StoreFront's challenge):
/// * `render(parse(x))` is one line, starts with `CitrixAuth `, parses again and is a fixed point
///   (`render(parse(render(c))) == render(c)`); without CR or LF in the input, `parse(render(c))`
///   is `c` itself;
/// * if the input is a valid header value (the only thing the gateway can meet), so is the
///   rendering, before and after the URL rewrite;
/// * after the rewrite with a store's URL map, no URL in `locations` or `serviceroot-hint` is one
///   the map would still rewrite (no upstream URL leaks), other parameters are unchanged, and
///   rewriting again changes nothing; for a valid header value this still holds after the
///   render/parse round the client does.
pub fn citrix_auth(data: &[u8]) {
    authorization(data);
    challenge(data);
}

fn authorization(data: &[u8]) {
    let one = token_from_headers([data]);
    assert_eq!(one, parse_authorization(data), "one header value");
    assert_eq!(
        token_from_headers([data, data]),
        Err(AuthError::Ambiguous),
        "two header values"
    );
    if let Ok(token) = one {
        assert!(
            !token.is_empty() && token.len() <= MAX_TOKEN_LEN,
            "token length {}",
            token.len()
        );
        assert!(
            token.bytes().all(|b| b.is_ascii_graphic()),
            "token {token:?}"
        );
        let again = format!("CitrixAuth {token}");
        assert_eq!(parse_authorization(again.as_bytes()), Ok(token), "re-read");
    }
}

fn challenge(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Some(c) = Challenge::parse(&text) else {
        return;
    };
    let valid_header = HeaderValue::from_bytes(data).is_ok();
    let rendered = c.render();
    one_line(&rendered);
    if valid_header {
        header_value(&rendered);
    }
    let again = reparse(&rendered);
    assert_eq!(again.render(), rendered, "render(parse(render(c))) differs");
    if !text.contains(['\r', '\n']) {
        assert_eq!(again, c, "parse(render(c)) differs from c");
    }

    let map = url_map();
    let rewrite = |u: &str| map.rewrite(u);
    let mut rewritten = c.clone();
    rewritten.rewrite_urls(&rewrite);
    let rendered = rewritten.render();
    one_line(&rendered);
    for name in ["realm", "reqtokentemplate", "reason"] {
        assert_eq!(rewritten.param(name), c.param(name), "parameter {name}");
    }
    no_upstream_url(&rewritten);
    let mut twice = rewritten.clone();
    twice.rewrite_urls(&rewrite);
    assert_eq!(
        twice.render(),
        rendered,
        "rewriting twice differs from once"
    );
    if valid_header {
        header_value(&rendered);
        no_upstream_url(&reparse(&rendered));
    }
}

/// No URL of the challenge is one the store's map would rewrite.
fn no_upstream_url(c: &Challenge) {
    let map = url_map();
    for url in c.locations() {
        assert_eq!(
            map.rewrite(url),
            None,
            "an upstream location survives: {url:?}"
        );
    }
    if let Some(hint) = c.param("serviceroot-hint") {
        assert_eq!(
            map.rewrite(hint),
            None,
            "an upstream serviceroot-hint survives: {hint:?}"
        );
    }
}

fn one_line(rendered: &str) {
    assert!(rendered.starts_with("CitrixAuth "), "{rendered:?}");
    assert!(!rendered.contains(['\r', '\n']), "{rendered:?} spans lines");
}

fn header_value(rendered: &str) {
    assert!(
        HeaderValue::from_str(rendered).is_ok(),
        "the rendering is not a valid header value: {rendered:?}"
    );
}

fn reparse(rendered: &str) -> Challenge {
    match Challenge::parse(rendered) {
        Some(c) => c,
        None => panic!("a rendered challenge does not parse: {rendered:?}"),
    }
}
