//! The API's success paths, against a server on a temporary database.

mod support;

use std::cmp::Ordering;
use std::collections::HashSet;

use deskterm_api::{Meta, SortField, Ticket};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Helpdesk, problem};

#[tokio::test]
async fn me_and_its_profile_option() {
    let h = Helpdesk::start().await;
    let me = h.get_json("/me").await;
    assert_eq!(me["id"], h.operator.id);
    assert_eq!(me["name"], "Ana Test");
    assert_eq!(me["email"], "ana@example.com");
    assert_eq!(me["receive_ticket_emails"], true);
    let r = h
        .patch("/me", None, &json!({"receive_ticket_emails": false}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["receive_ticket_emails"], false);
    assert_eq!(h.get_json("/me").await["receive_ticket_emails"], false);
}

#[tokio::test]
async fn meta_lists_statuses_priorities_and_capabilities() {
    let h = Helpdesk::start().await;
    let meta: Meta = serde_json::from_value(h.get_json("/meta").await).unwrap();
    let statuses: Vec<(&str, &str, bool)> = meta
        .statuses
        .iter()
        .map(|s| (s.key.as_str(), s.macro_status.as_str(), s.builtin))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("new", "in_progress", true),
            ("open", "in_progress", true),
            ("pending", "in_progress", true),
            ("resolved", "closed", true),
            ("closed", "closed", true),
        ]
    );
    assert_eq!(meta.statuses[0].label, "New");
    assert_eq!(meta.priorities.len(), 4);
    assert!(meta.capabilities.preconditions && meta.capabilities.live_events);
    assert!(meta.capabilities.custom_statuses);
    assert!(meta.capabilities.stats && meta.capabilities.history && meta.capabilities.escalations);
    assert_eq!(meta.server_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.operators.len(), 1);
    assert_eq!(meta.operators[0].name, "Ana Test");
    assert!(meta.categories.is_empty() && meta.tags.is_empty());
}

