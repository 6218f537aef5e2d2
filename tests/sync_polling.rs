//! The change feed polled instead of pushed: the native connector in
//! poll-only mode against the reference server. Each poll reads the last
//! page of the one before again (the overlap a backend with coarse feed
//! positions needs); every remote change must still arrive exactly once, and
//! none may be missed across a server restart.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use deskterm::backend::{Cursor, PollPolicy};
use deskterm::sync::SyncEvent;
use deskterm::sync::cache::Cache;
use deskterm_api::TicketId;
use support::{Client, World, loaded};

/// How many times each (ticket, version) was announced as changed.
fn announced(events: &[SyncEvent]) -> HashMap<(TicketId, i64), usize> {
    let mut seen = HashMap::new();
    for e in events {
        if let SyncEvent::TicketChanged(t) = e {
            *seen.entry((t.id, t.version)).or_default() += 1;
        }
    }
    seen
}

/// Whether a change of `id` to `title` has arrived.
fn arrived(events: &[SyncEvent], id: TicketId, title: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, SyncEvent::TicketChanged(t) if t.id == id && t.title == title))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_feed_delivers_each_remote_change_once_across_a_server_restart() {
    let mut world = World::new(4).await;
    let poll = PollPolicy {
        poll_only: true,
        interval: Duration::from_millis(200),
        overlap: true,
    };
    let cache_path = world.dir.path().join("polled.db");
    let mut client = Client::start_with(&world.url(), &world.token, cache_path, poll).await;
    client
        .until("the first load", Duration::from_secs(20), loaded)
        .await;
    let told = client.events.iter().find_map(|e| match e {
        SyncEvent::Capabilities(c) => Some(*c),
        _ => None,
    });
    assert_eq!(
        told.map(|c| c.live_push),
        Some(false),
        "the UI is told the feed is polled"
    );

    let mut tickets = world.tickets().await;
    let mut expected: Vec<(TicketId, String)> = Vec::new();
    // Someone else edits: several changes per poll, and more than one poll.
    for round in 0..3 {
        for t in tickets.iter_mut() {
            let title = format!("ronda {round} de {}", t.id);
            *t = world.set_title(t.id, t.version, &title).await;
            expected.push((t.id, title));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wanted = expected.clone();
    client
        .until("the first edits", Duration::from_secs(30), |events| {
            wanted.iter().all(|(id, title)| arrived(events, *id, title))
        })
        .await;

    // The server goes away and comes back; more edits follow at once.
    world.kill().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    world.restart().await;
    for t in tickets.iter_mut() {
        let title = format!("tras reiniciar {}", t.id);
        *t = world.set_title(t.id, t.version, &title).await;
        expected.push((t.id, title));
    }
    let wanted = expected.clone();
    client
        .until(
            "the edits after the restart",
            Duration::from_secs(60),
            |events| wanted.iter().all(|(id, title)| arrived(events, *id, title)),
        )
        .await;
    // A few more polls, each reading its last page again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    client.drain();

    let seen = announced(&client.events);
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "changes applied twice: {twice:?}");
    assert_eq!(
        seen.len(),
        expected.len(),
        "one announcement per remote edit: {seen:?}"
    );

    // The cursor the cache keeps is the server's newest position.
    let latest = world.get("/changes?since=0&limit=1").await["latest_seq"]
        .as_i64()
        .expect("latest_seq");
    let path = client.stop().await;
    let cache = Cache::open(&path).await.expect("cache").cache;
    let since = cache.load().await.expect("load").since;
    assert_eq!(since, Some(Cursor::new(latest.to_string())));
}
