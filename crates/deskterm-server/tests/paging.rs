//! Paging `GET /tickets` with every sort and the common filters visits every
//! ticket once and in order while tickets are added, edited and deleted
//! between pages; the sort keys copied onto tickets follow any writer.

mod support;

use std::cmp::Ordering;
use std::collections::HashSet;

use deskterm_api::{Priority, Sort, SortField, Ticket};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Helpdesk;

/// The status keys in display order.
async fn statuses(h: &Helpdesk) -> Vec<String> {
    h.get_json("/meta").await["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .map(|s| s["key"].as_str().expect("key").to_owned())
        .collect()
}

/// The order a sort must produce: key then id, in the sort's direction;
/// tickets without a key (no category, no operator) last either way.
fn compare(sort: Sort, statuses: &[String], a: &Ticket, b: &Ticket) -> Ordering {
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

/// The operators of the test: the admin, two agents with the same name.
struct People {
    contacts: Vec<i64>,
    operators: Vec<i64>,
}

async fn people(h: &Helpdesk) -> People {
    let mut operators = vec![h.operator.id];
    for email in ["bruno@example.com", "bruno.dos@example.com"] {
        let (op, _) = deskterm_server::add_operator(&h.db, "Bruno Test", email)
            .await
            .expect("operator");
        operators.push(op.id);
    }
    let contacts = vec![
        h.contact("Lucía Pérez", Some("+34 600 000 001"), None)
            .await,
        h.contact("lucía pérez", None, Some("otra@example.com"))
            .await,
        h.contact("Ana", None, None).await,
    ];
    People {
        contacts,
        operators,
    }
}

/// Ticket `i` of a varied set: repeated titles, statuses, priorities,
/// categories (and none), operators (and none), contacts.
fn varied(p: &People, i: usize, title: &str) -> Value {
    let title = if i.is_multiple_of(4) {
        "Same title".to_owned()
    } else {
        format!("{title} {}", i % 7)
    };
    let status = ["new", "open", "pending", "resolved", "closed"][i % 5];
    let priority = ["low", "normal", "high", "urgent"][i % 4];
    let category = [None, Some("Soporte"), Some("ventas")][i % 3];
    let operator = [
        None,
        Some(p.operators[0]),
        Some(p.operators[1]),
        Some(p.operators[2]),
    ][i % 4];
    json!({
        "title": title, "status": status, "priority": priority, "category": category,
        "operator_id": operator, "contact_id": p.contacts[i % p.contacts.len()],
    })
}

/// A filter of the list and the same test on a ticket.
struct Filter {
    query: String,
    test: Box<dyn Fn(&Ticket) -> bool>,
}

fn filters(p: &People) -> Vec<Filter> {
    let (ana, bruno) = (p.operators[0], p.operators[1]);
    let operator = |t: &Ticket| t.operator.as_ref().map(|o| o.id);
    vec![
        Filter {
            query: String::new(),
            test: Box::new(|_| true),
        },
        Filter {
            query: "status=open,new".into(),
            test: Box::new(|t| t.status == "open" || t.status == "new"),
        },
        Filter {
            query: "macro_status=closed".into(),
            test: Box::new(|t| t.status == "resolved" || t.status == "closed"),
        },
        Filter {
            query: "priority=high,urgent".into(),
            test: Box::new(|t| t.priority >= Priority::High),
        },
        Filter {
            query: format!("operator={bruno}"),
            test: Box::new(move |t| operator(t) == Some(bruno)),
        },
        Filter {
            query: "operator=none".into(),
            test: Box::new(move |t| operator(t).is_none()),
        },
        Filter {
            query: format!("operator={ana},none&status=new,open,pending"),
            test: Box::new(move |t| {
                operator(t).is_none_or(|o| o == ana)
                    && ["new", "open", "pending"].contains(&t.status.as_str())
            }),
        },
    ]
}

#[tokio::test]
async fn pages_visit_every_ticket_once_in_order_while_tickets_change() {
    let h = Helpdesk::start().await;
    let p = people(&h).await;
    let statuses = statuses(&h).await;
    let mut base: Vec<Ticket> = Vec::new();
    for i in 0..30 {
        let t = h.ticket(varied(&p, i, "Base")).await;
        base.push(serde_json::from_value(t).expect("ticket"));
    }
    let mut made = 0;
    for filter in filters(&p) {
        for field in SortField::ALL {
            for descending in [false, true] {
                let sort = Sort { field, descending };
                let query = format!("/tickets?limit=4&sort={sort}&{}", filter.query);
                let what = format!("{sort} {}", filter.query);
                let mut seen: Vec<Ticket> = Vec::new();
                let mut cursor: Option<String> = None;
                let mut total = None;
                let mut pages = 0;
                // The ticket added between the last two pages, deleted after the next.
                let mut added: Option<i64> = None;
                loop {
                    let path = match &cursor {
                        Some(c) => format!("{query}&cursor={c}"),
                        None => query.clone(),
                    };
                    let page = h.get_json(&path).await;
                    let items: Vec<Ticket> =
                        serde_json::from_value(page["items"].clone()).expect("items");
                    let page_total = page["total"].as_u64().expect("total");
                    assert_eq!(*total.get_or_insert(page_total), page_total, "{what}");
                    seen.extend(items);
                    pages += 1;
                    assert!(pages < 100, "{what}: paging does not end");
                    match page["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_owned()),
                        None => break,
                    }
                    // Between pages: a new ticket, an edit that moves no
                    // ticket in this order, and the deletion of the ticket
                    // added before (so the set stays the same size).
                    made += 1;
                    let new = h.ticket(varied(&p, made, "Between")).await;
                    if field != SortField::Updated {
                        let victim = &base[made % base.len()];
                        let current = h.get_json(&format!("/tickets/{}", victim.id)).await;
                        let r = h
                            .patch(
                                &format!("/tickets/{}", victim.id),
                                current["version"].as_i64(),
                                &json!({"description": format!("edit {made}"), "tags": ["x"]}),
                            )
                            .await;
                        assert_eq!(r.status(), StatusCode::OK);
                    }
                    if let Some(id) = added.replace(new["id"].as_i64().expect("id")) {
                        delete(&h, id).await;
                    }
                }
                if let Some(id) = added {
                    delete(&h, id).await;
                }
                let ids: Vec<i64> = seen.iter().map(|t| t.id).collect();
                let unique: HashSet<i64> = ids.iter().copied().collect();
                assert_eq!(unique.len(), ids.len(), "{what}: a ticket shown twice");
                for t in base.iter().filter(|t| (filter.test)(t)) {
                    assert!(unique.contains(&t.id), "{what}: ticket {} missed", t.id);
                }
                for t in &seen {
                    assert!((filter.test)(t), "{what}: ticket {} does not match", t.id);
                }
                for pair in seen.windows(2) {
                    assert_eq!(
                        compare(sort, &statuses, &pair[0], &pair[1]),
                        Ordering::Less,
                        "{what}: {} before {}",
                        pair[0].id,
                        pair[1].id
                    );
                }
            }
        }
    }
}

async fn delete(h: &Helpdesk, id: i64) {
    let r = h.delete(&format!("/tickets/{id}"), Some(1)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

/// Titles in the order of `sort`.
async fn titles(h: &Helpdesk, sort: &str) -> Vec<String> {
    h.all_tickets(sort, 2)
        .await
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test]
async fn sort_keys_follow_any_writer_and_renames() {
    let h = Helpdesk::start().await;
    let zoe = h.contact("Zoe", None, None).await;
    let adam = h.contact("Adam", None, None).await;
    h.ticket(json!({"title": "Via the API", "contact_id": zoe, "status": "pending"}))
        .await;
    // Another program writes a ticket straight into the database, knowing
    // nothing of the copied sort keys.
    let db = h.database().await;
    sqlx::query(
        "INSERT INTO tickets (reference, reference_folded, title, title_folded, description, \
             status, priority, category_id, operator_id, contact_id, channel, created_at, updated_at) \
         VALUES ('X-1', 'x-1', 'Via SQL', 'via sql', '', 'new', 1, NULL, $1, $2, 'web', \
             '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
    )
    .bind(h.operator.id)
    .bind(adam)
    .execute(&db)
    .await
    .expect("insert");
    assert_eq!(titles(&h, "contact").await, ["Via SQL", "Via the API"]);
    assert_eq!(titles(&h, "status").await, ["Via SQL", "Via the API"]);
    assert_eq!(titles(&h, "-operator").await, ["Via SQL", "Via the API"]);
    assert_eq!(
        h.get_json("/tickets?status=new").await["items"][0]["title"],
        "Via SQL"
    );

    // A contact renamed, a ticket moved to another contact, by hand.
    sqlx::query("UPDATE contacts SET name = 'Zulu', name_folded = 'zulu' WHERE id = $1")
        .bind(adam)
        .execute(&db)
        .await
        .expect("rename");
    assert_eq!(titles(&h, "contact").await, ["Via the API", "Via SQL"]);
    sqlx::query("UPDATE tickets SET contact_id = $1, status = 'closed' WHERE reference = 'X-1'")
        .bind(zoe)
        .execute(&db)
        .await
        .expect("move");
    assert_eq!(titles(&h, "status").await, ["Via the API", "Via SQL"]);
    let by_contact = h.all_tickets("contact", 2).await;
    assert_eq!(by_contact[1]["contact"]["name"], "Zoe");
}
