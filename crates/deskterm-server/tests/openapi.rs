//! `GET /api/v1/openapi.json`: public, OpenAPI 3.1, every operation it
//! describes is served, every schema it refers to is in it. Conformance of
//! the answers to it is checked by schemathesis in `.ci/run`.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::Helpdesk;

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.push(r.to_owned());
                }
                refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_public_complete_and_served() {
    let h = Helpdesk::start().await;
    // Public: read before signing in.
    let r = h.http.get(h.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    // Every reference resolves.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} is missing"
        );
    }

    // Every operation is served: no "no such path", no "wrong method".
    let contact = h.contact("Carla", Some("+34 600 000 009"), None).await;
    let ticket = h
        .ticket(json!({"title": "Uno", "contact_id": contact}))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 16, "{}", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path
                .strip_prefix(deskterm_api::BASE_PATH)
                .unwrap()
                .replace("{id}", &id.to_string())
                .replace("{channel}", "web");
            let request = h.request_for(method.clone(), &concrete).await;
            let r = request.send().await.unwrap();
            let status = r.status();
            let body = if concrete == "/events" {
                String::new()
            } else {
                r.text().await.unwrap_or_default()
            };
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED
                    && !(status == StatusCode::NOT_FOUND && body.contains("no such API path")),
                "{method} {path}: {status} {body}"
            );
            operations += 1;
        }
    }
    assert!(operations >= 22, "{operations}");
}

#[tokio::test]
async fn a_new_customer_is_described_where_a_ticket_is_written() {
    let h = Helpdesk::start().await;
    let doc = h.get_json("/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    for write in ["NewTicket", "TicketPatch"] {
        let properties = &schemas[write]["properties"];
        let mut named = Vec::new();
        refs(&properties["new_contact"], &mut named);
        assert_eq!(
            named,
            vec!["#/components/schemas/NewContact".to_owned()],
            "{write}: {}",
            properties["new_contact"]
        );
        // Optional, so bodies of older clients (and outboxes) still fit.
        let required = schemas[write]["required"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            !required.contains(&json!("new_contact")) && !required.contains(&json!("contact_id")),
            "{write}: {required:?}"
        );
    }
    assert!(
        schemas["NewContact"]["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("name"))),
        "{}",
        schemas["NewContact"]
    );
}
