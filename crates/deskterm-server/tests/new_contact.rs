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
