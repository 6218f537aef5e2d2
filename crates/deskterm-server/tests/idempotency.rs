//! An `Idempotency-Key` answers retries of the same request only: reused
//! for another request it is 422. Old keys and change-feed entries are
//! pruned, and a client whose cursor is older than the feed kept gets `resync`.

mod support;

use std::time::Duration;

use deskterm_server::{Options, Retention};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::sse::SseReader;
use support::{Helpdesk, problem};

const WAIT: Duration = Duration::from_secs(30);

/// POSTs `body` to `path` with `key`.
async fn post_with_key(h: &Helpdesk, path: &str, key: &str, body: &Value) -> reqwest::Response {
    h.request_for(Method::POST, path)
        .await
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// What a refused reuse must not change.
async fn snapshot(h: &Helpdesk) -> Value {
    json!({
        "tickets": h.get_json("/tickets?limit=1000").await,
        "contacts": h.get_json("/contacts?limit=100").await,
        "latest_seq": h.latest_seq().await,
    })
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_422_on_every_endpoint() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", Some("+34600000001"), None).await;
    let ticket = h
        .ticket(json!({"title": "Existing", "contact_id": contact}))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let cases = [
        (
            "/tickets".to_owned(),
            json!({"title": "Printer", "contact_id": contact}),
            json!({"title": "Scanner", "contact_id": contact}),
        ),
        (
            format!("/tickets/{id}/notes"),
            json!({"body": "first note"}),
            json!({"body": "another note"}),
        ),
        (
            "/contacts".to_owned(),
            json!({"name": "Dora", "email": "dora@example.com"}),
            json!({"name": "Eloy", "email": "eloy@example.com"}),
        ),
        (
            format!("/contacts/{contact}/messages"),
            json!({"body": "hola"}),
            json!({"body": "adiós"}),
        ),
        (
            "/channels/whatsapp/inbound".to_owned(),
            json!({"name": "Fede", "phone": "+34600000009", "body": "hola"}),
            json!({"name": "Fede", "phone": "+34600000009", "body": "otra cosa"}),
        ),
    ];
    for (path, first, other) in &cases {
        let key = format!("key for {path}");
        let r = post_with_key(&h, path, &key, first).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{path}");
        let answer: Value = r.json().await.unwrap();
        // A retry of the same request, however its fields are spaced or
        // ordered, gets the first answer.
        let respaced = serde_json::to_string_pretty(first).unwrap();
        let r = h
            .request_for(Method::POST, path)
            .await
            .header("Idempotency-Key", &key)
            .header("Content-Type", "application/json")
            .body(respaced)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "retry of {path}");
        assert_eq!(r.json::<Value>().await.unwrap(), answer, "{path}");
        let before = snapshot(&h).await;
        let p = problem(
            post_with_key(&h, path, &key, other).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("already used for a different request"),
            "{path}: {p}"
        );
        assert_eq!(snapshot(&h).await, before, "{path}: nothing changed");
        // The same key is free on another path, and a new key works.
        let r = post_with_key(&h, path, &format!("{key} (new)"), other).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{path} with a new key");
    }
}

/// Restarts the helpdesk's server on the same database with `retention`.
async fn restart(h: &mut Helpdesk, retention: Retention) {
    h.server.take().unwrap().shutdown().await;
    let options = h.options(Options {
        retention,
        ..Options::default()
    });
    h.server = Some(
        deskterm_server::spawn_with(h.db.clone(), "127.0.0.1:0".parse().unwrap(), options)
            .await
            .unwrap(),
    );
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

#[tokio::test]
async fn old_keys_and_changes_are_pruned_at_start_and_old_cursors_get_resync() {
    let mut h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let new = json!({"title": "Printer", "contact_id": contact});
    let r = post_with_key(&h, "/tickets", "k1", &new).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    h.ticket(json!({"title": "Second", "contact_id": contact}))
        .await;
    let latest = h.latest_seq().await;
    assert!(latest >= 3);

    // Kept by the default retention: nothing changes.
    restart(&mut h, Retention::default()).await;
    let page = h.get_json("/changes?since=1").await;
    assert_eq!(page["resync"], false, "{page}");
    let other = json!({"title": "Scanner", "contact_id": contact});
    let r = post_with_key(&h, "/tickets", "k1", &other).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing older than now is kept.
    restart(
        &mut h,
        Retention {
            feed: Duration::ZERO,
            idempotency_keys: Duration::ZERO,
            ..Retention::default()
        },
    )
    .await;
    let page = h.get_json("/changes?since=1").await;
    assert_eq!(
        page,
        json!({"changes": [], "latest_seq": latest, "resync": true})
    );
    let mut events = open_events(&h, 1).await;
    let resync = events.next(WAIT).await.expect("resync event");
    assert_eq!(resync.event, "resync");
    // A client that is up to date goes on as before.
    let page = h.get_json(&format!("/changes?since={latest}")).await;
    assert_eq!(page["resync"], false, "{page}");
    // The key was forgotten, so it is a new request now.
    let r = post_with_key(&h, "/tickets", "k1", &other).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["title"], "Scanner");
}

#[tokio::test]
async fn pruning_runs_while_the_server_runs() {
    let mut h = Helpdesk::start().await;
    restart(
        &mut h,
        Retention {
            feed: Duration::ZERO,
            every: Duration::from_millis(100),
            ..Retention::default()
        },
    )
    .await;
    // Two changes: a store that keeps its newest change (PostgreSQL) still
    // prunes the first, which a client at 0 needs.
    h.ticket(json!({"title": "One", "contact_id": h.contact("Carla", None, None).await}))
        .await;
    h.ticket(json!({"title": "Two", "contact_id": h.contact("Eva", None, None).await}))
        .await;
    let latest = h.latest_seq().await;
    assert!(latest >= 2);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let page = h.get_json("/changes?since=0").await;
        if page["resync"] == true {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the change was never pruned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
