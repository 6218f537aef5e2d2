//! `GET /tickets/export`: every ticket between a header and a trailer, one
//! snapshot consistent with the change feed, readable by every operator, and
//! nothing held once its client leaves.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use deskterm_api::{
    ChangeKind, ChangesPage, ExportHeader, ExportTrailer, NDJSON_CONTENT_TYPE, Role, Ticket,
};
use reqwest::{Response, StatusCode};
use serde_json::json;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use support::Helpdesk;

/// A ticket description of about 19 KB: a thousand such tickets make an
/// export far larger than what the sockets and the server buffer between
/// them, so the server is still reading while the test writes.
fn long_text() -> String {
    "Una descripción larga del problema. ".repeat(500)
}

/// Adds `n` tickets of contact `contact` straight into the database, as a
/// bulk import would: no change is recorded for them.
async fn bulk_tickets(h: &Helpdesk, contact: i64, n: i64) {
    let db = h.database().await;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO tickets (reference, reference_folded, title, title_folded, description, \
             status, priority, contact_id, channel, created_at, updated_at) \
         SELECT 'BULK-' || i, 'bulk-' || i, 'Bulk ' || i, 'bulk ' || i, $2, 'open', 1, $3, 'web', \
             '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z' FROM n",
    )
    .bind(n)
    .bind(long_text())
    .bind(contact)
    .execute(&db)
    .await
    .expect("bulk insert");
}

/// Whether a reader of the server's database still holds a snapshot older
/// than the newest write: in SQLite, the log cannot be moved whole into the
/// database then; in PostgreSQL, a transaction of the server is open.
async fn snapshot_held(h: &Helpdesk) -> bool {
    match h.db.path() {
        Some(file) => {
            let mut db = SqliteConnectOptions::new()
                .filename(file)
                // Asked for a checkpoint, answer at once whether readers are in the way.
                .busy_timeout(Duration::ZERO)
                .connect()
                .await
                .expect("open the database");
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut db)
                .await
                .expect("checkpoint");
            busy != 0
        }
        None => {
            let db = h.database().await;
            let open: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND xact_start IS NOT NULL",
            )
            .fetch_one(&db)
            .await
            .expect("transactions");
            db.close().await;
            open > 0
        }
    }
}

fn assert_ndjson(response: &Response) {
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some(NDJSON_CONTENT_TYPE));
}

/// An export read whole: header, tickets, trailer, and nothing else.
fn parse(text: &str) -> (ExportHeader, Vec<Ticket>, ExportTrailer) {
    assert!(text.ends_with('\n'), "the last line ends too");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{text}");
    let header: ExportHeader = serde_json::from_str(lines[0]).expect("header");
    let trailer: ExportTrailer = serde_json::from_str(lines[lines.len() - 1]).expect("trailer");
    let tickets: Vec<Ticket> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| serde_json::from_str(l).expect("ticket line"))
        .collect();
    (header, tickets, trailer)
}

async fn export(h: &Helpdesk) -> (ExportHeader, Vec<Ticket>, ExportTrailer) {
    let response = h.get("/tickets/export").await;
    assert_ndjson(&response);
    parse(&response.text().await.expect("body"))
}

/// Reads an export until its header line is in; returns the bytes read.
async fn read_header(response: &mut Response) -> Vec<u8> {
    let mut read = Vec::new();
    while !read.contains(&b'\n') {
        let chunk = response.chunk().await.expect("read").expect("more");
        read.extend_from_slice(&chunk);
    }
    read
}

