//! A ticket's history (`GET /tickets/{id}/history`): every change, recorded
//! with the write that made it, old → new, who and when.

mod support;

use deskterm_api::HistoryPage;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Helpdesk, problem};

/// A helpdesk with one contact and a ticket about them; returns the ticket.
async fn with_ticket(h: &Helpdesk) -> Value {
    let contact = h.contact("Lucía", Some("+34 600 1"), None).await;
    h.ticket(json!({"title": "Impresora", "contact_id": contact, "status": "new"}))
        .await
}

/// Every entry of a ticket's history, following cursors with pages of `limit`.
async fn history(h: &Helpdesk, id: i64, limit: u32) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("/tickets/{id}/history?limit={limit}");
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let page = h.get_json(&path).await;
        let typed: HistoryPage = serde_json::from_value(page.clone()).expect("a HistoryPage");
        assert!(typed.items.len() <= limit as usize, "{page}");
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match typed.next_cursor {
            Some(c) => after = Some(c),
            None => return all,
        }
        assert!(all.len() < 10_000, "paging does not end");
    }
}

fn kinds(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e["field"].as_str() {
            Some(f) => format!("{}:{f}", e["kind"].as_str().unwrap_or_default()),
            None => e["kind"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn creation_status_assignment_note_and_deletion_are_recorded() {
    let h = Helpdesk::start().await;
    let (bruno, _) = deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
        .await
        .unwrap();
    let ticket = with_ticket(&h).await;
    let id = ticket["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}");

    let r = h
        .patch(
            &path,
            Some(1),
            &json!({"status": "open", "operator_id": bruno.id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .post(&format!("{path}/notes"), &json!({"body": "llamar mañana"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let note: Value = r.json().await.unwrap();
    let r = h.delete(&path, Some(2)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Gone from the tickets, the ticket's history stays readable.
    assert_eq!(h.get(&path).await.status(), StatusCode::NOT_FOUND);
    let entries = history(&h, id, 100).await;

    assert_eq!(
        kinds(&entries),
        [
            "created",
            "field_changed:status",
            "field_changed:operator",
            "note_added",
            "deleted"
        ]
    );
    for e in &entries {
        assert_eq!(e["ticket_id"], id);
        assert_eq!(e["actor"]["kind"], "operator", "{e}");
        assert_eq!(e["actor"]["operator_id"], h.operator.id, "{e}");
        assert_eq!(e["actor"]["name"], "Ana Test", "{e}");
    }
    assert_eq!(entries[0]["new"]["reference"], ticket["reference"]);
    assert_eq!(entries[0]["new"]["title"], "Impresora");
    assert_eq!(entries[0]["at"], ticket["created_at"]);
    assert_eq!(
        (&entries[1]["old"], &entries[1]["new"]),
        (&json!("new"), &json!("open"))
    );
    assert_eq!(entries[2]["old"], Value::Null);
    assert_eq!(entries[2]["new"], json!({"id": bruno.id, "name": "Bruno"}));
    assert_eq!(entries[3]["new"]["id"], note["id"]);
    assert_eq!(entries[3]["new"]["body"], "llamar mañana");
    assert_eq!(entries[4]["old"]["reference"], ticket["reference"]);
    assert_eq!(entries[4]["new"], Value::Null);
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
}

#[tokio::test]
async fn every_changed_field_is_one_entry_and_a_patch_changing_nothing_records_nothing() {
    let h = Helpdesk::start().await;
    let ticket = with_ticket(&h).await;
    let id = ticket["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}");
    // The same values again: nothing changes, not even the version.
    let r = h
        .patch(
            &path,
            Some(1),
            &json!({"title": "Impresora", "status": "new", "tags": [], "important": false}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let same: Value = r.json().await.unwrap();
    assert_eq!(same["version"], 1);
    assert_eq!(kinds(&history(&h, id, 100).await), ["created"]);

    let r = h
        .patch(
            &path,
            Some(1),
            &json!({"title": "Impresora rota", "priority": "urgent", "tags": ["vip"],
                    "important": true, "category": "Hardware", "status": "new"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let entries = history(&h, id, 100).await;
    assert_eq!(
        kinds(&entries),
        [
            "created",
            "field_changed:title",
            "field_changed:priority",
            "field_changed:category",
            "field_changed:tags",
            "field_changed:important"
        ]
    );
    let change = |field: &str| {
        let e = entries
            .iter()
            .find(|e| e["field"] == field)
            .unwrap_or_else(|| panic!("no {field} entry"));
        (e["old"].clone(), e["new"].clone())
    };
    assert_eq!(
        change("title"),
        (json!("Impresora"), json!("Impresora rota"))
    );
    assert_eq!(change("priority"), (json!("normal"), json!("urgent")));
    assert_eq!(change("category"), (Value::Null, json!("Hardware")));
    assert_eq!(change("tags"), (json!([]), json!(["vip"])));
    assert_eq!(change("important"), (json!(false), json!(true)));
}

#[tokio::test]
async fn a_refused_write_records_nothing() {
    let h = Helpdesk::start().await;
    let ticket = with_ticket(&h).await;
    let id = ticket["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}");
    let r = h.patch(&path, Some(1), &json!({"status": "open"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    // A stale version: 412, and neither the patch nor the deletion is recorded.
    let r = h.patch(&path, Some(1), &json!({"status": "closed"})).await;
    problem(r, StatusCode::PRECONDITION_FAILED).await;
    let r = h.delete(&path, Some(1)).await;
    problem(r, StatusCode::PRECONDITION_FAILED).await;
    // An invalid field among valid ones: 422, nothing recorded either.
    let r = h
        .patch(
            &path,
            Some(2),
            &json!({"title": "Otro", "status": "no-such"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        kinds(&history(&h, id, 100).await),
        ["created", "field_changed:status"]
    );
}

#[tokio::test]
async fn messages_about_a_ticket_are_recorded_with_their_sender() {
    let h = Helpdesk::start().await;
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "Eva", "phone": "+34 600 7", "body": "no enciende"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let inbound: Value = r.json().await.unwrap();
    let id = inbound["ticket_id"].as_i64().unwrap();
    let contact = inbound["contact_id"].as_i64().unwrap();
    let r = h
        .post(
            &format!("/contacts/{contact}/messages"),
            &json!({"body": "¿probó a reiniciar?", "ticket_id": id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let entries = history(&h, id, 100).await;
    assert_eq!(
        kinds(&entries),
        ["created", "message_added", "message_added"]
    );
    for e in &entries[..2] {
        assert_eq!(e["actor"]["kind"], "channel", "{e}");
        assert_eq!(e["actor"]["operator_id"], Value::Null, "{e}");
        assert_eq!(e["actor"]["name"], "whatsapp", "{e}");
    }
    assert_eq!(entries[1]["new"]["id"], inbound["id"]);
    assert_eq!(entries[1]["new"]["direction"], "inbound");
    assert_eq!(entries[2]["actor"]["operator_id"], h.operator.id);
    assert_eq!(entries[2]["new"]["direction"], "outbound");
    assert_eq!(entries[2]["new"]["body"], "¿probó a reiniciar?");
}

#[tokio::test]
async fn pages_hold_every_entry_once() {
    let h = Helpdesk::start().await;
    let ticket = with_ticket(&h).await;
    let id = ticket["id"].as_i64().unwrap();
    for i in 0..7 {
        let r = h
            .post(
                &format!("/tickets/{id}/notes"),
                &json!({"body": format!("nota {i}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let whole = history(&h, id, 1000).await;
    assert_eq!(whole.len(), 8);
    for limit in [1, 2, 3, 8] {
        assert_eq!(history(&h, id, limit).await, whole, "pages of {limit}");
    }
    // A full last page is followed by an empty one at most, never a repeat.
    let last = whole[7]["id"].as_i64().unwrap();
    let page = h
        .get_json(&format!("/tickets/{id}/history?after={last}"))
        .await;
    assert_eq!(page, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn bad_parameters_and_unknown_tickets_are_refused() {
    let h = Helpdesk::start().await;
    let ticket = with_ticket(&h).await;
    let id = ticket["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}/history");
    let body = problem(
        h.get(&format!("{path}?page=2")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap_or_default().contains("page"),
        "{body}"
    );
    let body = problem(
        h.get(&format!("{path}?after=abc")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("after"),
        "{body}"
    );
    for limit in ["0", "1001"] {
        let body = problem(
            h.get(&format!("{path}?limit={limit}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["errors"]["limit"].is_string(), "{body}");
    }
    problem(
        h.get(&format!("{path}?limit=x")).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        h.get(&format!("/tickets/{}/history", id + 1)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The same sign-in as every ticket path.
    let r = h
        .http
        .get(h.url(&path))
        .send()
        .await
        .expect("GET without a token");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
