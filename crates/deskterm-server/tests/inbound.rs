//! `POST /channels/{channel}/inbound`: only the channel's own token, and the
//! same field rules as contacts and messages.

mod support;

use deskterm_api::BODY_MAX_CHARS;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Helpdesk, problem};

/// Longest contact name, phone or e-mail (the server's rule).
const CONTACT_MAX: usize = 200;

async fn post_with(h: &Helpdesk, channel: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = h
        .http
        .post(h.url(&format!("/channels/{channel}/inbound")))
        .json(&json!({"name": "Eva", "email": "eva@example.com", "body": "hola"}));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn only_the_channels_own_token_posts_there() {
    let h = Helpdesk::start().await;
    let web = h.channel_token("web").await;
    let email = h.channel_token("email").await;
    assert!(web.starts_with("dkc_"), "channel tokens are recognisable");

    problem(post_with(&h, "web", None).await, StatusCode::UNAUTHORIZED).await;
    problem(
        post_with(&h, "web", Some("dkc_not-a-token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // An operator, even an admin, cannot post as a customer.
    let p = problem(
        post_with(&h, "web", Some(&h.token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("channel's token"),
        "{p}"
    );

    // Another channel's token.
    let p = problem(
        post_with(&h, "web", Some(&email)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("\"email\""), "{p}");

    // A channel token is nothing anywhere else.
    let r = h
        .http
        .get(h.url("/tickets"))
        .bearer_auth(&web)
        .send()
        .await
        .unwrap();
    let p = problem(r, StatusCode::UNAUTHORIZED).await;
    assert!(p["detail"].as_str().unwrap().contains("inbound"), "{p}");
    assert_eq!(h.ticket_count().await, 0);

    // The right one.
    let r = post_with(&h, "web", Some(&web)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["channel"], "web");
    assert!(m["operator"].is_null());
    assert_eq!(h.ticket_count().await, 1);
    assert!(deskterm_server::add_channel(&h.db, "WEB").await.is_err());
}

#[tokio::test]
async fn the_message_records_the_channel_token_that_brought_it() {
    let h = Helpdesk::start().await;
    let r = h
        .inbound(
            "whatsapp",
            &json!({"name": "Eva", "phone": "+34 600 1", "body": "hola"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    let pool = h.database().await;
    let (channel,): (String,) = sqlx::query_as(
        "SELECT c.name FROM messages m JOIN channel_tokens t ON t.id = m.channel_token_id \
         JOIN channels c ON c.id = t.channel_id WHERE m.id = $1",
    )
    .bind(m["id"].as_i64().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(channel, "whatsapp");
}

#[tokio::test]
async fn inbound_fields_follow_the_contact_and_message_rules() {
    let h = Helpdesk::start().await;
    let name = |n: usize| "n".repeat(n);
    let email = |n: usize| format!("{}@x.io", "e".repeat(n - 5));
    // At the limits: accepted.
    for body in [
        json!({"name": name(CONTACT_MAX), "phone": "1", "body": "x"}),
        json!({"name": "A", "phone": "9".repeat(CONTACT_MAX), "body": "x"}),
        json!({"name": "A", "email": email(CONTACT_MAX), "body": "x"}),
        json!({"name": "A", "phone": "2", "body": "b".repeat(BODY_MAX_CHARS)}),
        json!({"name": "", "phone": "3", "body": "no name: called by the phone"}),
    ] {
        let r = h.inbound("web", &body).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let before = h.ticket_count().await;
    // One past them, or missing: 422 naming the field, nothing stored.
    for (body, field) in [
        (
            json!({"name": name(CONTACT_MAX + 1), "phone": "4", "body": "x"}),
            "name",
        ),
        (
            json!({"name": name(200_000), "phone": "4", "body": "x"}),
            "name",
        ),
        (
            json!({"name": "A", "phone": "9".repeat(CONTACT_MAX + 1), "body": "x"}),
            "phone",
        ),
        (
            json!({"name": "A", "email": email(CONTACT_MAX + 1), "body": "x"}),
            "email",
        ),
        (
            json!({"name": "A", "email": "not-an-email", "body": "x"}),
            "email",
        ),
        (
            json!({"name": "A", "phone": "4", "body": "b".repeat(BODY_MAX_CHARS + 1)}),
            "body",
        ),
        (json!({"name": "A", "phone": "4", "body": " "}), "body"),
        (json!({"name": "A", "body": "no address"}), "phone"),
    ] {
        let p = problem(
            h.inbound("web", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(p["errors"][field].is_string(), "{field}: {p}");
    }
    assert_eq!(h.ticket_count().await, before);
}

#[tokio::test]
async fn simulated_customers_write_in_through_the_channel_endpoint_until_the_server_stops() {
    let simulation = deskterm_server::Simulation {
        every: std::time::Duration::from_millis(40),
        seed: Some(11),
    };
    let mut h = Helpdesk::start_with_options(deskterm_server::Options {
        simulate: Some(simulation),
        ..Default::default()
    })
    .await;
    // Wait (with a generous deadline) for a handful of messages.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let messages = loop {
        let changes = h.get_json("/changes?since=0&limit=1000").await;
        let messages: Vec<Value> = changes["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "message_added")
            .map(|c| c["data"].clone())
            .collect();
        if messages.len() >= 6 {
            break messages;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} simulated messages arrived: {changes}",
            messages.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    for m in &messages {
        assert_eq!(m["direction"], "inbound", "{m}");
        assert!(!m["body"].as_str().unwrap().is_empty(), "{m}");
        assert!(
            m["ticket_id"].as_i64().is_some(),
            "every message is on a ticket: {m}"
        );
    }
    // The first customer is new: their message opened a ticket, recorded as
    // done by the channel.
    let first = messages[0]["ticket_id"].as_i64().unwrap();
    let history = h.get_json(&format!("/tickets/{first}/history")).await;
    assert_eq!(history["items"][0]["kind"], "created", "{history}");
    assert_eq!(history["items"][0]["actor"]["kind"], "channel", "{history}");

    // Stopped with the server: nothing more is written to its database
    // (read through a second server on it, without customers).
    h.server.take().unwrap().shutdown().await;
    h.server = Some(
        deskterm_server::spawn_with(
            h.db.clone(),
            "127.0.0.1:0".parse().unwrap(),
            h.options(deskterm_server::Options::default()),
        )
        .await
        .unwrap(),
    );
    let before = h.get_json("/changes?since=0&limit=1000").await["changes"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = h.get_json("/changes?since=0&limit=1000").await["changes"].clone();
    assert_eq!(before, after, "changes after the server stopped");
}
