//! `[[automation]]`: a customer's message opens a ticket named and filed by
//! the channel's intake; a new ticket or a status change gets the templated
//! answer and the field updates; each action is in the history as done by
//! "automation <name>"; automations do not set each other off.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Helpdesk;

const CONFIG: &str = r#"
[[automation]]
name = "web intake"
on = "inbound_message"
channel = "web"
title = "Web: {message}"
category = "Soporte"
priority = "high"
reply = "Hola {contact}, abrimos {reference} ({priority})."

[[automation]]
name = "phone tickets start open"
on = "ticket_created"
channel = "phone"
status = "open"

[[automation]]
name = "resolved"
on = "status_changed"
from = "open"
to = "resolved"
priority = "low"
reply = "{reference} “{title}” está {status}; gracias, {contact}."
"#;

async fn helpdesk() -> Helpdesk {
    Helpdesk::start_configured(CONFIG).await
}

fn by_automation<'a>(history: &'a Value, name: &str) -> Vec<&'a Value> {
    history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["kind"] == "automation" && e["actor"]["name"] == name)
        .collect()
}

#[tokio::test]
async fn a_web_message_opens_a_ticket_named_filed_and_answered_by_the_intake() {
    let h = helpdesk().await;
    let r = h
        .inbound(
            "web",
            &json!({"name": "Eva", "email": "eva@example.com", "body": "No puedo entrar"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let message: Value = r.json().await.unwrap();
    let id = message["ticket_id"].as_i64().unwrap();
    let t = h.get_json(&format!("/tickets/{id}")).await;
    assert_eq!(t["title"], "Web: No puedo entrar");
    assert_eq!(t["category"], "Soporte");
    assert_eq!(t["priority"], "high");
    // The answer went to the customer, after their message.
    let contact = t["contact"]["id"].as_i64().unwrap();
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    let chat = chat.as_array().unwrap();
    assert_eq!(chat.len(), 2, "{chat:?}");
    assert_eq!(chat[1]["direction"], "outbound");
    assert_eq!(
        chat[1]["body"],
        format!(
            "Hola Eva, abrimos {} (high).",
            t["reference"].as_str().unwrap()
        )
    );
    // In the history, as the automation's doing.
    let history = h.get_json(&format!("/tickets/{id}/history")).await;
    let done = by_automation(&history, "web intake");
    let fields: Vec<&str> = done.iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(
        fields.contains(&"priority") && fields.contains(&"category"),
        "{history}"
    );
    assert!(
        done.iter().any(|e| e["kind"] == "message_added"),
        "{history}"
    );

    // A second message joins the ticket: no new ticket, no second answer.
    let r = h
        .inbound(
            "web",
            &json!({"name": "Eva", "email": "eva@example.com", "body": "¿Algo?"}),
        )
        .await;
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["ticket_id"], id);
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(chat.as_array().unwrap().len(), 3);

    // Another channel has no intake: the message's own words name the ticket.
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "Leo", "phone": "+34 600 111 222", "body": "Hola"}),
        )
        .await;
    let other: Value = r.json().await.unwrap();
    let t = h
        .get_json(&format!("/tickets/{}", other["ticket_id"]))
        .await;
    assert_eq!(
        (t["title"].as_str(), t["category"].is_null()),
        (Some("Hola"), true)
    );
}

#[tokio::test]
async fn status_changes_and_new_tickets_run_their_automations_once() {
    let h = helpdesk().await;
    let contact = h.contact("Carla", Some("+34 600 000 001"), None).await;
    // Opened on the phone: the automation opens it.
    let t = h
        .ticket(json!({"title": "Factura", "contact_id": contact}))
        .await;
    assert_eq!(t["status"], "open", "{t}");
    let id = t["id"].as_i64().unwrap();
    // Resolved from open: the customer is told, the priority drops.
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            t["version"].as_i64(),
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let resolved: Value = r.json().await.unwrap();
    assert_eq!(
        resolved["priority"], "low",
        "the answer is the ticket as automations left it"
    );
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    let chat = chat.as_array().unwrap();
    assert_eq!(chat.len(), 1);
    assert_eq!(
        chat[0]["body"],
        format!(
            "{} “Factura” está Resolved; gracias, Carla.",
            t["reference"].as_str().unwrap()
        )
    );
    let history = h.get_json(&format!("/tickets/{id}/history")).await;
    assert_eq!(by_automation(&history, "phone tickets start open").len(), 1);
    assert_eq!(
        by_automation(&history, "resolved").len(),
        2,
        "priority and message: {history}"
    );
    // Resolved again from another status: `from = "open"` does not match.
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            resolved["version"].as_i64(),
            &json!({"status": "pending"}),
        )
        .await;
    let pending: Value = r.json().await.unwrap();
    h.patch(
        &format!("/tickets/{id}"),
        pending["version"].as_i64(),
        &json!({"status": "resolved"}),
    )
    .await;
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    assert_eq!(chat.as_array().unwrap().len(), 1, "no second message");
    // Everything is on the change feed, for live clients.
    let feed = h.get_json("/changes?since=0&limit=1000").await;
    let kinds: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"message_added"), "{kinds:?}");
}

#[test]
fn a_broken_automation_stops_the_server_from_starting() {
    for (config, says) in [
        (
            "[[automation]]\nname = \"x\"\non = \"ticket_created\"\nreply = \"{nombre}\"\n",
            "nombre",
        ),
        (
            "[[automation]]\nname = \"x\"\non = \"whenever\"\nreply = \"hi\"\n",
            "whenever",
        ),
        (
            "[[automation]]\nname = \"x\"\non = \"ticket_created\"\nreply = \"a\"\n\
             [[automation]]\nname = \"x\"\non = \"ticket_created\"\nreply = \"b\"\n",
            "two automations",
        ),
    ] {
        let e = deskterm_server::Settings::from_toml(config)
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{e}");
    }
}
