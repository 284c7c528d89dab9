//! A client connection that never panics on what the server does: hostile requests may be
//! answered, refused by closing, reset, or not answered at all, and the test must tell which
//! (lint allowances come from `mod.rs`).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use super::Response;

/// What came back on a connection.
#[derive(Debug)]
pub enum Reply {
    /// A complete response (interim 1xx answers skipped).
    Response(Response),
    /// The server closed (or reset) the connection before a complete response.
    Closed,
    /// Nothing complete arrived within the read timeout.
    TimedOut,
    /// Bytes that are not an HTTP/1.x response.
    Garbled(String),
}

/// A raw connection with a bound on every read.
pub struct RawConn {
    reader: BufReader<TcpStream>,
}

impl RawConn {
    /// Connect to `addr`; every read waits at most `timeout`.
    pub fn open(addr: SocketAddr, timeout: Duration) -> RawConn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(timeout)).expect("timeout");
        stream.set_write_timeout(Some(timeout)).expect("timeout");
        RawConn {
            reader: BufReader::new(stream),
        }
    }

    /// Write `bytes`; `false` when the server no longer takes them (it closed or reset the
    /// connection), which a refusal may legitimately do.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        let stream = self.reader.get_mut();
        stream
            .write_all(bytes)
            .and_then(|()| stream.flush())
            .is_ok()
    }

    /// Half-close: the server reads end of stream after what was sent.
    pub fn shutdown_write(&mut self) {
        let _ = self.reader.get_ref().shutdown(Shutdown::Write);
    }

    /// Read one reply; `head` says the request was HEAD (no body follows).
    pub fn read(&mut self, head: bool) -> Reply {
        match read_response(&mut self.reader, head) {
            Ok(r) => Reply::Response(r),
            Err(e) => e,
        }
    }

    /// Send a request and read its reply.
    pub fn roundtrip(&mut self, request: &[u8]) -> Reply {
        self.send(request);
        self.read(request.starts_with(b"HEAD "))
    }

    /// Does the server close the connection now (end of stream or reset within the read
    /// timeout, with no further bytes)?
    pub fn closes(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe
            ),
        }
    }
}

/// An I/O error as a reply: a timeout, or the connection going away.
fn io_reply(e: &std::io::Error) -> Reply {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Reply::TimedOut,
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe => Reply::Closed,
        _ => Reply::Garbled(e.to_string()),
    }
}

/// One line, line ending included; end of stream before any byte is `Closed`.
fn line(reader: &mut impl BufRead) -> Result<String, Reply> {
    let mut buf = Vec::new();
    match reader.read_until(b'\n', &mut buf) {
        Ok(0) => Err(Reply::Closed),
        Ok(_) if !buf.ends_with(b"\n") => Err(Reply::Closed),
        Ok(_) => Ok(String::from_utf8_lossy(&buf).into_owned()),
        Err(e) => Err(io_reply(&e)),
    }
}

/// Status, version and header fields of one response.
type Head = (u16, String, Vec<(String, String)>);

/// Status line and header fields of one response.
fn read_head(reader: &mut impl BufRead) -> Result<Head, Reply> {
    let status_line = line(reader)?;
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or("").to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| Reply::Garbled(format!("status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let field = line(reader)?;
        let field = field.trim_end_matches(['\r', '\n']);
        if field.is_empty() {
            return Ok((status, version, headers));
        }
        let (n, v) = field
            .split_once(':')
            .ok_or_else(|| Reply::Garbled(format!("header line {field:?}")))?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
}

/// A chunked body, to its last chunk.
fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, Reply> {
    let mut body = Vec::new();
    loop {
        let size = line(reader)?;
        let size = size.trim().split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size, 16)
            .map_err(|_| Reply::Garbled(format!("chunk size {size:?}")))?;
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).map_err(|e| io_reply(&e))?;
        chunk.truncate(n);
        body.extend_from_slice(&chunk);
        if n == 0 {
            return Ok(body);
        }
    }
}

/// Read one final response, skipping 1xx answers.
pub fn read_response(reader: &mut impl BufRead, head: bool) -> Result<Response, Reply> {
    loop {
        let (status, version, headers) = read_head(reader)?;
        if (100..200).contains(&status) {
            continue;
        }
        let mut resp = Response {
            status,
            version,
            headers,
            body: Vec::new(),
        };
        if head || status == 204 || status == 304 {
            return Ok(resp);
        }
        if resp
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            resp.body = read_chunked(reader)?;
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| Reply::Garbled(format!("content-length {len:?}")))?;
            let mut body = vec![0; len];
            reader.read_exact(&mut body).map_err(|e| io_reply(&e))?;
            resp.body = body;
        } else {
            reader
                .read_to_end(&mut resp.body)
                .map_err(|e| io_reply(&e))?;
        }
        return Ok(resp);
    }
}
