//! The sync engine under faults: a server restarted mid-session, two
//! operators racing on the same tickets, a server that answers garbage or
//! nothing. Every edit must land exactly once or be surfaced; none is lost
//! and none is silently overwritten.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use deskterm::sync::cache::Cache;
use deskterm::sync::{Command, Connection, OpId, Resolution, SyncEvent, Write};
use deskterm_api::{Ticket, TicketId, TicketPatch};
use support::fault_proxy::{Fault, FaultProxy};
use support::{Client, World, loaded, settled};

fn note(ticket: TicketId, body: String) -> Write {
    Write::AddNote { ticket, body }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_session_loses_and_duplicates_nothing() {
    let mut world = World::new(6).await;
    let mut client = Client::start(&world.url(), &world.token, world.dir.path().join("a.db")).await;
    client
        .until("the first load", Duration::from_secs(20), loaded)
        .await;
    let ids: Vec<TicketId> = {
        let mut ids: Vec<_> = client.known.keys().copied().collect();
        ids.sort();
        ids
    };
    let contact = client.known[&ids[0]].contact.id;

    let mut ops: Vec<OpId> = Vec::new();
    let mut expected_titles: HashMap<TicketId, String> = HashMap::new();
    let mut round = |client: &mut Client, i: usize| {
        let t = ids[i % ids.len()];
        ops.push(client.write(note(t, format!("nota {i}"))));
        ops.push(client.write(Write::SendMessage {
            contact,
            ticket: None,
            body: format!("mensaje {i}"),
        }));
        let title = format!("título {i}");
        let version = client.known[&t].version;
        ops.push(client.write(Write::Patch {
            ticket: t,
            version,
            patch: TicketPatch {
                title: Some(title.clone()),
                ..Default::default()
            },
        }));
        expected_titles.insert(t, title);
    };
    for i in 0..10 {
        round(&mut client, i);
    }
    // Cut the server while those are under way, keep working, bring it back.
    tokio::time::sleep(Duration::from_millis(30)).await;
    world.kill().await;
    for i in 10..20 {
        round(&mut client, i);
    }
    client.drain();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    world.restart().await;

    let all = ops.clone();
    client
        .until("every write to land", Duration::from_secs(90), |events| {
            all.iter().all(|op| settled(events, *op))
        })
        .await;
    let failed: Vec<_> = client
        .events
        .iter()
        .filter(|e| matches!(e, SyncEvent::WriteFailed { .. }))
        .collect();
    assert!(failed.is_empty(), "writes refused: {failed:#?}");

    // Exactly once on the server.
    let mut notes: HashMap<String, usize> = HashMap::new();
    for t in &ids {
        for n in world
            .get(&format!("/tickets/{t}/notes"))
            .await
            .as_array()
            .expect("notes")
        {
            *notes
                .entry(n["body"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    for i in 0..20 {
        assert_eq!(notes.get(&format!("nota {i}")), Some(&1), "nota {i}");
    }
    let messages = world
        .get(&format!("/contacts/{contact}/messages?limit=1000"))
        .await;
    let mut sent: HashMap<String, usize> = HashMap::new();
    for m in messages.as_array().expect("messages") {
        *sent
            .entry(m["body"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    for i in 0..20 {
        assert_eq!(sent.get(&format!("mensaje {i}")), Some(&1), "mensaje {i}");
    }
    let server = world.tickets().await;
    for t in &server {
        if let Some(title) = expected_titles.get(&t.id) {
            assert_eq!(&t.title, title, "the last title of {} won", t.reference);
        }
    }

    // The cache ends equal to the server, once the feed caught up.
    let newest: HashMap<TicketId, i64> = server.iter().map(|t| (t.id, t.version)).collect();
    client
        .until("the feed to catch up", Duration::from_secs(30), |_| true)
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        client.drain();
        let caught_up = newest
            .iter()
            .all(|(id, v)| client.known.get(id).is_some_and(|k| k.version == *v));
        if caught_up || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cache_path = client.stop().await;
    let cache = Cache::open(&cache_path).await.expect("reopen cache").cache;
    let cached = cache.load().await.expect("load cache");
    assert!(
        cached.outbox.is_empty(),
        "outbox empty: {:?}",
        cached.outbox
    );
    let (mut cached_tickets, _) = cache
        .tickets_page(None, u32::MAX)
        .await
        .expect("read cached tickets");
    assert_eq!(cached.tickets, cached_tickets.len() as u64);
    cached_tickets.sort_by_key(|t| t.id);
    assert_eq!(cached_tickets, server, "cache equals server");
}

/// A write of the race, with what its client saw.
struct Raced {
    client: usize,
    base: Ticket,
    field: &'static str,
    value: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_racing_never_overwrite_each_other_silently() {
    let world = World::new(3).await;
    let second = world.token_for_another_operator().await;
    let mut clients = [
        Client::start(&world.url(), &world.token, world.dir.path().join("a.db")).await,
        Client::start(&world.url(), &second, world.dir.path().join("b.db")).await,
    ];
    for c in &mut clients {
        c.until("the first load", Duration::from_secs(20), loaded)
            .await;
    }
    let ids: Vec<TicketId> = {
        let mut ids: Vec<_> = clients[0].known.keys().copied().collect();
        ids.sort();
        ids
    };
    let rounds = 200;
    let mut writes: HashMap<(usize, OpId), Raced> = HashMap::new();
    let mut chose_mine: HashSet<(usize, OpId)> = HashSet::new();
    let mut surfaced = 0;
    let mut merged = 0;
    // A small deterministic generator, so a failure can be replayed.
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..rounds {
        let t = ids[(next() % ids.len() as u64) as usize];
        let mut ops = Vec::new();
        for (c, client) in clients.iter_mut().enumerate() {
            client.drain();
            let base = client.known[&t].clone();
            let field = if next() % 2 == 0 {
                "title"
            } else {
                "description"
            };
            let value = format!("{field} r{round} c{c}");
            let mut patch = TicketPatch::default();
            if field == "title" {
                patch.title = Some(value.clone());
            } else {
                patch.description = Some(value.clone());
            }
            let op = client.write(Write::Patch {
                ticket: t,
                version: base.version,
                patch,
            });
            writes.insert(
                (c, op),
                Raced {
                    client: c,
                    base,
                    field,
                    value,
                },
            );
            ops.push(op);
        }
        for (c, client) in clients.iter_mut().enumerate() {
            let op = ops[c];
            let mut answered = 0;
            loop {
                let conflicts_of = |events: &[SyncEvent]| {
                    events
                        .iter()
                        .filter(|e| matches!(e, SyncEvent::Conflict { op: o, .. } if *o == op))
                        .count()
                };
                client
                    .until(
                        "the write to settle or conflict",
                        Duration::from_secs(30),
                        |events| settled(events, op) || conflicts_of(events) > answered,
                    )
                    .await;
                if settled(&client.events, op) {
                    break;
                }
                let write = client
                    .events
                    .iter()
                    .rev()
                    .find_map(|e| match e {
                        SyncEvent::Conflict { op: o, write, .. } if *o == op => Some(write.clone()),
                        _ => None,
                    })
                    .expect("a conflict");
                answered = conflicts_of(&client.events);
                surfaced += 1;
                // The operator decides: sometimes mine, sometimes theirs.
                let resolution = if next() % 2 == 0 {
                    chose_mine.insert((c, op));
                    Resolution::Send(write)
                } else {
                    Resolution::Drop
                };
                client.send(Command::Resolve { op, resolution });
            }
            merged += client
                .events
                .iter()
                .filter(|e| matches!(e, SyncEvent::Merged(o) if *o == op))
                .count();
        }
    }
    for client in &clients {
        let failed: Vec<_> = client
            .events
            .iter()
            .filter(|e| matches!(e, SyncEvent::WriteFailed { .. }))
            .collect();
        assert!(failed.is_empty(), "refused writes: {failed:#?}");
    }
    eprintln!("{rounds} rounds: {merged} merged, {surfaced} surfaced as conflicts");
    assert!(merged > 0 && surfaced > 0, "the race exercised both paths");

    // Replay the server's history from its change feed: every value that
    // replaced another was written by someone who had seen the old one, or
    // who was shown the conflict and chose to keep theirs.
    let mut history: HashMap<TicketId, Vec<Ticket>> = HashMap::new();
    let mut since = 0;
    loop {
        let page = world
            .get(&format!("/changes?since={since}&limit=1000"))
            .await;
        let changes = page["changes"].as_array().cloned().unwrap_or_default();
        if changes.is_empty() {
            break;
        }
        for c in changes {
            since = c["seq"].as_i64().expect("seq");
            if c["kind"] == "ticket_upserted" {
                let t: Ticket = serde_json::from_value(c["data"].clone()).expect("ticket");
                history.entry(t.id).or_default().push(t);
            }
        }
    }
    let by_value: HashMap<&str, (&(usize, OpId), &Raced)> = writes
        .iter()
        .map(|(k, w)| (w.value.as_str(), (k, w)))
        .collect();
    let mut checked = 0;
    for versions in history.values() {
        for pair in versions.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            for field in ["title", "description"] {
                let (old, new) = match field {
                    "title" => (&before.title, &after.title),
                    _ => (&before.description, &after.description),
                };
                if old == new {
                    continue;
                }
                let Some((key, w)) = by_value.get(new.as_str()) else {
                    continue;
                };
                assert_eq!(w.field, field);
                let seen = match field {
                    "title" => &w.base.title,
                    _ => &w.base.description,
                };
                let informed = seen == old || chose_mine.contains(key);
                assert!(
                    informed,
                    "client {} replaced {field} {old:?} with {new:?} without having seen it",
                    w.client
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= rounds, "checked {checked} replacements");
    for client in clients {
        client.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_server_gives_clear_errors_and_loses_nothing() {
    let world = World::new(2).await;
    let proxy = FaultProxy::start(world.addr).await;
    let mut client = Client::start(&proxy.url(), &world.token, world.dir.path().join("a.db")).await;
    client
        .until("the first load", Duration::from_secs(20), loaded)
        .await;
    let ticket = *client.known.keys().min().expect("a ticket");

    let cases = [
        (Fault::ServerError, "server error"),
        (Fault::MalformedJson, "unreadable"),
        (Fault::Truncated, "broken"),
        (Fault::Refuse, "cannot reach"),
        (
            Fault::Stall(Duration::from_secs(30)),
            "did not answer in time",
        ),
    ];
    let mut ops = Vec::new();
    for (i, (fault, words)) in cases.into_iter().enumerate() {
        proxy.set(fault);
        let op = client.write(note(ticket, format!("bajo fallo {i}")));
        ops.push(op);
        let seen_before = client.events.len();
        client
            .until(
                &format!("an error for {fault:?}"),
                Duration::from_secs(60),
                |events| {
                    // Writes go in order: the oldest unsent one meets the fault first.
                    events[seen_before..].iter().any(|e| match e {
                        SyncEvent::WriteRetrying { error, .. } => error.contains(words),
                        _ => false,
                    })
                },
            )
            .await;
        assert!(
            !settled(&client.events, op),
            "nothing lands through {fault:?}"
        );
        let broken = client.events.iter().any(|e| {
            matches!(
                e,
                SyncEvent::Connection(Connection::Reconnecting { .. } | Connection::Offline { .. })
            )
        });
        assert!(
            broken || matches!(fault, Fault::Stall(_)),
            "the link is reported down under {fault:?}"
        );
    }
    proxy.set(Fault::None);
    let all = ops.clone();
    client
        .until(
            "every write to land once the server behaves",
            Duration::from_secs(90),
            |events| all.iter().all(|op| settled(events, *op)),
        )
        .await;
    let notes = world.get(&format!("/tickets/{ticket}/notes")).await;
    let bodies: Vec<&str> = notes
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n["body"].as_str())
        .collect();
    for i in 0..ops.len() {
        let body = format!("bajo fallo {i}");
        assert_eq!(
            bodies.iter().filter(|b| **b == body).count(),
            1,
            "{body} landed once"
        );
    }
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_cursor_reloads_everything_and_keeps_the_outbox() {
    let world = World::new(3).await;
    let cache_path = world.dir.path().join("a.db");
    let mut client = Client::start(&world.url(), &world.token, cache_path.clone()).await;
    client
        .until("the first load", Duration::from_secs(20), loaded)
        .await;
    let ticket = client
        .known
        .values()
        .min_by_key(|t| t.id)
        .cloned()
        .expect("a ticket");
    client.stop().await;

    // While the console is closed: someone retitles the ticket, and the
    // saved cursor becomes one the server never issued (a restored backup,
    // say). An edit of ours waits in the outbox.
    world
        .set_title(ticket.id, ticket.version, "Retitulado mientras tanto")
        .await;
    {
        let cache = Cache::open(&cache_path).await.expect("cache").cache;
        cache
            .set_since(&deskterm::backend::Cursor::new("1000000"))
            .await
            .expect("cursor");
        let op = 5;
        cache
            .enqueue(
                op,
                &note(ticket.id, "guardada antes del resync".into()),
                None,
            )
            .await
            .expect("enqueue");
        cache.close().await;
    }

    let mut client = Client::start(&world.url(), &world.token, cache_path).await;
    client
        .until(
            "a full reload with the new title and the note sent",
            Duration::from_secs(30),
            |events| {
                let reloaded = events.iter().any(|e| match e {
                    SyncEvent::Snapshot(tickets) => tickets
                        .iter()
                        .any(|t| t.title == "Retitulado mientras tanto"),
                    _ => false,
                });
                reloaded && settled(events, 5)
            },
        )
        .await;
    // The cached tickets were shown first, before the network answered.
    let first_snapshot = client.events.iter().find_map(|e| match e {
        SyncEvent::Snapshot(t) => Some(t.clone()),
        _ => None,
    });
    assert!(first_snapshot.is_some_and(|t| t.iter().any(|x| x.title == ticket.title)));
    let notes = world.get(&format!("/tickets/{}/notes", ticket.id)).await;
    let count = notes
        .as_array()
        .expect("notes")
        .iter()
        .filter(|n| n["body"] == "guardada antes del resync")
        .count();
    assert_eq!(count, 1);
    client.stop().await;
}
