//! A ticket for a customer the helpdesk does not know yet: `new_contact`
//! in `POST /tickets` or `PATCH /tickets/{id}` makes the contact in the
//! same transaction, checked like `POST /contacts`; a refused write makes
//! no contact.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Helpdesk;

async fn contact_count(h: &Helpdesk) -> usize {
    h.get_json("/contacts?limit=1000")
        .await
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn a_new_ticket_makes_its_new_customer() {
    let h = Helpdesk::start().await;
    let t = h
        .ticket(json!({"title": "Primera vez", "new_contact":
            {"name": " Eva Ruiz ", "phone": "+34 600 111 222", "email": "eva@example.com"}}))
        .await;
    assert_eq!(t["contact"]["name"], "Eva Ruiz");
    assert_eq!(t["contact"]["email"], "eva@example.com");
    let id = t["contact"]["id"].as_i64().unwrap();
    let c = h.get_json(&format!("/contacts/{id}")).await;
    assert_eq!(c["phone"], "+34 600 111 222");
}

#[tokio::test]
async fn a_ticket_is_given_a_new_customer_in_its_history() {
    let h = Helpdesk::start().await;
    let old = h.contact("Leo", None, None).await;
    let t = h
        .ticket(json!({"title": "Cambio", "contact_id": old}))
        .await;
    let r = h
        .patch(
            &format!("/tickets/{}", t["id"]),
            t["version"].as_i64(),
            &json!({"new_contact": {"name": "Mia Conti", "email": "mia@example.it"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["contact"]["name"], "Mia Conti");
    let history = h.get_json(&format!("/tickets/{}/history", t["id"])).await;
    let change = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "contact")
        .cloned()
        .expect("the customer change");
    assert_eq!(change["old"]["name"], "Leo");
    assert_eq!(change["new"]["name"], "Mia Conti");
}

#[tokio::test]
async fn a_refused_write_makes_no_customer_and_says_which_field() {
    let h = Helpdesk::start().await;
    let old = h.contact("Leo", None, None).await;
    let before = contact_count(&h).await;
    for (body, field) in [
        (
            json!({"title": "x", "contact_id": old, "new_contact": {"name": "Ana"}}),
            "new_contact",
        ),
        (json!({"title": "x"}), "contact_id"),
        (
            json!({"title": "x", "new_contact": {"name": " "}}),
            "new_contact.name",
        ),
        (
            json!({"title": "x", "new_contact": {"name": "Ana", "email": "no-at-sign"}}),
            "new_contact.email",
        ),
        // The contact is fine, the ticket is not: no contact is made either.
        (
            json!({"title": "", "new_contact": {"name": "Ana"}}),
            "title",
        ),
        (
            json!({"title": "x", "status": "nope", "new_contact": {"name": "Ana"}}),
            "status",
        ),
    ] {
        let r = h.post("/tickets", &body).await;
        let problem = support::problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(problem["errors"][field].is_string(), "{body}: {problem}");
    }
    // A patch refused after the contact was made (the reference is taken)
    // takes the contact back with it.
    let a = h.ticket(json!({"title": "a", "contact_id": old})).await;
    let b = h.ticket(json!({"title": "b", "contact_id": old})).await;
    let r = h
        .patch(
            &format!("/tickets/{}", b["id"]),
            b["version"].as_i64(),
            &json!({"reference": a["reference"], "new_contact": {"name": "Nadie"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(contact_count(&h).await, before);
}

#[tokio::test]
async fn a_patch_names_one_customer_and_a_bad_new_one_is_refused_on_its_field() {
    let h = Helpdesk::start().await;
    let old = h.contact("Leo", None, None).await;
    let t = h.ticket(json!({"title": "Uno", "contact_id": old})).await;
    let path = format!("/tickets/{}", t["id"]);
    let before = contact_count(&h).await;
    for (body, field) in [
        (
            json!({"contact_id": old, "new_contact": {"name": "Ana"}}),
            "new_contact",
        ),
        (
            json!({"new_contact": {"name": "Ana", "email": "ana.example.com"}}),
            "new_contact.email",
        ),
        (json!({"new_contact": {"name": ""}}), "new_contact.name"),
        // Valid customer, invalid change: neither is made.
        (
            json!({"title": " ", "new_contact": {"name": "Ana"}}),
            "title",
        ),
    ] {
        let r = h.patch(&path, t["version"].as_i64(), &body).await;
        let problem = support::problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(problem["errors"][field].is_string(), "{body}: {problem}");
    }
    assert_eq!(contact_count(&h).await, before);
    let unchanged = h.get_json(&path).await;
    assert_eq!(unchanged["contact"]["id"], old);
    assert_eq!(unchanged["version"], t["version"]);
}

#[tokio::test]
async fn a_new_ticket_refused_after_its_customer_was_made_leaves_no_customer() {
    let h = Helpdesk::start().await;
    let old = h.contact("Leo", None, None).await;
    let a = h.ticket(json!({"title": "a", "contact_id": old})).await;
    let before = contact_count(&h).await;
    // The reference is found taken only once everything else, the customer
    // included, is written in the transaction.
    let r = h
        .post(
            "/tickets",
            &json!({"title": "b", "reference": a["reference"], "new_contact": {"name": "Nadie"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(contact_count(&h).await, before);
    let found = h.get_json("/contacts?q=Nadie").await;
    assert_eq!(found, json!([]), "{found}");
}

#[tokio::test]
async fn a_retried_new_ticket_makes_its_customer_once() {
    let h = Helpdesk::start().await;
    let body = json!({"title": "Reintento", "new_contact": {"name": "Una Vez", "phone": "+39 333 000 111"}});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = h
            .request(reqwest::Method::POST, "/tickets")
            .header(deskterm_api::IDEMPOTENCY_KEY_HEADER, "retry-new-customer")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let t: Value = r.json().await.unwrap();
        ids.push((t["id"].clone(), t["contact"]["id"].clone()));
    }
    assert_eq!(ids[0], ids[1]);
    let found = h.get_json("/contacts?q=Una%20Vez").await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
}

#[tokio::test]
async fn the_new_customer_reaches_clients_with_the_ticket_in_the_feed() {
    let h = Helpdesk::start().await;
    let old = h.contact("Leo", None, None).await;
    let t = h.ticket(json!({"title": "Feed", "contact_id": old})).await;
    let since = h.latest_seq().await;
    let r = h
        .patch(
            &format!("/tickets/{}", t["id"]),
            t["version"].as_i64(),
            &json!({"new_contact": {"name": "Zoe Feed", "email": "zoe@example.net"}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let patched: Value = r.json().await.unwrap();
    let id = patched["contact"]["id"].as_i64().unwrap();
    assert_ne!(id, old);
    // Clients learn of contacts through their tickets: the change carries it whole.
    let changes = h.get_json(&format!("/changes?since={since}")).await;
    let upserted = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "ticket_upserted" && c["data"]["id"] == t["id"])
        .cloned()
        .expect("the ticket's change");
    assert_eq!(
        upserted["data"]["contact"],
        json!({"id": id, "name": "Zoe Feed", "phone": null, "email": "zoe@example.net"})
    );
    // And the picker finds it like any other customer.
    let found = h.get_json("/contacts?q=zoe").await;
    assert_eq!(found[0]["id"], id, "{found}");
}
