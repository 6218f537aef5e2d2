//! The live stream against a hostile stand-in server on 127.0.0.1 that
//! speaks raw HTTP: an event that never ends must end the stream with a
//! clear error after about 1 MiB, not grow the client.

use std::time::Duration;

use deskterm::backend::native::NativeBackend;
use deskterm::backend::{BackendError, Connector, Cursor, FeedEvent};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// More than the client may hold, and more than the kernel's socket
/// buffers on both ends can absorb, so the server notices when the client
/// stops reading.
const ENDLESS: usize = 64 * 1024 * 1024;

/// Reads the request head, answers 200 with an event stream, and sends
/// `prefix` followed by `ENDLESS` bytes of one line. Reports how much of it
/// went out before the client closed the connection.
async fn serve_one(listener: TcpListener, prefix: &'static [u8], sent: oneshot::Sender<usize>) {
    let (mut socket, _) = listener.accept().await.unwrap();
    read_head(&mut socket).await;
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut total = 0;
    if socket.write_all(prefix).await.is_ok() {
        let chunk = vec![b'x'; 64 * 1024];
        while total < ENDLESS {
            if socket.write_all(&chunk).await.is_err() {
                break;
            }
            total += chunk.len();
        }
    }
    let _ = sent.send(total);
}

async fn read_head(socket: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            socket.read(&mut byte).await.unwrap(),
            1,
            "request cut short"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("GET /api/v1/events"), "{head}");
}

async fn endless(prefix: &'static [u8]) -> (Vec<Result<FeedEvent, BackendError>>, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sent_tx, sent_rx) = oneshot::channel();
    tokio::spawn(serve_one(listener, prefix, sent_tx));
    let backend = NativeBackend::new(&url, "dkt_test").unwrap();
    let mut stream = backend.live(&Cursor::new("0")).await.unwrap();
    let mut items = Vec::new();
    // Generous: the point is what comes out, not how fast.
    while let Some(item) = tokio::time::timeout(Duration::from_secs(120), stream.next())
        .await
        .expect("the live stream neither ended nor failed")
    {
        items.push(item);
    }
    drop(stream);
    let sent = tokio::time::timeout(Duration::from_secs(120), sent_rx)
        .await
        .expect("the server kept sending")
        .unwrap();
    (items, sent)
}

fn too_large(item: &Result<FeedEvent, BackendError>) -> bool {
    matches!(item, Err(BackendError::Server(m)) if m == "the live stream sent an event larger than 1 MiB")
}

#[tokio::test]
async fn an_endless_data_line_ends_the_stream_with_a_size_error() {
    let (items, sent) = endless(b"event: change\ndata: ").await;
    assert_eq!(items.len(), 1, "{:?}", items.first());
    assert!(too_large(&items[0]), "{:?}", items[0]);
    assert_eq!(
        items[0].as_ref().unwrap_err().to_string(),
        "server error: the live stream sent an event larger than 1 MiB"
    );
    // The client hung up instead of reading everything.
    assert!(sent < ENDLESS, "the client read all {sent} bytes");
}

#[tokio::test]
async fn an_endless_comment_after_a_keep_alive_ends_the_stream_too() {
    let (items, sent) = endless(b":\n\n:").await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0], Ok(FeedEvent::KeepAlive));
    assert!(too_large(&items[1]), "{:?}", items[1]);
    assert!(sent < ENDLESS, "the client read all {sent} bytes");
}
