//! The native connector's ticket snapshot: every ticket streamed from the
//! server's export, sanitized like every other answer, and an export cut
//! short is an error, never a smaller helpdesk.

mod support;

use deskterm::backend::native::NativeBackend;
use deskterm::backend::{Backend, BackendError, BackendResult, PollPolicy, SnapshotItem};
use futures_util::StreamExt;
use support::World;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn snapshot(backend: &dyn Backend) -> Vec<BackendResult<SnapshotItem>> {
    backend
        .snapshot(&deskterm::backend::SnapshotScope::ALL)
        .await
        .expect("the export starts")
        .collect()
        .await
}

/// The native connector as the engine gets it: behind the sanitizing wrapper.
fn native(url: &str, token: &str) -> std::sync::Arc<dyn Backend> {
    let connector = NativeBackend::new(url, token).expect("backend");
    deskterm::backend::backend(connector, PollPolicy::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_is_every_ticket_sanitized_between_start_and_end() {
    let world = World::new(25).await;
    let api = world.api();
    let first = api.tickets().await.remove(0);
    api.set_title(
        first.id,
        first.version,
        "Hola\u{1b}]0;pwned\u{7} mundo\u{1b}[2J",
    )
    .await;
    let backend = native(&world.url(), &world.token);
    let since = backend.latest().await.expect("feed");

    let items = snapshot(backend.as_ref()).await;
    assert_eq!(items.len(), 27, "start, 25 tickets, end");
    assert_eq!(items[0], Ok(SnapshotItem::Start { since, total: 25 }));
    assert_eq!(items[26], Ok(SnapshotItem::End { count: 25 }));
    let tickets: Vec<_> = items[1..26]
        .iter()
        .map(|item| match item {
            Ok(SnapshotItem::Ticket(t)) => t.clone(),
            other => panic!("not a ticket: {other:?}"),
        })
        .collect();
    assert!(
        tickets
            .windows(2)
            .all(|w| (w[0].updated_at, w[0].id) > (w[1].updated_at, w[1].id)),
        "the most recently updated first"
    );
    for t in &tickets {
        // The same ticket, cleaned the same way, as the single-ticket call gives.
        assert_eq!(*t, backend.ticket(t.id).await.expect("ticket"));
    }
    assert_eq!(tickets[0].id, first.id);
    assert!(
        !tickets[0].title.contains('\u{1b}'),
        "{:?}",
        tickets[0].title
    );
    assert!(
        tickets[0].title.starts_with("Hola"),
        "{:?}",
        tickets[0].title
    );
}

/// A server that answers one request with `head` and `body`, then closes.
async fn one_answer(head: String, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        let mut request = vec![0u8; 16 * 1024];
        let _ = client.read(&mut request).await;
        let _ = client.write_all(head.as_bytes()).await;
        let _ = client.write_all(&body).await;
        let _ = client.shutdown().await;
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_cut_short_is_an_error_not_a_smaller_helpdesk() {
    let world = World::new(5).await;
    let whole = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("{}/api/v1/tickets/export", world.url()))
        .bearer_auth(&world.token)
        .send()
        .await
        .expect("export")
        .bytes()
        .await
        .expect("body")
        .to_vec();
    let text = String::from_utf8(whole).expect("UTF-8");
    let trailer_at = text.trim_end().rfind('\n').expect("lines") + 1;
    let without_trailer = text.as_bytes()[..trailer_at].to_vec();

    // A complete HTTP answer whose export lacks its trailer.
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        without_trailer.len()
    );
    let url = one_answer(head, without_trailer.clone()).await;
    let backend = native(&url, &world.token);
    let items = snapshot(backend.as_ref()).await;
    assert_eq!(items.len(), 7, "start, 5 tickets, the error: {items:?}");
    assert!(items[..6].iter().all(Result::is_ok));
    let Some(Err(BackendError::Network(why))) = items.last() else {
        panic!("not an error: {:?}", items.last());
    };
    assert!(why.contains("after 5 of 5 tickets"), "{why}");

    // The connection closing in the middle of a ticket.
    let cut = &text.as_bytes()[..text.len() / 2];
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        text.len()
    );
    let url = one_answer(head, cut.to_vec()).await;
    let backend = native(&url, &world.token);
    let items = snapshot(backend.as_ref()).await;
    assert!(
        matches!(items.last(), Some(Err(BackendError::Network(_)))),
        "{:?}",
        items.last()
    );
    let read = items
        .iter()
        .filter(|i| matches!(i, Ok(SnapshotItem::Ticket(_))))
        .count();
    assert!(read < 5, "only the tickets that arrived whole: {read}");
}
