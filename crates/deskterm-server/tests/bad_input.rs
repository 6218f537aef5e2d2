//! Every bad request is refused with the right problem document, and changes nothing.

mod support;

use deskterm_api::{REQUEST_BODY_MAX_BYTES, TITLE_MAX_CHARS};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Helpdesk, problem};

/// A helpdesk with one contact and one ticket (version 1).
async fn with_ticket() -> (Helpdesk, i64, Value) {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", None, None).await;
    let t = h
        .ticket(json!({"title": "Existing", "contact_id": contact, "reference": "R-1"}))
        .await;
    (h, contact, t)
}

/// What a bad request must not change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    tickets: Value,
    meta: Value,
    latest_seq: i64,
}

async fn snapshot(h: &Helpdesk) -> Snapshot {
    Snapshot {
        tickets: h.get_json("/tickets?limit=1000").await,
        meta: h.get_json("/meta").await,
        latest_seq: h.latest_seq().await,
    }
}

#[tokio::test]
async fn bad_titles_are_422_and_create_nothing() {
    let (h, contact, _) = with_ticket().await;
    let before = snapshot(&h).await;
    for title in [
        json!(""),
        json!("   \t\n "),
        json!("x".repeat(TITLE_MAX_CHARS + 1)),
        json!(null),
    ] {
        let body = json!({"title": title, "contact_id": contact, "category": "Brand new"});
        let p = problem(
            h.post("/tickets", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"]["title"].is_string(), "{title}: {p}");
    }
    let p = problem(
        h.post("/tickets", &json!({"contact_id": contact})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"]["title"], "missing field `title`");
    assert_eq!(
        snapshot(&h).await,
        before,
        "no ticket, no category, no change"
    );
}

#[tokio::test]
async fn unknown_status_priority_operator_or_contact_are_422() {
    let (h, contact, _) = with_ticket().await;
    let before = snapshot(&h).await;
    let cases = [
        (json!({"status": "nope"}), "status"),
        (json!({"priority": "asap"}), "priority"),
        (json!({"operator_id": 999}), "operator_id"),
        (json!({"contact_id": 999}), "contact_id"),
        (json!({"sla_due_at": "yesterday"}), "sla_due_at"),
        (json!({"channel": "  "}), "channel"),
        (
            json!({"description": "d".repeat(deskterm_api::BODY_MAX_CHARS + 1)}),
            "description",
        ),
    ];
    for (extra, field) in cases {
        let mut body = json!({"title": "Fine", "contact_id": contact, "category": "New cat"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let p = problem(
            h.post("/tickets", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_string(), "{field}: {p}");
    }
    // Several at once are all reported.
    let p = problem(
        h.post(
            "/tickets",
            &json!({"title": "", "contact_id": 999, "status": "nope", "operator_id": 999}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&String> = p["errors"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["contact_id", "operator_id", "status", "title"]);
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn a_taken_reference_is_409_whatever_its_case() {
    let (h, contact, _) = with_ticket().await;
    let before = snapshot(&h).await;
    for reference in ["R-1", " r-1 "] {
        let p = problem(
            h.post(
                "/tickets",
                &json!({"title": "Dup", "contact_id": contact, "reference": reference}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert!(p["errors"]["reference"].as_str().unwrap().contains("taken"));
    }
    for reference in ["", "   ", &"R".repeat(33)] {
        let p = problem(
            h.post(
                "/tickets",
                &json!({"title": "Bad ref", "contact_id": contact, "reference": reference}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"]["reference"].is_string());
    }
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn malformed_json_wrong_type_and_oversize_bodies() {
    let (h, _, t) = with_ticket().await;
    let before = snapshot(&h).await;
    let post_raw = |body: String, content_type: &'static str| {
        h.request(Method::POST, "/tickets")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let p = problem(
        post_raw("{\"title\": \"x\",".into(), "application/json")
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("JSON"));
    problem(
        post_raw(String::new(), "application/json").await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        post_raw(
            "{\"title\": \"x\", \"contact_id\": 1} []".into(),
            "application/json",
        )
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        post_raw("[1, 2]".into(), "application/json").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(
        post_raw("{\"title\": \"x\", \"contact_id\": 1}".into(), "text/plain")
            .await
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    let huge =
        json!({"title": "big", "contact_id": 1, "description": "x".repeat(REQUEST_BODY_MAX_BYTES)});
    let p = problem(
        h.post("/tickets", &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("larger"));
    let p = problem(
        h.patch(&format!("/tickets/{}", t["id"]), Some(1), &huge)
            .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(p["status"], 413);
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let (h, contact, _) = with_ticket().await;
    let before = snapshot(&h).await;
    let body = json!({"title": "Sneaky", "contact_id": contact});
    let url = h.url("/tickets");
    let attempts = [
        h.http.post(&url).json(&body),
        h.http.post(&url).bearer_auth("dkt_0000").json(&body),
        h.http
            .post(&url)
            .bearer_auth(format!("{}x", h.token))
            .json(&body),
        h.http
            .post(&url)
            .header("authorization", format!("Basic {}", h.token))
            .json(&body),
        h.http.get(h.url("/me")),
        h.http.get(h.url("/events")),
        h.http.get(h.url("/changes")).bearer_auth(""),
    ];
    for attempt in attempts {
        let r = attempt.send().await.unwrap();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        problem(r, StatusCode::UNAUTHORIZED).await;
    }
    // The operator check comes before the body is read.
    let r = h
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNAUTHORIZED).await;
    assert_eq!(snapshot(&h).await, before);

    // A second token of the same operator works, and so does the first still.
    let second = deskterm_server::issue_token(&h.db, h.operator.id)
        .await
        .unwrap();
    assert_ne!(second, h.token);
    let r = h
        .http
        .get(h.url("/me"))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(deskterm_server::issue_token(&h.db, 999).await.is_err());
}

#[tokio::test]
async fn a_patch_needs_a_current_if_match() {
    let (h, _, t) = with_ticket().await;
    let path = format!("/tickets/{}", t["id"]);
    let before = snapshot(&h).await;
    let p = problem(
        h.patch(&path, None, &json!({"title": "Mine"})).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    assert!(p["current"].is_null());
    assert_eq!(snapshot(&h).await, before);

    // Someone else changes it: our version 1 is stale.
    let r = h.patch(&path, Some(1), &json!({"priority": "high"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let current = h.get_json(&path).await;
    let before = snapshot(&h).await;
    for stale in ["\"1\"", "\"7\"", "garbage"] {
        let r = h
            .request(Method::PATCH, &path)
            .header("If-Match", stale)
            .json(&json!({"title": "Mine"}))
            .send()
            .await
            .unwrap();
        let p = problem(r, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(p["current"], current, "412 carries the ticket as it is now");
    }
    // Invalid values with the right version: 422, nothing changes.
    for body in [
        json!({"title": " "}),
        json!({"status": "nope"}),
        json!({"operator_id": 999}),
        json!({"priority": "asap"}),
        json!({"title": "Fine", "category": "Created?", "status": "nope"}),
    ] {
        problem(
            h.patch(&path, Some(2), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_eq!(snapshot(&h).await, before);
    assert_eq!(h.get_json(&path).await["version"], 2);

    problem(
        h.patch("/tickets/999", Some(1), &json!({"title": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_delete_needs_a_current_if_match() {
    let (h, _, t) = with_ticket().await;
    let path = format!("/tickets/{}", t["id"]);
    let before = snapshot(&h).await;
    problem(
        h.delete(&path, None).await,
        StatusCode::PRECONDITION_REQUIRED,
    )
    .await;
    let p = problem(
        h.delete(&path, Some(5)).await,
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(p["current"]["id"], t["id"]);
    problem(
        h.delete("/tickets/999", Some(1)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn a_custom_status_needs_a_macro_a_label_and_a_free_key() {
    let h = Helpdesk::start().await;
    let before = snapshot(&h).await;
    let p = problem(
        h.post("/statuses", &json!({"label": "Waiting"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"]["macro"], "missing field `macro`");
    let p = problem(
        h.post("/statuses", &json!({"label": "Waiting", "macro": "maybe"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p["errors"]["macro"].is_string());
    for (body, field) in [
        (json!({"label": " ", "macro": "closed"}), "label"),
        (json!({"label": "¿?", "macro": "closed"}), "key"),
        (
            json!({"label": "Ok", "key": "Bad Key", "macro": "closed"}),
            "key",
        ),
    ] {
        let p = problem(
            h.post("/statuses", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_string(), "{body}: {p}");
    }
    for body in [
        json!({"label": "Open", "macro": "closed"}),
        json!({"label": "Whatever", "key": "resolved", "macro": "closed"}),
    ] {
        let p = problem(h.post("/statuses", &body).await, StatusCode::CONFLICT).await;
        assert!(p["errors"]["key"].is_string());
    }
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn bad_list_queries_are_refused() {
    let (h, _, _) = with_ticket().await;
    for q in [
        "sort=nope",
        "sort=-nope",
        "priority=high,asap",
        "status=open,nope",
        "operator=abc",
        "limit=0",
        "limit=1001",
    ] {
        problem(
            h.get(&format!("/tickets?{q}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    for q in [
        "cursor=zz",
        "cursor=7b7d",
        "limit=-1",
        "limit=lots",
        "macro_status=maybe",
    ] {
        problem(
            h.get(&format!("/tickets?{q}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    // A cursor is bound to its sort order.
    h.ticket(json!({"title": "Second", "contact_id": 1})).await;
    let page = h.get_json("/tickets?sort=title&limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    problem(
        h.get(&format!("/tickets?sort=-title&limit=1&cursor={cursor}"))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        h.get("/changes?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    problem(h.get("/changes?since=x").await, StatusCode::BAD_REQUEST).await;
    problem(
        h.get("/contacts?limit=5000").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn bad_notes_contacts_and_messages_change_nothing() {
    let (h, contact, t) = with_ticket().await;
    let other = h.contact("Otro", None, None).await;
    let before = snapshot(&h).await;
    let id = t["id"].as_i64().unwrap();
    for body in [json!({"body": "  "}), json!({"body": 5}), json!({})] {
        let p = problem(
            h.post(&format!("/tickets/{id}/notes"), &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"]["body"].is_string(), "{p}");
    }
    problem(
        h.post("/tickets/999/notes", &json!({"body": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        h.get_json(&format!("/tickets/{id}/notes"))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    let p = problem(
        h.post(
            &format!("/contacts/{other}/messages"),
            &json!({"body": "hi", "ticket_id": id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        p["errors"]["ticket_id"]
            .as_str()
            .unwrap()
            .contains("another contact")
    );
    for (path, body) in [
        (format!("/contacts/{contact}/messages"), json!({"body": ""})),
        (
            format!("/contacts/{contact}/messages"),
            json!({"body": "x", "ticket_id": 999}),
        ),
        ("/contacts".to_owned(), json!({"name": " "})),
        (
            "/contacts".to_owned(),
            json!({"name": "X", "email": "nope"}),
        ),
    ] {
        problem(h.post(&path, &body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    problem(
        h.post("/contacts/999/messages", &json!({"body": "x"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        h.get_json(&format!("/contacts/{contact}/messages")).await,
        json!([])
    );
    assert_eq!(h.get_json("/contacts").await.as_array().unwrap().len(), 2);
    assert_eq!(snapshot(&h).await, before);
}

#[tokio::test]
async fn unknown_paths_and_ids_are_404_problems() {
    let h = Helpdesk::start().await;
    problem(h.get("/nothing-here").await, StatusCode::NOT_FOUND).await;
    problem(h.get("/tickets/999").await, StatusCode::NOT_FOUND).await;
    problem(h.get("/tickets/abc").await, StatusCode::NOT_FOUND).await;
    problem(
        h.http
            .get(format!("{}/elsewhere", h.base()))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        h.request(Method::PUT, "/tickets").send().await.unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
}

#[tokio::test]
async fn operators_are_checked_when_added() {
    let h = Helpdesk::start().await;
    let e = deskterm_server::add_operator(&h.db, "Other", "ANA@example.com")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    assert!(
        deskterm_server::add_operator(&h.db, " ", "x@example.com")
            .await
            .is_err()
    );
    assert!(
        deskterm_server::add_operator(&h.db, "X", "no-at-sign")
            .await
            .is_err()
    );
    let meta = h.get_json("/meta").await;
    assert_eq!(meta["operators"].as_array().unwrap().len(), 1);
}
