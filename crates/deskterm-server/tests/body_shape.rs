//! A request body is a JSON object: every write endpoint refuses an array,
//! a string, a number or `null` with 422, and changes nothing.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Helpdesk, problem};

/// What a refused body must not change.
async fn snapshot(h: &Helpdesk) -> Value {
    json!({
        "tickets": h.get_json("/tickets?limit=1000").await,
        "meta": h.get_json("/meta").await,
        "me": h.get_json("/me").await,
        "contacts": h.get_json("/contacts?limit=100").await,
        "latest_seq": h.latest_seq().await,
    })
}

#[tokio::test]
async fn every_write_endpoint_refuses_a_body_that_is_not_an_object() {
    let h = Helpdesk::start().await;
    let contact = h.contact("Carla", Some("+34600000001"), None).await;
    let ticket = h
        .ticket(json!({"title": "Existing", "contact_id": contact, "priority": "low"}))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let version = ticket["version"].as_i64().unwrap();
    let endpoints = [
        (Method::POST, "/tickets".to_owned()),
        (Method::PATCH, format!("/tickets/{id}")),
        (Method::POST, format!("/tickets/{id}/notes")),
        (Method::POST, "/contacts".to_owned()),
        (Method::POST, format!("/contacts/{contact}/messages")),
        (Method::POST, "/channels/whatsapp/inbound".to_owned()),
        (Method::POST, "/statuses".to_owned()),
        (Method::PATCH, "/me".to_owned()),
    ];
    let bodies = [
        json!(["Positional title", null, null, "urgent"]),
        json!([]),
        json!("a string"),
        json!(42),
        json!(null),
        json!(true),
    ];
    h.channel_token("whatsapp").await;
    let before = snapshot(&h).await;
    for (method, path) in &endpoints {
        for body in &bodies {
            let r = h
                .request_for(method.clone(), path)
                .await
                .header("If-Match", deskterm_api::etag(version))
                .json(body)
                .send()
                .await
                .unwrap();
            let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
            let message = p["errors"]["body"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("the body must be a JSON object"),
                "{method} {path} with {body}: {p}"
            );
        }
    }
    assert_eq!(snapshot(&h).await, before, "a refused body changes nothing");
    // Whitespace before an object is still an object, and broken JSON is still 400.
    let r = h
        .request(Method::PATCH, &format!("/tickets/{id}"))
        .header("If-Match", deskterm_api::etag(version))
        .header("Content-Type", "application/json")
        .body(" \n{\"priority\": \"high\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = h
        .request(Method::POST, "/tickets")
        .header("Content-Type", "application/json")
        .body("[1, 2")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST).await;
}
