//! The change feed, live events, idempotent retries, the demo loader, and stopping the server.

mod support;

use std::time::Duration;

use deskterm_api::{Change, ChangeKind, ChangesPage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Helpdesk;
use support::sse::SseReader;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_change_feed_pages_from_a_cursor() {
    let h = Helpdesk::start().await;
    let start = h.latest_seq().await;
    assert_eq!(start, 1, "adding the operator changed the metadata");
    let contact = h.contact("Carla", None, None).await;
    let t = h.ticket(json!({"title": "T", "contact_id": contact})).await;
    let id = t["id"].as_i64().unwrap();
    h.patch(&format!("/tickets/{id}"), Some(1), &json!({"title": "T2"}))
        .await;
    h.post(&format!("/tickets/{id}/notes"), &json!({"body": "n"}))
        .await;
    h.post(
        &format!("/contacts/{contact}/messages"),
        &json!({"body": "m"}),
    )
    .await;

    let page: ChangesPage =
        serde_json::from_value(h.get_json(&format!("/changes?since={start}")).await).unwrap();
    assert!(!page.resync);
    let kinds: Vec<&str> = page
        .changes
        .iter()
        .map(|c| match &c.kind {
            ChangeKind::TicketUpserted(_) => "upserted",
            ChangeKind::TicketDeleted { .. } => "deleted",
            ChangeKind::NoteAdded(_) => "note",
            ChangeKind::MessageAdded(_) => "message",
            ChangeKind::MetaChanged => "meta",
        })
        .collect();
    assert_eq!(kinds, ["upserted", "upserted", "note", "message"]);
    let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [start + 1, start + 2, start + 3, start + 4]);
    assert_eq!(page.latest_seq, start + 4);
    let ChangeKind::TicketUpserted(patched) = &page.changes[1].kind else {
        panic!("not a ticket");
    };
    assert_eq!(patched.title, "T2");
    assert_eq!(patched.version, 2);

    let two = h.get_json(&format!("/changes?since={start}&limit=2")).await;
    assert_eq!(two["changes"].as_array().unwrap().len(), 2);
    let rest = h.get_json(&format!("/changes?since={}", start + 2)).await;
    assert_eq!(rest["changes"].as_array().unwrap().len(), 2);
    let none = h.get_json(&format!("/changes?since={}", start + 4)).await;
    assert_eq!(
        none,
        json!({"changes": [], "latest_seq": start + 4, "resync": false})
    );
    let all = h.get_json("/changes?limit=1000").await;
    assert_eq!(all["changes"].as_array().unwrap().len() as i64, start + 4);

    // A cursor from another database: start over.
    let foreign = h.get_json("/changes?since=999").await;
    assert_eq!(
        foreign,
        json!({"changes": [], "latest_seq": start + 4, "resync": true})
    );
}

async fn open_events(h: &Helpdesk, last_event_id: Option<i64>) -> SseReader {
    let mut req = h
        .request(Method::GET, "/events")
        .header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    SseReader::new(r)
}

fn change(event: &support::sse::SseEvent) -> Change {
    assert_eq!(event.event, "change", "{event:?}");
    let c: Change = serde_json::from_str(&event.data).unwrap();
    assert_eq!(event.id.as_deref(), Some(c.seq.to_string().as_str()));
    c
}