#[tokio::test]
async fn the_export_is_every_ticket_between_a_header_and_a_trailer() {
    let h = Helpdesk::start().await;
    let (header, tickets, trailer) = export(&h).await;
    assert_eq!(header.total, 0);
    assert_eq!(header.since, h.latest_seq().await);
    assert!(tickets.is_empty());
    assert_eq!(trailer.count, 0);

    let contact = h
        .contact("Lucía Pérez", Some("+34 600 000 001"), None)
        .await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let priority = ["low", "normal", "high", "urgent"][i % 4];
        let category = (!i.is_multiple_of(3)).then_some("Soporte");
        let operator = i.is_multiple_of(2).then_some(h.operator.id);
        let t = h
            .ticket(json!({
                "title": format!("Ticket {i}"), "contact_id": contact, "priority": priority,
                "category": category, "operator_id": operator, "tags": ["a", "b"],
                "important": i.is_multiple_of(5),
            }))
            .await;
        ids.push(t["id"].as_i64().unwrap());
    }
    let r = h
        .patch(
            &format!("/tickets/{}", ids[3]),
            Some(1),
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = h.delete(&format!("/tickets/{}", ids[7]), Some(1)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let (header, tickets, trailer) = export(&h).await;
    assert_eq!(header.since, h.latest_seq().await);
    assert_eq!((header.total, trailer.count), (11, 11));
    let mut exported: Vec<i64> = tickets.iter().map(|t| t.id).collect();
    let mut expected = ids.clone();
    expected.remove(7);
    assert_eq!(
        exported.first(),
        Some(&ids[3]),
        "the ticket changed last comes first"
    );
    let mut by_update = Vec::new();
    for t in &tickets {
        let one: Ticket = serde_json::from_value(h.get_json(&format!("/tickets/{}", t.id)).await)
            .expect("ticket");
        assert_eq!(*t, one, "the export holds what GET /tickets/{{id}} answers");
        by_update.push((one.updated_at, one.id));
    }
    by_update.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        exported,
        by_update.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
        "the most recently updated first, ties by id from the highest"
    );
    exported.sort_unstable();
    assert_eq!(exported, expected, "every ticket once");
}

