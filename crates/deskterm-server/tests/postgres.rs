//! Several servers on one PostgreSQL database: what one commits reaches the
//! live streams of all, in one order. Run against the PostgreSQL server of
//! `DESKTERM_TEST_POSTGRES` (`scripts/postgres.sh start DIR` prints it):
//! `cargo test -p deskterm-server --test postgres -- --include-ignored`.

mod support;

use std::time::Duration;

use deskterm_api::{Change, ChangeKind};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Helpdesk;
use support::sse::SseReader;

const WAIT: Duration = Duration::from_secs(10);
const NEEDS: &str = "needs a PostgreSQL server in DESKTERM_TEST_POSTGRES";

/// A second server on `h`'s database, as another process would run it, for
/// the same operator.
async fn second_server(h: &Helpdesk) -> Helpdesk {
    let db = deskterm_server::Db::open_postgres(&h.db_url)
        .await
        .expect("open the same database");
    let server = deskterm_server::spawn_with(
        db.clone(),
        "127.0.0.1:0".parse().unwrap(),
        h.options(deskterm_server::Options::default()),
    )
    .await
    .expect("spawn");
    Helpdesk {
        dir: tempfile::tempdir().unwrap(),
        db,
        db_url: h.db_url.clone(),
        server: Some(server),
        operator: h.operator.clone(),
        token: h.token.clone(),
        http: h.http.clone(),
    }
}

async fn open_events(h: &Helpdesk, since: i64) -> SseReader {
    let r = h
        .request(Method::GET, &format!("/events?since={since}"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    SseReader::new(r)
}

async fn next_change(events: &mut SseReader) -> Change {
    let event = events.next(WAIT).await.expect("a live change in time");
    assert_eq!(event.event, "change", "{event:?}");
    serde_json::from_str(&event.data).unwrap()
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server in DESKTERM_TEST_POSTGRES"]
async fn a_change_through_one_server_reaches_the_streams_of_another() {
    assert!(support::postgres_database().await.is_some(), "{NEEDS}");
    let a = Helpdesk::start().await;
    let b = second_server(&a).await;
    let contact = a.contact("Carla", None, None).await;
    let since = a.latest_seq().await;
    assert_eq!(b.latest_seq().await, since, "one feed");
    let mut on_a = open_events(&a, since).await;
    let mut on_b = open_events(&b, since).await;

    let ticket = a
        .ticket(json!({"title": "Written on A", "contact_id": contact}))
        .await;
    let seen = next_change(&mut on_b).await;
    assert_eq!(seen.seq, since + 1);
    assert!(matches!(&seen.kind, ChangeKind::TicketUpserted(t) if t.title == "Written on A"));
    assert_eq!(
        next_change(&mut on_a).await,
        seen,
        "A tells its own clients too"
    );

    let id = ticket["id"].as_i64().unwrap();
    let r = b
        .post(&format!("/tickets/{id}/notes"), &json!({"body": "from B"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let seen = next_change(&mut on_a).await;
    assert_eq!(seen.seq, since + 2);
    assert!(matches!(&seen.kind, ChangeKind::NoteAdded(n) if n.body == "from B"));
    assert_eq!(next_change(&mut on_b).await, seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a PostgreSQL server in DESKTERM_TEST_POSTGRES"]
async fn writes_through_two_servers_at_once_reach_both_in_one_order() {
    assert!(support::postgres_database().await.is_some(), "{NEEDS}");
    let a = Helpdesk::start().await;
    let b = second_server(&a).await;
    let contact = a.contact("Carla", None, None).await;
    let since = a.latest_seq().await;
    let mut on_a = open_events(&a, since).await;
    let mut on_b = open_events(&b, since).await;

    const EACH: usize = 15;
    let writers = [(a.url("/tickets"), "a"), (b.url("/tickets"), "b")].map(|(url, name)| {
        let (http, token) = (a.http.clone(), a.token.clone());
        tokio::spawn(async move {
            for i in 0..EACH {
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("{name}{i}"), "contact_id": contact}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    let mut seqs_a = Vec::new();
    let mut seqs_b = Vec::new();
    for _ in 0..2 * EACH {
        seqs_a.push(next_change(&mut on_a).await.seq);
        seqs_b.push(next_change(&mut on_b).await.seq);
    }
    let expected: Vec<i64> = (since + 1..=since + 2 * EACH as i64).collect();
    assert_eq!(seqs_a, expected, "every change once, in seq order, on A");
    assert_eq!(seqs_b, expected, "the same on B");
}
