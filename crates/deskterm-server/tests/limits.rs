//! The server holds clients to its limits: a request that never finishes
//! and a connection that sits still are cut, and at the connection cap new
//! connections wait while the timeouts free the slots of idle ones.
//!
//! Limits are short here so the tests are quick; the bounds on how long a
//! cut may take are generous, since the machine may be loaded.

mod support;

use std::time::Duration;

use deskterm_server::{Limits, Options};
use reqwest::StatusCode;
use support::Helpdesk;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far more than any limit below, far less than the minutes a client was held.
const CUT_WITHIN: Duration = Duration::from_secs(20);

/// A helpdesk served with `limits`.
async fn helpdesk(limits: Limits) -> Helpdesk {
    Helpdesk::start_with_options(Options {
        limits,
        ..Options::default()
    })
    .await
}

/// Limits with everything long but `change`.
fn long_limits(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits {
        header_read: Duration::from_secs(300),
        body_read: Duration::from_secs(300),
        idle: Duration::from_secs(300),
        max_connections: 1000,
    };
    change(&mut limits);
    limits
}

async fn connect(h: &Helpdesk) -> TcpStream {
    TcpStream::connect(h.server.as_ref().unwrap().addr)
        .await
        .unwrap()
}

/// Everything the server sends until it closes the connection; fails if it
/// has not closed it within [`CUT_WITHIN`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(CUT_WITHIN, stream.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the connection is still open after {CUT_WITHIN:?}; received so far: {}",
        String::from_utf8_lossy(&received)
    );
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_body_that_never_finishes_is_answered_408_and_cut() {
    let h = helpdesk(long_limits(|l| l.body_read = Duration::from_secs(1))).await;
    let mut stream = connect(&h).await;
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: helpdesk\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\": ",
        h.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("did not arrive within"),
        "{answer}"
    );
    assert_eq!(h.ticket_count().await, 0);
}

#[tokio::test]
async fn headers_that_never_finish_are_cut_even_when_they_trickle() {
    let h = helpdesk(long_limits(|l| l.header_read = Duration::from_secs(1))).await;
    let mut stream = connect(&h).await;
    let (mut reader, mut writer) = stream.split();
    let trickle = async {
        // One byte at a time, each well within any per-read timeout.
        for byte in b"GET /api/v1/me HTTP/1.1\r\nHost: helpdesk\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut received = Vec::new();
    let closed = tokio::select! {
        read = tokio::time::timeout(CUT_WITHIN, reader.read_to_end(&mut received)) => read.is_ok(),
        () = trickle => true,
    };
    assert!(closed, "a trickling request head was not cut");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let h = helpdesk(long_limits(|l| l.header_read = Duration::from_secs(1))).await;
    let mut stream = connect(&h).await;
    let request = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: helpdesk\r\nAuthorization: Bearer {}\r\n\r\n",
        h.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn with_the_cap_full_of_idle_connections_a_real_request_still_succeeds() {
    let h = helpdesk(long_limits(|l| {
        l.max_connections = 16;
        l.header_read = Duration::from_secs(1);
    }))
    .await;
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(connect(&h).await);
    }
    let answer = tokio::time::timeout(CUT_WITHIN, h.get("/me")).await;
    let answer = answer.expect("a real request is answered while idle connections time out");
    assert_eq!(answer.status(), StatusCode::OK);
    for stream in &mut idle {
        until_closed(stream).await;
    }
}

#[tokio::test]
async fn at_the_cap_a_connection_that_never_spoke_makes_room() {
    // Timeouts far too long to help: only closing a silent one makes room.
    let h = helpdesk(long_limits(|l| l.max_connections = 4)).await;
    let mut silent = Vec::new();
    for _ in 0..8 {
        silent.push(connect(&h).await);
    }
    let answer = tokio::time::timeout(CUT_WITHIN, h.get("/me")).await;
    let answer = answer.expect("a real request is answered at a cap held by silent connections");
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn at_the_cap_a_new_connection_waits_for_a_free_slot() {
    let h = helpdesk(long_limits(|l| {
        l.max_connections = 4;
        l.header_read = Duration::from_secs(3);
    }))
    .await;
    let request = format!(
        "GET /api/v1/me HTTP/1.1\r\nHost: helpdesk\r\nAuthorization: Bearer {}\r\n\r\n",
        h.token
    );
    // Clients that have spoken are not closed to make room: these four made
    // a request and keep their connections.
    let mut started = Vec::new();
    for _ in 0..4 {
        let mut stream = connect(&h).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"}") {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before answering");
            answer.extend_from_slice(&chunk[..n]);
        }
        started.push(stream);
    }
    let mut real = connect(&h).await;
    real.write_all(request.as_bytes()).await.unwrap();
    // Served at once, it would be answered well within this; at the cap it waits.
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), real.peek(&mut first)).await;
    assert!(
        early.is_err(),
        "a fifth connection was served while four held every slot"
    );
    // The kept-alive ones time out, and the waiting one is served.
    let answer = until_closed(&mut real).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    for stream in &mut started {
        until_closed(stream).await;
    }
}
