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
    let long = format!("CitrixAuth {}", "a".repeat(MAX_TOKEN_LEN + 1));
    let cases: &[(&[u8], Result<&str, AuthError>)] = &[
        (b"CitrixAuth abc==", Ok("abc==")),
        (b"CitrixAuth   H4sI+/x", Ok("H4sI+/x")),
        (b"", Err(AuthError::Missing)),
        (b"   ", Err(AuthError::Missing)),
        (b"citrixauth abc", Err(AuthError::WrongScheme)),
        (b"Bearer abc", Err(AuthError::WrongScheme)),
        (b"CitrixAuthabc", Err(AuthError::WrongScheme)),
        (b"CitrixAuth", Err(AuthError::NoToken)),
        (b"CitrixAuth    ", Err(AuthError::NoToken)),
        (b"CitrixAuth a b", Err(AuthError::InvalidToken)),
        (b"CitrixAuth a\x01", Err(AuthError::InvalidToken)),
        // RFC 7235: only spaces part the scheme from the token.
        (b"CitrixAuth\tabc", Err(AuthError::WrongScheme)),
        (b"CitrixAuth \tabc", Err(AuthError::InvalidToken)),
        (b"CitrixAuth \xff", Err(AuthError::InvalidToken)),
        (long.as_bytes(), Err(AuthError::InvalidToken)),
    ];
    for &(header, want) in cases {
        assert_eq!(
            parse_authorization(header),
            want,
            "{}",
            String::from_utf8_lossy(header)
        );
    }
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
    for header in [
        "Negotiate",
        "CitrixAuthX realm=\"a\"",
        "CitrixAuth realm=\"unterminated",
        "CitrixAuth =x",
        "CitrixAuth",
    ] {
        assert!(Challenge::parse(header).is_none(), "{header}");
    }
}

#[test]
fn quotes_in_values_are_escaped() {
    let c = Challenge::new("a\"b", "notoken", &[], "x");
    let back = Challenge::parse(&c.render()).unwrap();
    assert_eq!(back.param("realm"), Some("a\"b"));
}
