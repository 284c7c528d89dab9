//! Writing an answer the gateway holds whole (an origin-mode answer, or a rejection): the one
//! place that sends a header and, unless the request was HEAD, the body.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

/// Send `header` and `body`. A client that went away is not an error: there is nobody left to
/// answer, and the access log records the request all the same.
pub async fn write(session: &mut Session, header: ResponseHeader, body: Bytes) {
    let head_only = session.req_header().method == http::Method::HEAD;
    let written = async {
        session
            .write_response_header(Box::new(header), head_only)
            .await?;
        if !head_only {
            session.write_response_body(Some(body), true).await?;
        }
        Ok::<_, Box<pingora::Error>>(())
    };
    if let Err(e) = written.await {
        tracing::debug!(error = %e, "client closed before the answer was written");
    }
}

/// The header of a 200 the gateway answers itself: media type, exact length, not cached.
pub fn ok(media_type: &'static str, length: usize) -> pingora::Result<ResponseHeader> {
    let mut header = ResponseHeader::build(200, Some(4))?;
    header.insert_header("content-type", media_type)?;
    header.insert_header("content-length", length)?;
    header.insert_header("cache-control", "no-cache")?;
    Ok(header)
}
