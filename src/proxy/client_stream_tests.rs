//! The client stream over a real loopback connection.

use super::*;
use pingora::protocols::l4::stream::Stream as L4Stream;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// A connected pair: the gateway's side wrapped, the client's side raw.
async fn pair() -> (Stream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (served, _) = listener.accept().await.unwrap();
    (ClientStream::wrap(Box::new(L4Stream::from(served))), client)
}

#[tokio::test]
async fn a_peek_leaves_the_request_to_be_read() {
    let (mut served, mut client) = pair().await;
    client.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
    let mut first = [0u8; 1];
    assert!(served.try_peek(&mut first).await.unwrap());
    assert_eq!(&first, b"P");
    let mut read = vec![0u8; 17];
    served.read_exact(&mut read).await.unwrap();
    assert_eq!(read, b"POST / HTTP/1.1\r\n");
}

#[tokio::test]
async fn gathered_and_oversized_writes_all_reach_the_client_in_order() {
    let (mut served, mut client) = pair().await;
    served.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
    served
        .write_all(&[b'x'; 3 * GATHER_LIMIT_BYTES])
        .await
        .unwrap();
    served.write_all(b"end").await.unwrap();
    served.flush().await.unwrap();
    served.shutdown().await.unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got.len(), 19 + 3 * GATHER_LIMIT_BYTES + 3);
    assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n\r\nxxx"));
    assert!(got.ends_with(b"xend"));
}

#[tokio::test]
async fn an_answer_is_held_until_the_flush_and_no_buffer_outlives_it() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (served, _) = listener.accept().await.unwrap();
    let mut stream = ClientStream {
        inner: Box::new(L4Stream::from(served)),
        ahead: BytesMut::new(),
        out: BytesMut::new(),
    };
    stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
    stream.write_all(b"body").await.unwrap();
    assert_eq!(stream.out.len(), 23, "both writes gathered, nothing sent");
    stream.flush().await.unwrap();
    assert_eq!(
        stream.out.capacity(),
        0,
        "the buffer is given back after the send"
    );
    let mut got = [0u8; 23];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"HTTP/1.1 200 OK\r\n\r\nbody");
}
