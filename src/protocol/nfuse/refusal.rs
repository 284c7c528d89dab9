//! The answers the relay gives itself when it refuses a request: what an NFuse client
//! understands, HTTP 200 with the `Response*` element matching the request holding an
//! `<ErrorId>` (citrix-protocols.md §1.7), never a bare 403 that a client could misread as
//! success (nmap's brute-force script does exactly that, §3.9).

use std::io;

use quick_xml::Writer;

use super::error_id::ErrorId;
use super::request::write_prolog;
use super::request_type::RequestType;
use super::VERSION;
use crate::protocol::xml::text_element;

/// `<NFuseProtocol version="5.0"><Response…><ErrorId>…</ErrorId></Response…></NFuseProtocol>`,
/// with the declaration and DOCTYPE a broker writes.
pub fn refusal(request: RequestType, id: ErrorId) -> Vec<u8> {
    let mut w = Writer::new(Vec::with_capacity(256));
    let written = write(&mut w, &request.response_element(), id.as_str());
    // Writing into a Vec cannot fail; `Write` is only generic.
    debug_assert!(written.is_ok());
    w.into_inner()
}

fn write(w: &mut Writer<Vec<u8>>, element: &str, id: &str) -> io::Result<()> {
    write_prolog(w)?;
    w.create_element("NFuseProtocol")
        .with_attribute(("version", VERSION))
        .write_inner_content(|w| {
            w.create_element(element)
                .write_inner_content(|w| text_element(w, "ErrorId", id))
                .map(|_| ())
        })
        .map(|_| ())
}