#[tokio::test]
async fn the_export_is_a_snapshot_the_change_feed_continues() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Dario", None, Some("dario@example.com")).await;
    bulk_tickets(&h, contact, 1200).await;
    let last = h
        .ticket(json!({"title": "Made through the API", "contact_id": contact}))
        .await;
    let before = h.latest_seq().await;

    let mut response = h.get("/tickets/export").await;
    assert_ndjson(&response);
    let mut body = read_header(&mut response).await;
    // The server reads the most recently updated tickets first and has sent
    // a few MB at most: the oldest (the bulk tickets share one time, so the
    // lowest ids) are not read yet when these writes land.
    let lowest = last["id"].as_i64().unwrap() - 1200;
    let mut patched = BTreeMap::new();
    for id in lowest..=lowest + 20 {
        let r = h
            .patch(
                &format!("/tickets/{id}"),
                Some(1),
                &json!({"title": format!("Changed after the export began {id}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        patched.insert(id, 2);
    }
    let deleted = lowest + 30;
    let r = h.delete(&format!("/tickets/{deleted}"), Some(1)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let created = h
        .ticket(json!({"title": "Opened after the export began", "contact_id": contact}))
        .await;
    while let Some(chunk) = response.chunk().await.expect("read the rest") {
        body.extend_from_slice(&chunk);
    }
    let (header, tickets, trailer) = parse(std::str::from_utf8(&body).expect("UTF-8"));

    assert_eq!(
        header.since, before,
        "the cursor of the snapshot, not of now"
    );
    assert_eq!((header.total, trailer.count), (1201, 1201));
    let by_id: BTreeMap<i64, &Ticket> = tickets.iter().map(|t| (t.id, t)).collect();
    assert_eq!(by_id.len(), 1201);
    assert!(by_id.contains_key(&deleted), "deleted after the snapshot");
    assert!(!by_id.contains_key(&created["id"].as_i64().unwrap()));
    for id in patched.keys() {
        assert_eq!(by_id[id].version, 1, "ticket {id} as it was");
    }

    // The feed from the header's cursor turns the snapshot into the present.
    let feed: ChangesPage = serde_json::from_value(
        h.get_json(&format!("/changes?since={}", header.since))
            .await,
    )
    .expect("changes");
    assert!(!feed.resync);
    assert_eq!(feed.changes.len(), 23, "21 edits, a deletion, a creation");
    let mut state: BTreeMap<i64, Ticket> = tickets.into_iter().map(|t| (t.id, t)).collect();
    for change in feed.changes {
        match change.kind {
            ChangeKind::TicketUpserted(t) => {
                state.insert(t.id, t);
            }
            ChangeKind::TicketDeleted { id } => {
                state.remove(&id);
            }
            other => panic!("unexpected change {other:?}"),
        }
    }
    let (_, now, _) = export(&h).await;
    let now: BTreeMap<i64, Ticket> = now.into_iter().map(|t| (t.id, t)).collect();
    assert_eq!(state, now);
}

#[tokio::test]
async fn an_export_whose_client_stops_reading_holds_nothing_once_it_leaves() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Elena", None, None).await;
    bulk_tickets(&h, contact, 1000).await;

    // Two exports (as many as run at once) whose clients read the header and stop.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut response = h.get("/tickets/export").await;
        assert_ndjson(&response);
        read_header(&mut response).await;
        stalled.push(response);
    }
    // Everything else goes on meanwhile, writes included.
    assert_eq!(h.get("/tickets?limit=5").await.status(), StatusCode::OK);
    h.ticket(json!({"title": "Written during the exports", "contact_id": contact}))
        .await;
    assert!(
        snapshot_held(&h).await,
        "the stalled exports still read their snapshot"
    );

    drop(stalled);
    let mut released = false;
    for _ in 0..100 {
        if !snapshot_held(&h).await {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        released,
        "the exports' read transactions ended with their clients"
    );
    // Their connections are free again: two exports run to the end.
    for _ in 0..2 {
        let (header, _, trailer) = export(&h).await;
        assert_eq!((header.total, trailer.count), (1001, 1001));
    }
}

#[tokio::test]
async fn every_operator_may_export_and_nobody_else() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Félix", None, None).await;
    h.ticket(json!({"title": "Theirs to read too", "contact_id": contact}))
        .await;
    let (_, agent) =
        deskterm_server::add_operator_as(&h.db, "Ines", "ines@example.com", Role::Agent)
            .await
            .expect("agent");
    let r = h
        .http
        .get(h.url("/tickets/export"))
        .bearer_auth(&agent)
        .send()
        .await
        .expect("GET");
    assert_ndjson(&r);
    let (header, tickets, _) = parse(&r.text().await.expect("body"));
    assert_eq!((header.total, tickets.len()), (1, 1));

    let r = h
        .http
        .get(h.url("/tickets/export"))
        .send()
        .await
        .expect("GET");
    support::problem(r, StatusCode::UNAUTHORIZED).await;
    let channel = h.channel_token("whatsapp").await;
    let r = h
        .http
        .get(h.url("/tickets/export"))
        .bearer_auth(channel)
        .send()
        .await
        .expect("GET");
    support::problem(r, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn an_export_may_leave_out_what_was_closed_long_ago() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Ana Ruiz", None, Some("ana@example.com")).await;
    for i in 0..3 {
        h.ticket(json!({"title": format!("Abierto {i}"), "contact_id": contact}))
            .await;
    }
    // Three closed long ago and one closed just now.
    bulk_tickets(&h, contact, 4).await;
    let db = h.database().await;
    sqlx::query(
        "UPDATE tickets SET status = 'closed', \
             closed_at = CASE WHEN reference = 'BULK-4' THEN $1 ELSE '2025-01-01T00:00:00.000Z' END \
         WHERE reference LIKE 'BULK-%'",
    )
    .bind(
        chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
    )
    .execute(&db)
    .await
    .expect("close them");

    let (header, all, trailer) = export(&h).await;
    assert_eq!((header.total, all.len(), trailer.count), (7, 7, 7));
    let response = h
        .get("/tickets/export?closed_since=2026-01-01T00:00:00Z")
        .await;
    assert_ndjson(&response);
    let (header, kept, trailer) = parse(&response.text().await.expect("body"));
    let mut titles: Vec<&str> = kept.iter().map(|t| t.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Abierto 0", "Abierto 1", "Abierto 2", "Bulk 4"]);
    assert_eq!(
        (header.total, trailer.count),
        (4, 4),
        "the count follows the scope"
    );

    let r = h.get("/tickets/export?closed_since=last%20year").await;
    support::problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = h.get("/tickets/export?open_since=2026-01-01").await;
    support::problem(r, StatusCode::BAD_REQUEST).await;
}
