//! `GET /stats`: the numbers, worked out by hand from tickets this test
//! opens, closes, reopens, answers and deletes through the API; the
//! filters; and what is refused.

mod support;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Helpdesk, problem};

async fn set_status(h: &Helpdesk, ticket: &Value, status: &str) -> Value {
    let id = ticket["id"].as_i64().unwrap();
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            ticket["version"].as_i64(),
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn seconds(ticket: &Value) -> f64 {
    (time(&ticket["closed_at"]) - time(&ticket["created_at"])).num_milliseconds() as f64 / 1000.0
}

fn count_of<'a>(list: &'a Value, key: &str, value: &Value) -> Option<&'a Value> {
    list.as_array().unwrap().iter().find(|e| &e[key] == value)
}

#[tokio::test]
async fn the_numbers_are_those_of_the_tickets() {
    let h = Helpdesk::start().await;
    let me = h.operator.id;
    let carla = h.contact("Carla", Some("+34 600 000 001"), None).await;
    let new = |title: &str, category: Option<&str>, priority: &str| json!({"title": title, "contact_id": carla, "category": category, "priority": priority});
    let a = h.ticket(new("A", Some("Billing"), "high")).await;
    let b = h.ticket(new("B", Some("Billing"), "normal")).await;
    let c = h.ticket(new("C", Some("Soporte"), "urgent")).await;
    let d = h.ticket(new("D", None, "low")).await;
    let mut e = new("E", Some("Soporte"), "normal");
    e["operator_id"] = json!(me);
    let _e = h.ticket(e).await;

    let b = set_status(&h, &b, "resolved").await;
    // C is closed, reopened and closed again: its last close counts, once.
    let c = set_status(&h, &c, "closed").await;
    let c = set_status(&h, &c, "open").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let c = set_status(&h, &c, "closed").await;
    // A gets an answer in the chat.
    let r = h
        .post(
            &format!("/contacts/{carla}/messages"),
            &json!({"body": "Lo miramos", "ticket_id": a["id"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let answer: Value = r.json().await.unwrap();
    // D is deleted: counted nowhere.
    let r = h
        .delete(&format!("/tickets/{}", d["id"]), d["version"].as_i64())
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let s = h.get_json("/stats").await;
    // Open now: A (Billing, high, unassigned) and E (Soporte, normal, mine).
    assert_eq!(s["open"], 2, "{s}");
    assert_eq!(
        count_of(&s["open_by_status"], "status", &json!("new")).unwrap()["count"],
        2
    );
    assert_eq!(
        count_of(&s["open_by_status"], "status", &json!("open")).unwrap()["count"],
        0
    );
    let priority =
        |p: &str| count_of(&s["open_by_priority"], "priority", &json!(p)).unwrap()["count"].clone();
    assert_eq!(
        (
            priority("high"),
            priority("normal"),
            priority("low"),
            priority("urgent")
        ),
        (json!(1), json!(1), json!(0), json!(0))
    );
    for category in ["Billing", "Soporte"] {
        let share = count_of(&s["open_by_category"], "category", &json!(category)).unwrap();
        assert_eq!(share["count"], 1);
        assert!(
            (share["share"].as_f64().unwrap() - 0.5).abs() < 1e-9,
            "{share}"
        );
    }
    // Closed in the period: B (Billing) and C (Soporte), C timed to its last close.
    for (category, ticket) in [("Billing", &b), ("Soporte", &c)] {
        let t = count_of(&s["time_to_close"], "category", &json!(category)).unwrap();
        assert_eq!(t["closed"], 1, "{t}");
        let mean = t["mean_seconds"].as_f64().unwrap();
        assert!(
            (mean - seconds(ticket)).abs() < 0.01,
            "{category}: {mean} vs {}",
            seconds(ticket)
        );
    }
    // Opened in the period: four (D is gone); A answered.
    assert_eq!(s["first_response"]["opened"], 4, "{s}");
    assert_eq!(s["first_response"]["answered"], 1);
    let first =
        (time(&answer["created_at"]) - time(&a["created_at"])).num_milliseconds() as f64 / 1000.0;
    assert!((s["first_response"]["mean_seconds"].as_f64().unwrap() - first).abs() < 0.01);
    // Today: four opened, two closed; 30 days by default.
    let days = s["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(today["day"], Utc::now().date_naive().to_string());
    assert_eq!(
        (today["opened"].clone(), today["closed"].clone()),
        (json!(4), json!(2))
    );

    // Filters apply to every number.
    let billing = h.get_json("/stats?category=billing").await;
    assert_eq!(billing["open"], 1);
    assert_eq!(billing["time_to_close"].as_array().unwrap().len(), 1);
    assert_eq!(billing["first_response"]["opened"], 2);
    let mine = h.get_json(&format!("/stats?operator={me}")).await;
    assert_eq!(mine["open"], 1);
    assert_eq!(mine["open_by_category"][0]["category"], "Soporte");
    let nobody = h.get_json("/stats?operator=none&category=none").await;
    assert_eq!(nobody["open"], 0);
    // A period without today: nothing opened in it.
    let old = h.get_json("/stats?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(old["first_response"]["opened"], 0);
    assert_eq!(old["days"].as_array().unwrap().len(), 31);
    assert_eq!(old["open"], 2, "what is open is counted now");
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let h = Helpdesk::start().await;
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2000-01-01&to=2030-01-01", "from"),
        ("category=nope", "category"),
        ("operator=abc", "operator"),
        ("operator=999999", "operator"),
    ] {
        let p = problem(
            h.get(&format!("/stats?{query}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_string(), "{query}: {p}");
    }
    problem(h.get("/stats?period=week").await, StatusCode::BAD_REQUEST).await;
    // Any operator may read them; nobody else.
    let r = h.http.get(h.url("/stats")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
