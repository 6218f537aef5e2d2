//! `[sla]`: due times set and moved by the rules (response until the first
//! answer, resolution after, pending pauses the clock, a closed ticket has
//! none, priority picks the target), and `sla_state` turning at risk and
//! then breached by the timer alone, pushed on the change feed.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Helpdesk;

const CONFIG: &str = r#"
[sla]
at_risk = 0.5
[sla.response]
low = "1d"
normal = "8h"
high = "2s"
urgent = "1h"
[sla.resolution]
low = "7d"
normal = "3d"
high = "1d"
urgent = "4h"
[sla.category.Billing.response]
low = "2d"
normal = "2h"
high = "2h"
urgent = "30m"
"#;

async fn helpdesk() -> Helpdesk {
    Helpdesk::start_configured(CONFIG).await
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("a time: {v}"))
        .parse()
        .unwrap()
}

fn due_after_opening(t: &Value) -> i64 {
    (time(&t["sla_due_at"]) - time(&t["created_at"])).num_seconds()
}

async fn patch(h: &Helpdesk, t: &Value, body: Value) -> Value {
    let r = h
        .patch(
            &format!("/tickets/{}", t["id"]),
            t["version"].as_i64(),
            &body,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn due_times_follow_the_rules() {
    let h = helpdesk().await;
    let carla = h.contact("Carla", Some("+34 600 000 001"), None).await;
    // Opened: the response target of its priority (and of its category).
    let t = h
        .ticket(json!({"title": "Caída", "contact_id": carla, "priority": "urgent"}))
        .await;
    assert_eq!(due_after_opening(&t), 3600);
    assert_eq!(t["sla_state"], "ok");
    let billing = h
        .ticket(json!({"title": "Factura", "contact_id": carla, "priority": "urgent", "category": "billing"}))
        .await;
    assert_eq!(
        due_after_opening(&billing),
        1800,
        "the category's own target"
    );
    // A due time typed by hand gives way to the rules.
    let typed = h
        .ticket(json!({"title": "X", "contact_id": carla, "priority": "low",
                       "sla_due_at": "2030-01-01T00:00:00Z"}))
        .await;
    assert_eq!(due_after_opening(&typed), 86_400);

    // Priority changed: the new priority's target.
    let t = patch(&h, &t, json!({"priority": "low"})).await;
    assert_eq!(due_after_opening(&t), 86_400);
    // First answer in the chat: the resolution target from now on.
    let r = h
        .post(
            &format!("/contacts/{carla}/messages"),
            &json!({"body": "Lo vemos", "ticket_id": t["id"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let t = h.get_json(&format!("/tickets/{}", t["id"])).await;
    assert_eq!(due_after_opening(&t), 7 * 86_400);

    // Pending stops the clock; the due time moves by the time it stood still.
    let paused = patch(&h, &t, json!({"status": "pending"})).await;
    assert_eq!(
        paused["sla_due_at"], t["sla_due_at"],
        "unchanged while paused"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resumed = patch(&h, &paused, json!({"status": "open"})).await;
    let moved = (time(&resumed["sla_due_at"]) - time(&t["sla_due_at"])).num_seconds();
    assert!((2..=4).contains(&moved), "moved by {moved} s");

    // Closed: no due time, no state; reopened: due again by the rules.
    let closed = patch(&h, &resumed, json!({"status": "closed"})).await;
    assert!(
        closed["sla_due_at"].is_null() && closed["sla_state"].is_null(),
        "{closed}"
    );
    let reopened = patch(&h, &closed, json!({"status": "open"})).await;
    assert_eq!(reopened["sla_due_at"], resumed["sla_due_at"]);
}

#[tokio::test]
async fn the_state_turns_at_risk_then_breached_with_time_alone_and_is_pushed() {
    let h = helpdesk().await;
    let carla = h.contact("Carla", Some("+34 600 000 001"), None).await;
    let since = h.latest_seq().await;
    // High: due 2 s after opening, at risk after 1 s.
    let t = h
        .ticket(json!({"title": "Urgente", "contact_id": carla, "priority": "high"}))
        .await;
    assert_eq!(t["sla_state"], "ok");
    let id = t["id"].clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen: Vec<String> = Vec::new();
    while !seen.contains(&"breached".to_owned()) {
        assert!(Instant::now() < deadline, "states pushed so far: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let feed = h
            .get_json(&format!("/changes?since={since}&limit=1000"))
            .await;
        seen = feed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "ticket_upserted" && c["data"]["id"] == id)
            .filter_map(|c| c["data"]["sla_state"].as_str().map(str::to_owned))
            .collect();
    }
    seen.dedup();
    assert_eq!(seen, ["ok", "at_risk", "breached"], "in order, each once");
    let now = h.get_json(&format!("/tickets/{id}")).await;
    assert_eq!(now["sla_state"], "breached");
    assert_eq!(
        now["version"], t["version"],
        "a state that moves with time is not an edit"
    );
}

#[test]
fn bad_sla_settings_are_refused_by_name() {
    for (config, says) in [
        (
            "[sla]\nat_risk = 1.5\n[sla.response]\nlow=\"1h\"\nnormal=\"1h\"\nhigh=\"1h\"\nurgent=\"1h\"\n[sla.resolution]\nlow=\"1h\"\nnormal=\"1h\"\nhigh=\"1h\"\nurgent=\"1h\"\n",
            "at_risk",
        ),
        (
            "[sla.response]\nlow=\"1 hour\"\nnormal=\"1h\"\nhigh=\"1h\"\nurgent=\"1h\"\n[sla.resolution]\nlow=\"1h\"\nnormal=\"1h\"\nhigh=\"1h\"\nurgent=\"1h\"\n",
            "1 hour",
        ),
        (
            "[sla.response]\nlow=\"1h\"\nnormal=\"1h\"\nhigh=\"1h\"\n[sla.resolution]\nlow=\"1h\"\nnormal=\"1h\"\nhigh=\"1h\"\nurgent=\"1h\"\n",
            "urgent",
        ),
    ] {
        let e = deskterm_server::Settings::from_toml(config)
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
}
