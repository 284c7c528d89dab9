use super::*;
use quick_xml::Writer;

/// (namespace, local name, decoded text) of one element.
type Read = (Option<&'static str>, String, String);

/// Read a whole document, returning every element in end-tag order, or the first error.
fn read_all(body: &[u8]) -> Result<Vec<Read>, XmlError> {
    let mut c = Cursor::new(body)?;
    let mut out = Vec::new();
    let mut stack: Vec<Read> = Vec::new();
    loop {
        match c.next_node()? {
            Node::Start(e) => stack.push((e.ns, e.local().to_string(), String::new())),
            Node::Text { text, .. } => stack.last_mut().unwrap().2.push_str(&text),
            Node::End(_) => out.push(stack.pop().unwrap()),
            Node::Other(_) => {}
            Node::Eof => return Ok(out),
        }
    }
}

const NS: &str = ns::SESSION_PARAMS;

#[test]
fn prefixes_and_default_namespace_resolve_alike() {
    let a = read_all(format!(r#"<q1:a xmlns:q1="{NS}"><q1:b>x</q1:b></q1:a>"#).as_bytes());
    let b = read_all(format!(r#"<a xmlns="{NS}"><b>x</b></a>"#).as_bytes());
    assert_eq!(a, b);
    assert_eq!(a.unwrap()[0], (Some(NS), "b".into(), "x".into()));
    let none = read_all(b"<a><b>x</b></a>").unwrap();
    assert_eq!(none[0].0, None);
    let other = read_all(br#"<a xmlns="urn:other"/>"#).unwrap();
    assert_eq!(other[0].0, None);
}

#[test]
fn undeclared_prefix_is_malformed() {
    assert!(matches!(read_all(b"<q1:a/>"), Err(XmlError::Malformed(_))));
}

#[test]
fn bom_and_declared_encodings_are_ignored() {
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(b"<?xml version=\"1.0\"?><a>x</a>");
    for (body, text) in [
        (&bom[..], "x"),
        (
            "<?xml version=\"1.0\" encoding=\"utf-16\"?><a>é</a>".as_bytes(),
            "é",
        ),
        (
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>é</a>".as_bytes(),
            "é",
        ),
    ] {
        assert_eq!(
            read_all(body).unwrap()[0].2,
            text,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // Real ISO-8859-1 bytes are not UTF-8.
    assert_eq!(
        read_all(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>"),
        Err(XmlError::NotUtf8)
    );
}

#[test]
fn doctype_pi_and_entities_are_forbidden() {
    for (body, what) in [
        (
            &br#"<!DOCTYPE requesttoken [<!ENTITY % xxe SYSTEM "http://x"> %xxe; ]><requesttoken/>"#[..],
            "entity declaration",
        ),
        (
            b"<!DOCTYPE a SYSTEM \"a.dtd\"><a/>",
            "document type declaration",
        ),
        (b"<!doctype a><a/>", "document type declaration"),
        (
            b"<?xml version=\"1.0\"?><?xml-stylesheet href=\"x\"?><a/>",
            "processing instruction",
        ),
        (b"<a><?php x ?></a>", "processing instruction"),
        (b"<a>&xxe;</a>", "entity reference"),
        (b"<a b=\"&xxe;\"/>", "entity reference"),
    ] {
        assert_eq!(
            read_all(body),
            Err(XmlError::Forbidden(what)),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(read_all(b" <?xml version=\"1.0\"?><a/>").is_err());
}

#[test]
fn predefined_and_character_references_are_decoded() {
    let r = read_all(b"<a>&amp;&lt;&gt;&apos;&quot;&#65;&#x42;<![CDATA[<&>]]></a>").unwrap();
    assert_eq!(r[0].2, "&<>'\"AB<&>");
    for bad in ["<a>&#0;</a>", "<a>&#1;</a>", "<a>&#xD800;</a>"] {
        assert!(read_all(bad.as_bytes()).is_err(), "{bad}");
    }
    let mut c = Cursor::new(b"<a b=\"x&amp;y\"/>").unwrap();
    let Node::Start(e) = c.next_node().unwrap() else {
        panic!()
    };
    assert_eq!(e.attr("b").unwrap().as_deref(), Some("x&y"));
    assert_eq!(e.attr("c").unwrap(), None);
}

#[test]
fn cr_survives() {
    assert_eq!(read_all(b"<a>x\r\ny&#13;</a>").unwrap()[0].2, "x\r\ny\r");
}

#[test]
fn not_well_formed_is_refused() {
    for bad in [
        &b""[..],
        b"   ",
        b"<!-- only a comment -->",
        b"<a>",
        b"<a><b></a>",
        b"<a></b>",
        b"<a/><b/>",
        b"<a/>text",
        b"text<a/>",
        b"<a/>&amp;",
        b"<a x='1' x='2'/>",
        b"<a",
        b"<a>&amp</a>",
        // Found by the hostile corpus: each is not well-formed XML 1.0.
        b"\xef\xbb\xbf\xef\xbb\xbf<a/>",
        b"<a><![CDATA[x<![CDATA[y]]>z]]></a>",
        b"<a>x]]>y</a>",
        b"<a><!-- a -- b --></a>",
        b"<a><!-- a ---></a>",
        b"<a p:x='1'/>",
        b"<a>x\x00y</a>",
        b"<a>x\x1by</a>",
        b"<a x='\x01'/>",
    ] {
        assert!(
            matches!(read_all(bad), Err(XmlError::Malformed(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(bad),
            read_all(bad)
        );
    }
    assert!(read_all(b"<a/>\n<!-- trailing comment -->\n").is_ok());
    assert!(read_all("\u{feff}<a>tab\tand ]] > and - -</a>".as_bytes()).is_ok());
}

#[test]
fn bounds() {
    let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    assert!(read_all(deep.as_bytes()).is_ok());
    let deeper = format!(
        "{}{}",
        "<a>".repeat(MAX_DEPTH + 1),
        "</a>".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(read_all(deeper.as_bytes()), Err(XmlError::TooDeep));
    let attrs: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='1'")).collect();
    assert_eq!(
        read_all(format!("<a{attrs}/>").as_bytes()),
        Err(XmlError::TooManyAttributes)
    );
}

#[test]
fn leaf_and_skip() {
    let mut c = Cursor::new(b"<r><a>x<b>y</b>z</a><c/><d>t&amp;</d></r>").unwrap();
    c.root().unwrap();
    assert!(matches!(c.next_node().unwrap(), Node::Start(_)));
    assert_eq!(c.leaf().unwrap(), None);
    assert!(matches!(c.next_node().unwrap(), Node::Start(_)));
    assert_eq!(c.leaf().unwrap().as_deref(), Some(""));
    assert!(matches!(c.next_node().unwrap(), Node::Start(_)));
    assert_eq!(c.leaf().unwrap().as_deref(), Some("t&"));
    assert!(matches!(c.next_node().unwrap(), Node::End(_)));
    c.finish().unwrap();
}

#[test]
fn copy_is_identity() {
    let doc = "<?xml version=\"1.0\"?>\n<!-- c --><q:a xmlns:q=\"urn:x\" b=\"1&amp;\"><q:b>t&lt;&#65;<![CDATA[<]]></q:b><c/></q:a>\n";
    let mut c = Cursor::new(doc.as_bytes()).unwrap();
    let mut w = Writer::new(Vec::new());
    loop {
        let node = c.next_node().unwrap();
        if matches!(node, Node::Eof) {
            break;
        }
        copy(&mut w, node).unwrap();
    }
    assert_eq!(String::from_utf8(w.into_inner()).unwrap(), doc);
}

#[test]
fn writer_escapes() {
    let out = document(|w| text_element(w, "a", "<&>\r\n\"'"));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>&lt;&amp;&gt;&#13;\n&quot;&apos;</a>"
    );
}

#[test]
fn decode_legacy_utf8_and_latin1() {
    // UTF-8 is taken as it is, BOM dropped, whatever the declaration says.
    let utf8 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>é</a>";
    assert!(matches!(decode_legacy(utf8.as_bytes()), Ok(Cow::Borrowed(t)) if t == utf8));
    assert_eq!(decode_legacy(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    // Non-UTF-8 bytes are read as ISO-8859-1 only when declared so (any case, either quote).
    for decl in [
        &b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"[..],
        b"<?xml version='1.0' encoding='iso-8859-1'?>",
        b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>",
    ] {
        let mut body = decl.to_vec();
        body.extend_from_slice(b"<a>Caf\xe9 \xff</a>");
        let text = decode_legacy(&body).unwrap();
        assert!(text.ends_with("<a>Café ÿ</a>"), "{text}");
        assert!(matches!(text, Cow::Owned(_)));
    }
    for body in [
        &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\xe9</a>"[..],
        b"<a>\xe9</a>",
        // The declaration must be at the very start to count.
        b"<a>\xe9</a><?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
    ] {
        assert_eq!(
            decode_legacy(body),
            Err(XmlError::NotUtf8),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

/// Every node of a legacy document, or the first error.
fn read_legacy(text: &str) -> Result<Vec<String>, XmlError> {
    let mut c = Cursor::from_text(text).allow_doctype();
    let mut out = Vec::new();
    loop {
        match c.next_node()? {
            Node::Start(e) => out.push(e.local().to_string()),
            Node::Other(Event::DocType(d)) => out.push(format!("!{}", d.into_inner())),
            Node::Eof => return Ok(out),
            _ => {}
        }
    }
}

#[test]
fn allow_doctype_skips_one_without_subset() {
    let doc = "<?xml version=\"1.0\"?>\r\n<!DOCTYPE NFuseProtocol SYSTEM \"NFuse.dtd\">\r\n<NFuseProtocol><R/></NFuseProtocol>";
    assert_eq!(
        read_legacy(doc).unwrap(),
        ["!NFuseProtocol SYSTEM \"NFuse.dtd\"", "NFuseProtocol", "R"]
    );
    assert_eq!(
        read_legacy("<!DOCTYPE NFuseProtocol><a/>").unwrap().len(),
        2
    );
    assert_eq!(read_legacy("<a/>").unwrap(), ["a"]);
    // Without allow_doctype the same document is refused.
    let mut strict = Cursor::from_text(doc);
    assert_eq!(
        strict.root().err(),
        Some(XmlError::Forbidden("document type declaration"))
    );
}

#[test]
fn allow_doctype_still_refuses_subsets_and_repeats() {
    for (doc, what) in [
        (
            "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
            "entity declaration",
        ),
        (
            "<!DOCTYPE a SYSTEM \"a.dtd\" []><a/>",
            "document type declaration",
        ),
        ("<!DOCTYPE a><!DOCTYPE a><a/>", "document type declaration"),
        // A skipped DOCTYPE declares nothing: entities stay refused.
        (
            "<!DOCTYPE a SYSTEM \"a.dtd\"><a>&nbsp;</a>",
            "entity reference",
        ),
    ] {
        assert_eq!(read_legacy(doc), Err(XmlError::Forbidden(what)), "{doc}");
    }
    assert!(read_legacy("<a/><!DOCTYPE a>").is_err());
}

/// The byte-level character check agrees with XML 1.0 `Char` on the edges: C0 controls but
/// tab, LF and CR; U+FFFE and U+FFFF; everything else (DEL, C1, U+FFFD, astral) passes.
#[test]
fn character_check_on_bytes() {
    for bad in ["\u{0}", "a\u{1b}b", "\u{1f}", "x\u{fffe}", "\u{ffff}y"] {
        let text = format!("<r a=\"{bad}\"/>");
        assert!(read_all(text.as_bytes()).is_err(), "attribute {bad:?}");
        let text = format!("<r>{bad}</r>");
        assert!(read_all(text.as_bytes()).is_err(), "text {bad:?}");
    }
    for good in [
        "\t\r\n",
        "\u{7f}\u{85}",
        "é\u{fffd}\u{ef}",
        "\u{1f600}",
        "\u{efff}",
    ] {
        let text = format!("<r a=\"{good}\">{good}</r>");
        assert!(read_all(text.as_bytes()).is_ok(), "{good:?}");
    }
}

/// A rewrite copies what it keeps as the bytes read: spacing inside tags and the quotes of
/// attributes survive, only the replaced element is written anew.
#[test]
fn rewrite_keeps_the_input_bytes() {
    let doc = "\u{feff}<?xml version='1.0'?>\n<r a = 'x' >\n <u >old</u >\n <k>keep</k  >\n</r >\n";
    let out = rewrite(
        doc.as_bytes(),
        |path: &[()], e| {
            Ok(match (path.len(), e.local()) {
                (1, "u") => Visit::ReplaceText("u"),
                _ => Visit::Enter(()),
            })
        },
        |_, old| format!("{old}&new"),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<?xml version='1.0'?>\n<r a = 'x' >\n <u >old&amp;new</u>\n <k>keep</k  >\n</r >\n"
    );
}