#[tokio::test]
async fn a_custom_status_is_added_and_usable() {
    let h = Helpdesk::start().await;
    let before = h.latest_seq().await;
    let r = h
        .post(
            "/statuses",
            &json!({"label": "Waiting for parts", "macro": "in_progress"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let s: Value = r.json().await.unwrap();
    assert_eq!(
        s,
        json!({"key": "waiting_for_parts", "label": "Waiting for parts", "macro": "in_progress", "builtin": false})
    );
    let r = h
        .post(
            "/statuses",
            &json!({"key": "done_elsewhere", "label": "Done elsewhere", "macro": "closed"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let meta = h.get_json("/meta").await;
    let keys: Vec<&str> = meta["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(&keys[5..], ["waiting_for_parts", "done_elsewhere"]);
    let changes = h.get_json(&format!("/changes?since={before}")).await;
    assert_eq!(changes["changes"][0]["kind"], "meta_changed");

    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "Pieza", "contact_id": contact, "status": "done_elsewhere"}))
        .await;
    assert_eq!(t["status"], "done_elsewhere");
    assert!(
        t["closed_at"].is_string(),
        "a closed macro-status sets closed_at"
    );
}

#[tokio::test]
async fn tickets_get_generated_or_typed_references() {
    let h = Helpdesk::start().await;
    let contact = h
        .contact("Carla Cliente", Some("+34 600 000 001"), None)
        .await;
    let manual = h
        .ticket(json!({"title": "Typed", "contact_id": contact, "reference": "  HD-000001 "}))
        .await;
    assert_eq!(manual["reference"], "HD-000001");

    let r = h
        .post(
            "/tickets",
            &json!({"title": "  Printer jam  ", "contact_id": contact, "description": "Line 1\nLine 2"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let t: Ticket = r.json().await.unwrap();
    assert_eq!(
        t.reference, "HD-000002",
        "the generator skips numbers typed by hand"
    );
    assert_eq!(t.title, "Printer jam");
    assert_eq!(t.description, "Line 1\nLine 2");
    assert_eq!(t.status, "new");
    assert_eq!(t.priority, deskterm_api::Priority::Normal);
    assert_eq!(t.channel, "phone");
    assert_eq!(t.version, 1);
    assert_eq!(t.contact.name, "Carla Cliente");
    assert_eq!(t.contact.phone.as_deref(), Some("+34 600 000 001"));
    assert!(t.operator.is_none() && t.closed_at.is_none() && t.category.is_none());
    assert_eq!(t.created_at, t.updated_at);
    assert_eq!(etag, "\"1\"");
    assert_eq!(location, format!("/api/v1/tickets/{}", t.id));

    let r = h.get(&format!("/tickets/{}", t.id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let again: Ticket = r.json().await.unwrap();
    assert_eq!(again, t);

    let third = h
        .ticket(json!({"title": "Third", "contact_id": contact}))
        .await;
    assert_eq!(third["reference"], "HD-000003");
}

#[tokio::test]
async fn a_ticket_gets_a_new_reference_or_another_customer_by_patch() {
    let h = Helpdesk::start().await;
    let carla = h
        .contact("Carla Cliente", Some("+34 600 000 001"), None)
        .await;
    let marco = h
        .contact("Marco Rossi", None, Some("marco@example.it"))
        .await;
    let a = h.ticket(json!({"title": "A", "contact_id": carla})).await;
    let b = h.ticket(json!({"title": "B", "contact_id": carla})).await;
    let (id, version) = (a["id"].as_i64().unwrap(), a["version"].as_i64().unwrap());

    // Another ticket's reference, in any case, is refused on the field.
    let p = problem(
        h.patch(
            &format!("/tickets/{id}"),
            Some(version),
            &json!({"reference": b["reference"].as_str().unwrap().to_lowercase()}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        p["errors"]["reference"].as_str().unwrap().contains("taken"),
        "{p}"
    );
    let p = problem(
        h.patch(
            &format!("/tickets/{id}"),
            Some(version),
            &json!({"reference": "  "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["reference"].is_string(), "{p}");
    let p = problem(
        h.patch(
            &format!("/tickets/{id}"),
            Some(version),
            &json!({"contact_id": 999_999}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]["contact_id"]
            .as_str()
            .unwrap()
            .contains("999999"),
        "{p}"
    );

    // A free reference and an existing customer are taken, in one version.
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            Some(version),
            &json!({"reference": " VIP-7 ", "contact_id": marco}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Ticket = r.json().await.unwrap();
    assert_eq!((t.reference.as_str(), t.contact.id), ("VIP-7", marco));
    assert_eq!(t.contact.name, "Marco Rossi");
    assert_eq!(t.version, version + 1);
    // Found by its new reference, listed among its new customer's tickets.
    let found = h.get_json("/tickets?q=vip-7").await;
    assert_eq!(found["items"][0]["id"], id, "{found}");
    let of_marco = h.get_json(&format!("/contacts/{marco}/tickets")).await;
    assert!(of_marco.to_string().contains("VIP-7"), "{of_marco}");
    // Its own reference in another case is a rename, not a clash.
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            Some(t.version),
            &json!({"reference": "vip-7"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Both changes are in the history, the customer by name.
    let history = h.get_json(&format!("/tickets/{id}/history")).await;
    let changed: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "field_changed")
        .collect();
    let field = |name: &str| changed.iter().find(|e| e["field"] == name).copied();
    let reference = field("reference").expect("reference change");
    assert_eq!(reference["new"], "VIP-7");
    let contact = field("contact").expect("contact change");
    assert_eq!(contact["old"]["name"], "Carla Cliente");
    assert_eq!(contact["new"]["name"], "Marco Rossi");
}

#[tokio::test]
async fn a_category_is_created_on_first_use_and_reused_after() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let before = h.latest_seq().await;
    let a = h
        .ticket(json!({"title": "A", "contact_id": contact, "category": " Soporte ", "tags": ["vip", " vip", "b"]}))
        .await;
    assert_eq!(a["category"], "Soporte");
    assert_eq!(a["tags"], json!(["vip", "b"]));
    let b = h
        .ticket(json!({"title": "B", "contact_id": contact, "category": "SOPORTE"}))
        .await;
    assert_eq!(b["category"], "Soporte", "the first spelling is kept");
    let meta = h.get_json("/meta").await;
    assert_eq!(meta["categories"].as_array().unwrap().len(), 1);
    assert_eq!(meta["categories"][0]["name"], "Soporte");
    assert_eq!(meta["tags"], json!(["b", "vip"]));
    assert_eq!(meta["channels"], json!(["phone", "whatsapp"]));
    let kinds: Vec<Value> = h.get_json(&format!("/changes?since={before}")).await["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec!["meta_changed", "ticket_upserted", "ticket_upserted"]
    );
}

/// Ten tickets over two contacts, two operators (one unassigned ticket), several statuses.
async fn varied(h: &Helpdesk) -> Vec<Value> {
    let (bruno, _) = deskterm_server::add_operator(&h.db, "bruno Zeta", "bruno@example.com")
        .await
        .unwrap();
    let carla = h.contact("Carla", None, None).await;
    let dario = h.contact("Álvaro", None, None).await;
    let specs = [
        (
            "Zebra crossing",
            "open",
            "low",
            Some("Soporte"),
            Some(h.operator.id),
            carla,
        ),
        ("apple pie", "new", "urgent", None, None, dario),
        (
            "Mango",
            "pending",
            "high",
            Some("logística"),
            Some(bruno.id),
            carla,
        ),
        (
            "banana",
            "resolved",
            "normal",
            Some("Soporte"),
            Some(h.operator.id),
            dario,
        ),
        ("Cherry", "open", "high", None, Some(bruno.id), carla),
        ("Ñandú", "closed", "low", Some("Ventas"), None, dario),
        (
            "date",
            "open",
            "urgent",
            Some("ventas"),
            Some(h.operator.id),
            carla,
        ),
        ("Elderberry", "new", "normal", None, None, carla),
        (
            "fig",
            "pending",
            "normal",
            Some("Soporte"),
            Some(bruno.id),
            dario,
        ),
        ("Grape", "open", "low", None, Some(h.operator.id), carla),
    ];
    let mut out = Vec::new();
    for (title, status, priority, category, operator, contact) in specs {
        out.push(
            h.ticket(json!({
                "title": title, "status": status, "priority": priority, "category": category,
                "operator_id": operator, "contact_id": contact,
            }))
            .await,
        );
    }
    out
}

/// Titles of the tickets `GET /tickets?{query}` lists (all on one page).
async fn list(h: &Helpdesk, query: &str) -> HashSet<String> {
    let page = h.get_json(&format!("/tickets?{query}")).await;
    let items = page["items"].as_array().unwrap().clone();
    assert_eq!(
        page["total"].as_u64().unwrap() as usize,
        items.len(),
        "{query}"
    );
    titles(&items)
}

fn titles(items: &[Value]) -> HashSet<String> {
    items
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

fn set(titles: &[&str]) -> HashSet<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

#[tokio::test]
async fn the_list_filters() {
    let h = Helpdesk::start().await;
    varied(&h).await;
    assert_eq!(
        list(&h, "status=new,pending").await,
        set(&["apple pie", "Mango", "Elderberry", "fig"])
    );
    assert_eq!(
        list(&h, "macro_status=closed").await,
        set(&["banana", "Ñandú"])
    );
    assert_eq!(
        list(&h, "priority=urgent").await,
        set(&["apple pie", "date"])
    );
    assert_eq!(
        list(&h, "operator=none").await,
        set(&["apple pie", "Ñandú", "Elderberry"])
    );
    let bruno = 2;
    assert_eq!(
        list(&h, "operator=2,none").await,
        set(&["apple pie", "Ñandú", "Elderberry", "Mango", "Cherry", "fig"])
    );
    assert_eq!(list(&h, &format!("operator={bruno}")).await.len(), 3);
    assert_eq!(
        list(&h, "category=soporte,VENTAS").await,
        set(&["Zebra crossing", "banana", "fig", "Ñandú", "date"])
    );
    assert_eq!(list(&h, "q=AN").await, set(&["banana", "Mango", "Ñandú"]));
    assert_eq!(
        list(&h, "q=ñan").await,
        set(&["Ñandú"]),
        "search folds more than ASCII"
    );
    assert_eq!(list(&h, "q=hd-000003").await, set(&["Mango"]));
    assert_eq!(
        list(&h, "status=open&priority=low,high&operator=1").await,
        set(&["Zebra crossing", "Grape"])
    );
    let page = h.get_json("/tickets?contact=2&limit=2").await;
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
}

/// The order a sort must produce: key then id, both in the sort's
/// direction, except that tickets without a key (no category, no operator) come last.
fn compare(sort: deskterm_api::Sort, statuses: &[String], a: &Ticket, b: &Ticket) -> Ordering {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Int(i64),
        Text(String),
    }
    let key = |t: &Ticket| -> Option<Key> {
        let text = |s: &str| Some(Key::Text(s.to_lowercase()));
        match sort.field {
            SortField::Reference => text(&t.reference),
            SortField::Title => text(&t.title),
            SortField::Status => statuses
                .iter()
                .position(|s| *s == t.status)
                .map(|p| Key::Int(p as i64)),
            SortField::Priority => Some(Key::Int(i64::from(t.priority.rank()))),
            SortField::Category => t.category.as_deref().and_then(text),
            SortField::Operator => t.operator.as_ref().and_then(|o| text(&o.name)),
            SortField::Contact => text(&t.contact.name),
            SortField::Created => Some(Key::Int(t.created_at.timestamp_millis())),
            SortField::Updated => Some(Key::Int(t.updated_at.timestamp_millis())),
        }
    };
    match (key(a), key(b)) {
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (ka, kb) => {
            let order = ka.cmp(&kb).then(a.id.cmp(&b.id));
            if sort.descending {
                order.reverse()
            } else {
                order
            }
        }
    }
}

#[tokio::test]
async fn every_sort_orders_and_pages_every_ticket_once() {
    let h = Helpdesk::start().await;
    varied(&h).await;
    let statuses: Vec<String> = h.get_json("/meta").await["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_owned())
        .collect();
    let default = h.get_json("/tickets").await;
    let by_updated_desc = h.all_tickets("-updated", 1000).await;
    assert_eq!(default["items"].as_array().unwrap(), &by_updated_desc);
    for field in SortField::ALL {
        for descending in [false, true] {
            let order = deskterm_api::Sort { field, descending };
            let sort = order.to_string();
            let whole: Vec<Ticket> =
                serde_json::from_value(Value::Array(h.all_tickets(&sort, 1000).await)).unwrap();
            assert_eq!(whole.len(), 10, "{sort}");
            for pair in whole.windows(2) {
                assert_eq!(
                    compare(order, &statuses, &pair[0], &pair[1]),
                    Ordering::Less,
                    "{sort}: {} before {}",
                    pair[0].title,
                    pair[1].title
                );
            }
            for page in [1, 3, 4] {
                let paged: Vec<i64> = h
                    .all_tickets(&sort, page)
                    .await
                    .iter()
                    .map(|t| t["id"].as_i64().unwrap())
                    .collect();
                let ids: Vec<i64> = whole.iter().map(|t| t.id).collect();
                assert_eq!(paged, ids, "{sort} in pages of {page}");
            }
        }
    }
    // Spot checks with known data.
    let by_title: Vec<String> = h
        .all_tickets("title", 100)
        .await
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(by_title[0], "apple pie");
    assert_eq!(by_title[9], "Ñandú");
    let by_operator = h.all_tickets("-operator", 100).await;
    assert!(by_operator[9]["operator"].is_null(), "unassigned last");
    assert_eq!(by_operator[0]["operator"]["name"], "bruno Zeta");
    let by_priority = h.all_tickets("-priority", 100).await;
    assert_eq!(by_priority[0]["priority"], "urgent");
}

#[tokio::test]
async fn paging_survives_edits_between_pages() {
    let h = Helpdesk::start().await;
    let tickets = varied(&h).await;
    let first = h.get_json("/tickets?sort=title&limit=4").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // Renaming a ticket already shown moves it after the cursor: it shows again, nothing is lost.
    let shown = &tickets[1]; // "apple pie", first by title
    let r = h
        .patch(
            &format!("/tickets/{}", shown["id"]),
            Some(1),
            &json!({"title": "zz last"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut seen: Vec<Value> = first["items"].as_array().unwrap().clone();
    let mut cursor = Some(cursor);
    while let Some(c) = cursor {
        let page = h
            .get_json(&format!("/tickets?sort=title&limit=4&cursor={c}"))
            .await;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    let ids: HashSet<i64> = seen.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 10);
}

#[tokio::test]
async fn a_patch_with_if_match_changes_the_ticket() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "Old", "contact_id": contact, "category": "Soporte", "operator_id": h.operator.id}))
        .await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/tickets/{id}");

    let r = h
        .patch(
            &path,
            Some(1),
            &json!({"title": " New ", "priority": "urgent", "category": null, "operator_id": null,
                     "tags": ["x"], "important": true, "sla_due_at": "2030-01-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let p: Ticket = r.json().await.unwrap();
    assert_eq!(p.version, 2);
    assert_eq!(p.title, "New");
    assert_eq!(p.priority, deskterm_api::Priority::Urgent);
    assert_eq!(p.category, None);
    assert_eq!(p.operator, None);
    assert_eq!(p.tags, vec!["x"]);
    assert!(p.important);
    assert_eq!(
        p.sla_due_at.unwrap().to_rfc3339(),
        "2030-01-01T10:00:00+00:00"
    );
    assert!(p.updated_at >= p.created_at);
    assert_eq!(h.get_json(&path).await, serde_json::to_value(&p).unwrap());

    // Entering a closed status sets closed_at, moving between closed ones keeps it, leaving clears it.
    let r = h
        .patch(&path, Some(2), &json!({"status": "resolved"}))
        .await;
    let resolved: Ticket = r.json().await.unwrap();
    let closed_at = resolved.closed_at.expect("closed_at");
    let r = h.patch(&path, Some(3), &json!({"status": "closed"})).await;
    let closed: Ticket = r.json().await.unwrap();
    assert_eq!(closed.closed_at, Some(closed_at));
    let r = h.patch(&path, Some(4), &json!({"status": "open"})).await;
    let open: Ticket = r.json().await.unwrap();
    assert_eq!(open.closed_at, None);
    assert_eq!(open.version, 5);

    // An empty patch, or one that changes nothing, leaves the version alone.
    let seq = h.latest_seq().await;
    for body in [json!({}), json!({"status": "open", "title": "New"})] {
        let r = h.patch(&path, Some(5), &body).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["etag"], "\"5\"");
        let same: Ticket = r.json().await.unwrap();
        assert_eq!(same, open);
    }
    assert_eq!(h.latest_seq().await, seq, "no change recorded");

    // `*` matches any version.
    let r = h
        .request(reqwest::Method::PATCH, &path)
        .header("If-Match", "*")
        .json(&json!({"title": "Star"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Ticket>().await.unwrap().version, 6);
}

#[tokio::test]
async fn delete_removes_the_ticket_and_its_notes_but_keeps_the_chat() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "Gone", "contact_id": contact}))
        .await;
    let id = t["id"].as_i64().unwrap();
    let r = h
        .post(&format!("/tickets/{id}/notes"), &json!({"body": "note"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = h
        .post(
            &format!("/contacts/{contact}/messages"),
            &json!({"body": "hello", "ticket_id": id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = h.delete(&format!("/tickets/{id}"), Some(1)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    support::problem(
        h.get(&format!("/tickets/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    support::problem(
        h.get(&format!("/tickets/{id}/notes")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(count_rows(&h, "notes").await, 0);
    assert_eq!(count_rows(&h, "messages").await, 1);
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(chat[0]["body"], "hello");
    assert!(chat[0]["ticket_id"].is_null());
    assert_eq!(h.ticket_count().await, 0);
    let last = h
        .get_json(&format!("/changes?since={}", h.latest_seq().await - 1))
        .await;
    assert_eq!(last["changes"][0]["kind"], "ticket_deleted");
    assert_eq!(last["changes"][0]["data"]["id"], id);
    // A new ticket never takes the old id.
    let next = h
        .ticket(json!({"title": "New", "contact_id": contact}))
        .await;
    assert!(next["id"].as_i64().unwrap() > id);
}

/// Rows in a table, read straight from the database.
async fn count_rows(h: &Helpdesk, table: &str) -> i64 {
    let pool = h.database().await;
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn notes_are_added_oldest_first_without_a_new_version() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h.ticket(json!({"title": "T", "contact_id": contact})).await;
    let id = t["id"].as_i64().unwrap();
    for body in ["  first  ", "second\nline"] {
        let r = h
            .post(&format!("/tickets/{id}/notes"), &json!({"body": body}))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let n: Value = r.json().await.unwrap();
        assert_eq!(n["ticket_id"], id);
        assert_eq!(n["author"]["id"], h.operator.id);
        assert_eq!(n["author"]["name"], "Ana Test");
    }
    let notes = h.get_json(&format!("/tickets/{id}/notes")).await;
    let bodies: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["first", "second\nline"]);
    assert_eq!(h.get_json(&format!("/tickets/{id}")).await["version"], 1);
}

#[tokio::test]
async fn contacts_are_created_searched_and_read() {
    let h = Helpdesk::start().await;
    let carla = h
        .contact("Carla Cliente", Some("+34 600 000 001"), None)
        .await;
    let dario = h
        .contact("Darío Pérez", None, Some("dario@example.com"))
        .await;
    let r = h.post("/contacts", &json!({"name": "Eva"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/contacts/3")
    );
    let eva: Value = r.json().await.unwrap();
    assert!(eva["phone"].is_null() && eva["channel"].is_null());

    let names = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(h.get_json("/contacts").await),
        ["Carla Cliente", "Darío Pérez", "Eva"]
    );
    assert_eq!(
        names(h.get_json("/contacts?q=DARÍO").await),
        ["Darío Pérez"]
    );
    assert_eq!(
        names(h.get_json("/contacts?q=600000001").await),
        ["Carla Cliente"]
    );
    assert_eq!(
        names(h.get_json("/contacts?q=600%20000").await),
        ["Carla Cliente"]
    );
    assert_eq!(
        names(h.get_json("/contacts?q=example.com").await),
        ["Darío Pérez"]
    );
    assert_eq!(
        names(h.get_json("/contacts?limit=1").await),
        ["Carla Cliente"]
    );
    let c = h.get_json(&format!("/contacts/{carla}")).await;
    assert_eq!(c["phone"], "+34 600 000 001");
    assert_eq!(c["channel"], "whatsapp");
    assert!(c["created_at"].is_string());
    support::problem(h.get("/contacts/999").await, StatusCode::NOT_FOUND).await;

    let t = h.ticket(json!({"title": "Old", "contact_id": dario})).await;
    h.ticket(json!({"title": "Newer", "contact_id": dario}))
        .await;
    let previous = h.get_json(&format!("/contacts/{dario}/tickets")).await;
    assert_eq!(previous.as_array().unwrap().len(), 2);
    assert_eq!(previous[1]["id"], t["id"]);
}

#[tokio::test]
async fn messages_are_sent_and_listed_after_an_id() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "T", "contact_id": contact, "channel": "email"}))
        .await;
    let r = h
        .post(
            &format!("/contacts/{contact}/messages"),
            &json!({"body": " about the ticket ", "ticket_id": t["id"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["operator"]["id"], h.operator.id);
    assert_eq!(
        m["channel"], "email",
        "a reply about a ticket goes on its channel"
    );
    assert_eq!(m["body"], "about the ticket");
    let r = h
        .post(
            &format!("/contacts/{contact}/messages"),
            &json!({"body": "plain"}),
        )
        .await;
    let second: Value = r.json().await.unwrap();
    assert_eq!(
        second["channel"], "whatsapp",
        "otherwise the contact's channel"
    );
    assert!(second["ticket_id"].is_null());

    let all = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["id"], m["id"]);
    let after = h
        .get_json(&format!("/contacts/{contact}/messages?after={}", m["id"]))
        .await;
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["body"], "plain");
    let limited = h
        .get_json(&format!("/contacts/{contact}/messages?limit=1"))
        .await;
    assert_eq!(limited[0]["id"], m["id"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_inbound_message_opens_a_ticket_or_joins_the_open_one() {
    let h = Helpdesk::start().await;
    let long = format!("Hola, {} fin", "la impresora no imprime ".repeat(5));
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "Nuevo Cliente", "phone": "+34 611 222 333", "body": long}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["direction"], "inbound");
    assert!(m["operator"].is_null());
    assert_eq!(m["channel"], "whatsapp");
    let ticket_id = m["ticket_id"].as_i64().expect("a ticket was opened");
    let t: Ticket =
        serde_json::from_value(h.get_json(&format!("/tickets/{ticket_id}")).await).unwrap();
    assert_eq!(t.status, "new");
    assert_eq!(t.channel, "whatsapp");
    assert_eq!(t.title, long.chars().take(60).collect::<String>().trim());
    assert_eq!(t.description, long);
    assert_eq!(t.contact.name, "Nuevo Cliente");
    let contact = m["contact_id"].as_i64().unwrap();

    // The same sender, spaced differently: same contact, same ticket.
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "", "phone": "+34611222333", "body": "¿alguien?"}),
        )
        .await;
    let m2: Value = r.json().await.unwrap();
    assert_eq!(m2["contact_id"], contact);
    assert_eq!(m2["ticket_id"], ticket_id);
    assert_eq!(h.ticket_count().await, 1);

    // Once the ticket is closed, the next message opens a new one.
    let r = h
        .patch(
            &format!("/tickets/{ticket_id}"),
            Some(1),
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "Nuevo Cliente", "phone": "+34 611 222 333", "body": "otra cosa"}),
        )
        .await;
    let m3: Value = r.json().await.unwrap();
    assert_ne!(m3["ticket_id"], ticket_id);
    assert_eq!(h.ticket_count().await, 2);
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(chat.as_array().unwrap().len(), 3);

    // By e-mail, on another channel: another contact.
    let r = h
        .inbound(
            "email",
            &json!({"name": "Eva", "email": "eva@example.com", "body": "Factura"}),
        )
        .await;
    let m4: Value = r.json().await.unwrap();
    assert_ne!(m4["contact_id"], contact);
    assert_eq!(m4["channel"], "email");
}