#[tokio::test]
async fn live_events_resume_from_last_event_id_without_gaps_or_repeats() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let cursor = h.latest_seq().await;
    // A backlog: made before the stream opens.
    let t = h
        .ticket(json!({"title": "Backlog", "contact_id": contact}))
        .await;
    let id = t["id"].as_i64().unwrap();
    let mut events = open_events(&h, Some(cursor)).await;
    let first = change(&events.next(WAIT).await.expect("backlog event"));
    assert_eq!(first.seq, cursor + 1);
    assert!(matches!(&first.kind, ChangeKind::TicketUpserted(t) if t.title == "Backlog"));

    // Live: made after it opened, several in a burst.
    h.patch(
        &format!("/tickets/{id}"),
        Some(1),
        &json!({"title": "Live"}),
    )
    .await;
    for i in 0..20 {
        h.post(
            &format!("/tickets/{id}/notes"),
            &json!({"body": format!("n{i}")}),
        )
        .await;
    }
    let live = change(&events.next(WAIT).await.expect("live event"));
    assert_eq!(live.seq, cursor + 2);
    assert!(matches!(&live.kind, ChangeKind::TicketUpserted(t) if t.title == "Live"));
    for i in 0..20 {
        let c = change(&events.next(WAIT).await.expect("note event"));
        assert_eq!(c.seq, cursor + 3 + i);
        assert!(matches!(&c.kind, ChangeKind::NoteAdded(n) if n.body == format!("n{i}")));
    }
    // Changes from outside the API (another handle on the database) arrive too.
    deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
        .await
        .unwrap();
    let c = change(&events.next(WAIT).await.expect("meta event"));
    assert_eq!(c.kind, ChangeKind::MetaChanged);
    assert_eq!(c.seq, cursor + 23);

    // `?since=` works when there is no Last-Event-ID.
    let r = h
        .request(Method::GET, &format!("/events?since={}", cursor + 22))
        .send()
        .await
        .unwrap();
    let mut by_query = SseReader::new(r);
    assert_eq!(change(&by_query.next(WAIT).await.unwrap()).seq, cursor + 23);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_opened_during_a_burst_of_writes_miss_and_repeat_nothing() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "Busy", "contact_id": contact}))
        .await;
    let cursor = h.latest_seq().await;
    const WRITES: i64 = 150;
    let path = format!("/tickets/{}/notes", t["id"]);
    let writer = {
        let request = h.request(Method::POST, &path);
        async move {
            for i in 0..WRITES {
                let r = request
                    .try_clone()
                    .unwrap()
                    .json(&json!({"body": format!("n{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }
    };
    let readers = async {
        let mut streams = Vec::new();
        for _ in 0..6 {
            streams.push(open_events(&h, Some(cursor)).await);
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        for mut stream in streams {
            for expected in cursor + 1..=cursor + WRITES {
                let c = change(&stream.next(WAIT).await.expect("every change"));
                assert_eq!(c.seq, expected, "in order, once each");
            }
        }
    };
    tokio::join!(writer, readers);
}

#[tokio::test]
async fn a_foreign_cursor_gets_a_resync_event_then_live_changes() {
    let h = Helpdesk::start().await;
    let latest = h.latest_seq().await;
    let mut events = open_events(&h, Some(latest + 1000)).await;
    let resync = events.next(WAIT).await.expect("resync event");
    assert_eq!(resync.event, "resync");
    let data: Value = serde_json::from_str(&resync.data).unwrap();
    assert_eq!(data, json!({"latest_seq": latest}));
    h.contact("Carla", None, None).await;
    h.inbound(
        "web",
        &json!({"name": "Eva", "email": "eva@example.com", "body": "hola"}),
    )
    .await;
    let opened = change(&events.next(WAIT).await.expect("ticket"));
    assert_eq!(opened.seq, latest + 1);
    assert!(matches!(opened.kind, ChangeKind::TicketUpserted(_)));
    let message = change(&events.next(WAIT).await.expect("message"));
    assert!(matches!(message.kind, ChangeKind::MessageAdded(ref m) if m.body == "hola"));

    let bad = h
        .request(Method::GET, "/events")
        .header("Last-Event-ID", "soon")
        .send()
        .await
        .unwrap();
    support::problem(bad, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn shutdown_ends_live_streams_and_kill_frees_the_port() {
    let mut h = Helpdesk::start().await;
    let mut events = open_events(&h, None).await;
    let server = h.server.take().unwrap();
    let addr = server.addr;
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("a graceful shutdown does not wait for live streams");
    assert_eq!(events.next(WAIT).await, None, "the stream ended");

    let again = deskterm_server::spawn_with(h.db.clone(), addr, h.options(Default::default()))
        .await
        .unwrap();
    assert_eq!(again.addr, addr);
    h.server = Some(again);
    assert_eq!(h.get_json("/me").await["name"], "Ana Test");
    let _stream = open_events(&h, None).await;
    let server = h.server.take().unwrap();
    tokio::time::timeout(WAIT, server.kill())
        .await
        .expect("kill");
    let r = h.http.get(format!("http://{addr}/api/v1/me")).send().await;
    assert!(r.is_err(), "nothing listens after a kill");
    let third = deskterm_server::spawn_with(h.db.clone(), addr, h.options(Default::default()))
        .await
        .unwrap();
    third.shutdown().await;
}

#[tokio::test]
async fn the_same_idempotency_key_replays_the_first_answer() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let send = |key: &'static str, body: &'static str| {
        h.request(Method::POST, &format!("/contacts/{contact}/messages"))
            .header("Idempotency-Key", key)
            .json(&json!({"body": body}))
            .send()
    };
    let first = send("k-1", "hola").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let seq = h.latest_seq().await;
    let again = send("k-1", "hola").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(h.latest_seq().await, seq, "no second change");
    let other = send("k-2", "hola").await.unwrap();
    assert_ne!(other.json::<Value>().await.unwrap()["id"], first["id"]);
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(chat.as_array().unwrap().len(), 2);

    // Tickets and notes too, with their headers.
    let create = || {
        h.request(Method::POST, "/tickets")
            .header("Idempotency-Key", "t-1")
            .json(&json!({"title": "Once", "contact_id": contact}))
            .send()
    };
    let a = create().await.unwrap();
    let (a_loc, a_etag) = (a.headers()["location"].clone(), a.headers()["etag"].clone());
    let a: Value = a.json().await.unwrap();
    let b = create().await.unwrap();
    assert_eq!(b.status(), StatusCode::CREATED);
    assert_eq!(b.headers()["location"], a_loc);
    assert_eq!(b.headers()["etag"], a_etag);
    assert_eq!(b.json::<Value>().await.unwrap(), a);
    assert_eq!(h.ticket_count().await, 1);
    let note = || {
        h.request(Method::POST, &format!("/tickets/{}/notes", a["id"]))
            .header("Idempotency-Key", "k-1")
            .json(&json!({"body": "once"}))
            .send()
    };
    let n1: Value = note().await.unwrap().json().await.unwrap();
    let n2: Value = note().await.unwrap().json().await.unwrap();
    assert_eq!(n1, n2);
    assert_eq!(
        h.get_json(&format!("/tickets/{}/notes", a["id"]))
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Keys are per operator: another operator's same key is another request.
    let (_, token) = deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
        .await
        .unwrap();
    let r = h
        .http
        .post(h.url(&format!("/contacts/{contact}/messages")))
        .bearer_auth(token)
        .header("Idempotency-Key", "k-1")
        .json(&json!({"body": "hola"}))
        .send()
        .await
        .unwrap();
    let theirs: Value = r.json().await.unwrap();
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["operator"]["name"], "Bruno");

    // A failed request stores nothing: fixing it with the same key works.
    let bad = send("k-3", " ").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let good = send("k-3", "fixed").await.unwrap();
    assert_eq!(good.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_message() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let path = format!("/contacts/{contact}/messages");
    let sends = (0..8).map(|_| {
        h.request(Method::POST, &path)
            .header("Idempotency-Key", "same")
            .json(&json!({"body": "race"}))
            .send()
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut bodies = Vec::new();
    for a in answers {
        let a = a.unwrap();
        assert_eq!(a.status(), StatusCode::CREATED);
        bodies.push(a.json::<Value>().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(h.get_json(&path).await.as_array().unwrap().len(), 1);
}

fn demo() -> Value {
    json!({
        "operators": [
            {"name": "Demo Ana", "email": "ana@demo.test"},
            {"name": "Demo Bruno", "email": "bruno@demo.test"}
        ],
        "statuses": [{"key": "waiting_parts", "label": "Waiting for parts", "macro": "in_progress"}],
        "contacts": [
            {"name": "Carla", "phone": "+34 600 000 001", "email": null, "channel": "whatsapp"},
            {"name": "Dario", "phone": null, "email": "dario@example.com", "channel": "email"}
        ],
        "tickets": [
            {"reference": null, "title": "Printer", "description": "jammed", "status": "waiting_parts",
             "priority": "high", "category": "Soporte", "tags": ["vip"], "important": true,
             "contact": 0, "operator": 1, "channel": "whatsapp",
             "created_minutes_ago": 5000, "updated_minutes_ago": 120,
             "closed_minutes_ago": null, "sla_due_in_minutes": -30,
             "notes": [{"operator": 1, "body": "later", "minutes_ago": 100},
                       {"operator": 0, "body": "earlier", "minutes_ago": 300}]},
            {"reference": "MAN-1", "title": "Invoice", "description": "", "status": "resolved",
             "priority": "low", "category": "soporte", "tags": [], "important": false,
             "contact": 1, "operator": null, "channel": "email",
             "created_minutes_ago": 900, "updated_minutes_ago": 60,
             "closed_minutes_ago": 60, "sla_due_in_minutes": null, "notes": []}
        ],
        "messages": [
            {"contact": 0, "ticket": 0, "direction": "outbound", "operator": 1, "body": "On it", "minutes_ago": 200},
            {"contact": 0, "ticket": 0, "direction": "inbound", "operator": null, "body": "Broken", "minutes_ago": 400},
            {"contact": 1, "ticket": null, "direction": "inbound", "operator": null, "body": "Hi", "minutes_ago": 10}
        ]
    })
}

#[tokio::test]
async fn demo_data_loads_in_one_piece() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = support::open_database(dir.path()).await;
    assert!(deskterm_server::is_empty(&db).await.unwrap());
    let data: deskterm_server::demo::DemoData = serde_json::from_value(demo()).unwrap();
    let now = chrono::Utc::now();
    let operator = deskterm_server::demo::load(&db, &data, now).await.unwrap();
    assert_eq!(operator.name, "Demo Ana");
    assert!(!deskterm_server::is_empty(&db).await.unwrap());

    let token = deskterm_server::issue_token(&db, operator.id)
        .await
        .unwrap();
    let server = deskterm_server::spawn_with(
        db.clone(),
        "127.0.0.1:0".parse().unwrap(),
        deskterm_server::Options {
            settings: deskterm_server::Settings::from_toml(&format!(
                "[mail]\nmaildir = {:?}\n",
                dir.path().join("mail")
            ))
            .unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        http.get(format!("{}/api/v1{path}", server.url()))
            .bearer_auth(&token)
            .send()
    };
    let page: Value = get("/tickets?sort=created")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2);
    let printer: deskterm_api::Ticket = serde_json::from_value(page["items"][0].clone()).unwrap();
    assert_eq!(printer.reference, "HD-000001");
    assert_eq!(printer.status, "waiting_parts");
    assert_eq!(printer.operator.as_ref().unwrap().name, "Demo Bruno");
    assert_eq!(printer.category.as_deref(), Some("Soporte"));
    assert!(printer.important && printer.closed_at.is_none());
    let minutes = |t: chrono::DateTime<chrono::Utc>| (now - t).num_minutes();
    assert_eq!(minutes(printer.created_at), 5000);
    assert_eq!(minutes(printer.updated_at), 120);
    assert_eq!(
        minutes(printer.sla_due_at.unwrap()),
        30,
        "due 30 minutes ago"
    );
    let invoice: deskterm_api::Ticket = serde_json::from_value(page["items"][1].clone()).unwrap();
    assert_eq!(invoice.reference, "MAN-1");
    assert_eq!(
        invoice.category.as_deref(),
        Some("Soporte"),
        "one category, reused"
    );
    assert_eq!(minutes(invoice.closed_at.unwrap()), 60);

    let notes: Value = get(&format!("/tickets/{}/notes", printer.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        notes[0]["body"], "earlier",
        "notes are stored in time order"
    );
    assert_eq!(notes[1]["author"]["name"], "Demo Bruno");
    let chat: Value = get(&format!("/contacts/{}/messages", printer.contact.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chat[0]["body"], "Broken");
    assert_eq!(chat[1]["operator"]["name"], "Demo Bruno");
    assert_eq!(chat[1]["channel"], "whatsapp");
    let meta: Value = get("/meta").await.unwrap().json().await.unwrap();
    assert_eq!(meta["statuses"][5]["key"], "waiting_parts");
    assert_eq!(meta["operators"].as_array().unwrap().len(), 2);
    let changes: Value = get("/changes").await.unwrap().json().await.unwrap();
    assert_eq!(changes["changes"], json!([]), "loading records no changes");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_demo_data_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = support::open_database(dir.path()).await;
    // (JSON pointer, value put there, what the error must name)
    let cases = [
        ("/tickets/1/contact", json!(7), "tickets[1].contact"),
        ("/tickets/0/operator", json!(9), "tickets[0].operator"),
        (
            "/tickets/0/notes/0/operator",
            json!(5),
            "tickets[0].notes[0].operator",
        ),
        ("/messages/2/ticket", json!(0), "messages[2].ticket"),
        ("/messages/0/contact", json!(3), "messages[0].contact"),
        ("/tickets/1/status", json!("unknown"), "tickets[1]"),
        ("/tickets/1/title", json!(" "), "tickets[1]"),
        ("/operators", json!([]), "no operator"),
        ("/operators/1/email", json!("ANA@demo.test"), "operators[1]"),
    ];
    for (pointer, broken, expected) in cases {
        let mut value = demo();
        *value.pointer_mut(pointer).unwrap() = broken;
        let data: deskterm_server::demo::DemoData = serde_json::from_value(value).unwrap();
        let e = deskterm_server::demo::load(&db, &data, chrono::Utc::now())
            .await
            .unwrap_err();
        assert!(e.to_string().contains(expected), "{expected}: {e}");
        assert!(
            deskterm_server::is_empty(&db).await.unwrap(),
            "nothing of a refused load stays"
        );
    }
}
