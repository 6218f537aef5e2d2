//! A ticket that waits until a time (`pending_until`): when it passes, the
//! server clears it and runs the `pending_elapsed` automations (here: the
//! ticket opens again and the customer is told), all in the history.

mod support;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Helpdesk;

const CONFIG: &str = r#"
[[automation]]
name = "reopen"
on = "pending_elapsed"
from = "pending"
status = "open"
reply = "{reference}: we are back on it, {contact}."
"#;

async fn wait_for_status(h: &Helpdesk, id: i64, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let t = h.get_json(&format!("/tickets/{id}")).await;
        if t["status"] == status {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "still {} after 15 s: {t}",
            t["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_pending_ticket_opens_again_when_its_time_passes() {
    let h = Helpdesk::start_configured(CONFIG).await;
    let contact = h.contact("Eva", None, None).await;
    let t = h
        .ticket(json!({"title": "Esperando respuesta", "contact_id": contact}))
        .await;
    let id = t["id"].as_i64().unwrap();
    let until = chrono::Utc::now() + chrono::Duration::seconds(1);
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            t["version"].as_i64(),
            &json!({"status": "pending", "pending_until": until}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let waiting: Value = r.json().await.unwrap();
    assert!(waiting["pending_until"].is_string(), "{waiting}");

    let reopened = wait_for_status(&h, id, "open").await;
    assert!(reopened["pending_until"].is_null(), "{reopened}");
    let history = h.get_json(&format!("/tickets/{id}/history")).await;
    let items = history["items"].as_array().unwrap();
    let cleared = items
        .iter()
        .find(|e| e["field"] == "pending_until" && e["new"].is_null())
        .expect("the time cleared");
    assert_eq!(cleared["actor"]["kind"], "system");
    let status = items
        .iter()
        .find(|e| e["field"] == "status" && e["new"] == "open")
        .expect("the status change");
    assert_eq!(status["actor"]["kind"], "automation");
    assert_eq!(status["actor"]["name"], "reopen");
    let chat = h.get_json(&format!("/contacts/{contact}/messages")).await;
    let reference = t["reference"].as_str().unwrap();
    assert!(
        chat.to_string()
            .contains(&format!("{reference}: we are back on it, Eva.")),
        "{chat}"
    );
}

#[tokio::test]
async fn the_automation_runs_only_for_the_status_it_names_and_closing_clears_the_time() {
    let h = Helpdesk::start_configured(CONFIG).await;
    let contact = h.contact("Leo", None, None).await;
    // Waiting while open: the time passes, is cleared, the status stays.
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(500);
    let t = h
        .ticket(
            json!({"title": "Abierto", "contact_id": contact, "status": "open",
                       "pending_until": later}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let start = Instant::now();
    let t = loop {
        let t = h.get_json(&format!("/tickets/{id}")).await;
        if t["pending_until"].is_null() {
            break t;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{t}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(t["status"], "open");

    // A closed ticket waits for nothing.
    let far = chrono::Utc::now() + chrono::Duration::days(3);
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            t["version"].as_i64(),
            &json!({"pending_until": far}),
        )
        .await;
    let t: Value = r.json().await.unwrap();
    assert!(t["pending_until"].is_string(), "{t}");
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            t["version"].as_i64(),
            &json!({"status": "closed"}),
        )
        .await;
    let t: Value = r.json().await.unwrap();
    assert!(t["pending_until"].is_null(), "{t}");
}

#[test]
fn a_pending_automation_takes_from_but_not_to() {
    let err = deskterm_server::Settings::from_toml(
        "[[automation]]\nname = \"x\"\non = \"pending_elapsed\"\nto = \"open\"\nstatus = \"open\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("`to`"), "{err}");
}
