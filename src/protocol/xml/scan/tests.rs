//! The scanner accepts StoreFront's shapes with the `Cursor`'s output, and gives up on
//! everything outside its subset, leaving the verdict to the `Cursor`.

use super::super::{rewrite_each, DocumentError, Element, Visit};

/// Enter everything; replace the text of every `url`.
fn urls(doc: &str) -> (Option<Vec<u8>>, Result<Vec<u8>, DocumentError>) {
    let enter = |_: &[()], e: &Element<'_>| {
        Ok(if e.local() == "url" {
            Visit::ReplaceText("url")
        } else {
            Visit::Enter(())
        })
    };
    rewrite_each(doc.as_bytes(), enter, |_, old| format!("new<{old}>"))
}

fn scanned(doc: &str) -> String {
    let (fast, slow) = urls(doc);
    let slow = slow.unwrap_or_else(|e| panic!("the Cursor refuses {doc:?}: {e}"));
    let fast = fast.unwrap_or_else(|| panic!("the scanner gives up on {doc:?}"));
    assert_eq!(fast, slow, "{doc:?}");
    String::from_utf8(fast).unwrap_or_default()
}

#[test]
fn storefront_shapes_are_scanned_with_the_cursors_output() {
    let out = scanned(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<s xmlns=\"urn:x\" a='1'>\n  <session id=\"k1\">\
         <url>http://a/?x=1&amp;y=&#50;&#x33;</url></session>\n</s>\n",
    );
    assert!(
        out.contains("<url>new&lt;http://a/?x=1&amp;y=23&gt;</url>"),
        "{out}"
    );
    for doc in [
        "<a/>",
        "\u{feff}<a></a>",
        "<?xml version='1.0' standalone='no' ?><a />",
        "<a b = \"c\"\n d='e' ></a >",
        "<a><url/><url attr=\"v\" /><url></url></a>",
        "<a>text &lt;&gt;&quot;&apos; ] ]> \u{e9}\u{fffd}\t\r</a>\n\n",
        "<a xmlns=\"urn:1\"><b xmlns=\"\"><c xmlns=\"urn:2\"/></b></a>",
        "<a-b.c_d><_x/></a-b.c_d>",
    ] {
        scanned(doc);
    }
}

#[test]
fn the_scanner_gives_up_outside_its_subset_and_the_cursor_decides() {
    // The Cursor is the more lenient reader in some of these (a declaration's content, an
    // attribute without whitespace before it): the scanner need not follow it there.
    for (doc, cursor_accepts) in [
        ("<a><!-- note --></a>", true),
        ("<a><![CDATA[x]]></a>", true),
        ("<a xmlns:p=\"urn:p\"><p:b/></a>", true),
        ("<a xml:lang=\"en\"/>", true),
        ("<a b=\"&amp;\"/>", true),
        ("<a b=\"x\ty\"/>", true),
        ("<a>&#X41;</a>", false),
        (
            "<?xml version=\"1.0\" encoding=\"utf-8\" version=\"1.0\"?><a/>",
            true,
        ),
        ("<?xml encoding=\"utf-8\"?><a/>", true),
        ("<?xml-stylesheet href=\"x\"?><a/>", false),
        (" <?xml version=\"1.0\"?><a/>", false),
        ("<a><?pi x?></a>", false),
        ("<!DOCTYPE a><a/>", false),
        ("<a>&ext;</a>", false),
        ("<a>&#0;</a>", false),
        ("<a>x]]>y</a>", false),
        ("<a>\u{1}</a>", false),
        ("<a>\u{fffe}</a>", false),
        ("<a b=\"1\" b=\"2\"/>", false),
        ("<a b=\"1\"c=\"2\"/>", true),
        ("<a><b></a></b>", false),
        ("<a></a><b/>", false),
        ("x<a/>", false),
        ("<a/>x", false),
        ("<a>", false),
        ("", false),
        ("<a xmlns=\"http://www.w3.org/2000/xmlns/\"/>", true),
        ("<\u{e9}/>", true),
    ] {
        let (fast, slow) = urls(doc);
        assert_eq!(fast, None, "the scanner accepted {doc:?}");
        assert_eq!(slow.is_ok(), cursor_accepts, "{doc:?}: {slow:?}");
    }
}

#[test]
fn depth_and_attribute_bounds_are_left_to_the_cursor() {
    let deep = format!("{}{}", "<a>".repeat(33), "</a>".repeat(33));
    let attributes: String = (0..17).map(|i| format!(" a{i}=\"\"")).collect();
    for doc in [deep, format!("<a{attributes}/>")] {
        let (fast, slow) = urls(&doc);
        assert_eq!(fast, None);
        assert!(slow.is_err());
    }
    scanned(&format!("{}{}", "<a>".repeat(32), "</a>".repeat(32)));
}

#[test]
fn a_refusal_of_the_caller_is_named_by_the_cursor() {
    let enter = |_: &[()], _: &Element<'_>| Err(DocumentError::WrongRoot("x"));
    let (fast, slow) = rewrite_each(b"<a/>", enter, |_, _| String::new());
    assert_eq!(fast, None);
    assert_eq!(slow, Err(DocumentError::WrongRoot("x")));
    let enter = |_: &[()], _: &Element<'_>| Err(DocumentError::WrongRoot("x"));
    let out = super::super::rewrite(b"<a/>", enter, |_, _| String::new());
    assert_eq!(out, Err(DocumentError::WrongRoot("x")));
}
