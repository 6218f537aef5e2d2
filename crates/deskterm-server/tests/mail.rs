//! E-mail through a real SMTP server (aiosmtpd, started by the test):
//! escalations over STARTTLS with a password, operators' notifications
//! batched per ticket, the queue that keeps mail while the SMTP server is
//! down and across a restart, and the maildir used without SMTP.

#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use smtp::{SinkOptions, SmtpSink};
use support::Helpdesk;
use support::certs::Certs;

/// How long an e-mail may take to arrive.
const BUDGET: Duration = Duration::from_secs(20);

/// The SMTP server the tests share: STARTTLS, and a user `desk`.
fn shared() -> &'static (Certs, SmtpSink) {
    static SHARED: OnceLock<(Certs, SmtpSink)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let certs = Certs::new();
        std::fs::write(certs.path("password"), "correct horse\n").unwrap();
        std::fs::write(certs.path("wrong-password"), "battery staple\n").unwrap();
        let sink = SmtpSink::start(SinkOptions {
            tls: Some((certs.path("cert.pem"), certs.path("key.pem"))),
            user: Some(("desk".to_owned(), "correct horse".to_owned())),
            port: None,
        });
        (certs, sink)
    })
}

/// The configuration of a server sending through the shared SMTP server.
fn config(batch_seconds: u64, password_file: &str) -> String {
    let (certs, sink) = shared();
    format!(
        "[mail]\nfrom = \"Mesa de ayuda <desk@example.com>\"\nbatch_seconds = {batch_seconds}\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\n\
         username = \"desk\"\npassword_file = {:?}\nca_file = {:?}\ntimeout_seconds = 5\n",
        sink.port,
        certs.path(password_file).display().to_string(),
        certs.path("ca.pem").display().to_string(),
    )
}

/// Asserts that `body` holds every one of `parts`.
fn assert_holds(body: &str, parts: &[&str]) {
    for part in parts {
        assert!(body.contains(part), "{part:?} not in:\n{body}");
    }
}

/// A ticket for a customer with two messages.
async fn ticket_with_chat(h: &Helpdesk, title: &str) -> Value {
    let contact = h
        .contact(
            "Carla Ruiz",
            Some("+34 600 000 001"),
            Some("carla@example.com"),
        )
        .await;
    let ticket = h
        .ticket(json!({"title": title, "contact_id": contact, "priority": "high"}))
        .await;
    for body in ["La impresora no imprime", "¿Ha probado a reiniciarla?"] {
        let r = h
            .post(
                &format!("/contacts/{contact}/messages"),
                &json!({"body": body, "ticket_id": ticket["id"]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    ticket
}

async fn escalate(h: &Helpdesk, ticket: &Value, body: &Value) -> reqwest::Response {
    h.post(&format!("/tickets/{}/escalations", ticket["id"]), body)
        .await
}

#[tokio::test]
async fn an_escalation_arrives_over_starttls_signed_in_with_the_ticket_customer_and_chat() {
    let (_, sink) = shared();
    let h = Helpdesk::start_configured(&config(60, "password")).await;
    let ticket = ticket_with_chat(&h, "Impresora atascada").await;
    let r = escalate(
        &h,
        &ticket,
        &json!({"to": ["vendor-1@example.com"], "note": "Necesita el técnico del proveedor"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let queued: Value = r.json().await.unwrap();
    assert_eq!(queued["to"], json!(["vendor-1@example.com"]));
    assert_eq!(queued["ticket_id"], ticket["id"]);

    let mail = sink
        .wait_for("vendor-1@example.com", 1, BUDGET)
        .await
        .remove(0);
    assert!(mail.tls, "sent without STARTTLS");
    assert_eq!(mail.auth.as_deref(), Some("desk"));
    assert_eq!(mail.from, "Mesa de ayuda <desk@example.com>");
    assert!(
        mail.reply_to.contains("ana@example.com"),
        "{}",
        mail.reply_to
    );
    let reference = ticket["reference"].as_str().unwrap();
    assert_eq!(
        mail.subject,
        format!("[{reference}] Escalated: Impresora atascada")
    );
    assert_holds(
        &mail.body,
        &[
            "Ana Test escalated this ticket to you.",
            "Necesita el técnico del proveedor",
            "Priority: high",
            "Name: Carla Ruiz",
            "Phone: +34 600 000 001",
            "E-mail: carla@example.com",
            "== Conversation (2 messages, oldest first)",
            "La impresora no imprime",
            "¿Ha probado a reiniciarla?",
        ],
    );
    // The escalation is in the ticket's history, by its operator.
    let history = h
        .get_json(&format!("/tickets/{}/history", ticket["id"]))
        .await;
    let escalated: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .collect();
    assert_eq!(escalated.len(), 1, "{history}");
    assert_eq!(escalated[0]["actor"]["name"], "Ana Test");
    assert_eq!(escalated[0]["new"]["to"], json!(["vendor-1@example.com"]));
}

#[tokio::test]
async fn a_retried_escalation_is_queued_once() {
    let (_, sink) = shared();
    let h = Helpdesk::start_configured(&config(60, "password")).await;
    let ticket = ticket_with_chat(&h, "Una vez").await;
    let send = || async {
        h.request(
            Method::POST,
            &format!("/tickets/{}/escalations", ticket["id"]),
        )
        .header("Idempotency-Key", "escalate-once")
        .json(&json!({"to": ["vendor-2@example.com"]}))
        .send()
        .await
        .unwrap()
    };
    let first: Value = send().await.json().await.unwrap();
    let again: Value = send().await.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    sink.wait_for("vendor-2@example.com", 1, BUDGET).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.to("vendor-2@example.com").len(), 1);
}

#[tokio::test]
async fn a_bad_escalation_is_refused_by_field_and_queues_nothing() {
    let h = Helpdesk::start_configured(&config(60, "password")).await;
    let ticket = ticket_with_chat(&h, "Mal").await;
    for (body, field) in [
        (json!({"to": []}), "to"),
        (json!({"to": ["no es una dirección"]}), "to"),
        (json!({"to": ["a@example.com\r\nBcc: b@example.com"]}), "to"),
        (
            json!({"to": ["a@example.com"], "note": "x".repeat(4001)}),
            "note",
        ),
    ] {
        let r = escalate(&h, &ticket, &body).await;
        let problem = support::problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(problem["errors"][field].is_string(), "{body}: {problem}");
    }
    let r = h
        .post(
            "/tickets/999999/escalations",
            &json!({"to": ["a@example.com"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let history = h
        .get_json(&format!("/tickets/{}/history", ticket["id"]))
        .await;
    assert!(
        !history.to_string().contains("escalated"),
        "a refused escalation left history: {history}"
    );
}

#[tokio::test]
async fn operators_get_one_e_mail_per_ticket_per_window_and_not_for_their_own_changes() {
    let (_, sink) = shared();
    let h = Helpdesk::start_configured(&config(1, "password")).await;
    let (bea, bea_token) =
        deskterm_server::add_operator(&h.db, "Bea Notified", "bea-notified@example.com")
            .await
            .unwrap();
    let (_, carl_token) =
        deskterm_server::add_operator(&h.db, "Carl Quiet", "carl-quiet@example.com")
            .await
            .unwrap();
    // Carl turns the e-mails off for himself only.
    let r = h
        .http
        .patch(h.url("/me"))
        .bearer_auth(&carl_token)
        .json(&json!({"receive_ticket_emails": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Ana opens a ticket and changes it twice within the window: one e-mail.
    let contact = h.contact("Eva", None, None).await;
    let ticket = h
        .ticket(json!({"title": "Pantalla negra", "contact_id": contact}))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let r = h
        .patch(
            &format!("/tickets/{id}"),
            Some(ticket["version"].as_i64().unwrap()),
            &json!({"status": "open"}),
        )
        .await;
    let ticket: Value = r.json().await.unwrap();
    h.patch(
        &format!("/tickets/{id}"),
        Some(ticket["version"].as_i64().unwrap()),
        &json!({"priority": "urgent", "operator_id": bea.id}),
    )
    .await;

    let mails = sink.wait_for("bea-notified@example.com", 1, BUDGET).await;
    let mail = &mails[0];
    let reference = ticket["reference"].as_str().unwrap();
    assert_eq!(
        mail.subject,
        format!("[{reference}] New ticket: Pantalla negra")
    );
    assert_holds(
        &mail.body,
        &[
            "Ana Test: opened the ticket",
            "Ana Test: status: new → open",
            "Ana Test: priority: normal → urgent",
            "Ana Test: operator: (none) → Bea Notified",
            "4 changes:",
            "PATCH /api/v1/me",
        ],
    );
    // Bea answers the customer: Ana hears of it, Bea does not (her own),
    // Carl never (turned off).
    let r = h
        .http
        .post(h.url(&format!("/contacts/{contact}/messages")))
        .bearer_auth(&bea_token)
        .json(&json!({"body": "Ya lo miro", "ticket_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let to_ana = sink.wait_for("ana@example.com", 1, BUDGET).await;
    assert!(to_ana[0].subject.contains("Updated: Pantalla negra"));
    assert!(
        to_ana[0]
            .body
            .contains("Bea Notified: answered: \"Ya lo miro\""),
        "{}",
        to_ana[0].body
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.to("bea-notified@example.com").len(), 1);
    assert!(sink.to("carl-quiet@example.com").is_empty());
    assert_eq!(sink.to("ana@example.com").len(), 1);
}

/// The queued e-mails' attempts and errors, read from the database file.
async fn queue(h: &Helpdesk) -> Vec<(i64, Option<String>, Option<String>)> {
    let pool = h.database().await;
    let rows = sqlx::query_as("SELECT attempts, last_error, sent_at FROM mail_queue ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows
}

async fn wait_until_tried(h: &Helpdesk) -> String {
    let start = Instant::now();
    loop {
        if let Some((attempts, Some(error), None)) = queue(h).await.first().cloned()
            && attempts >= 1
        {
            return error;
        }
        assert!(
            start.elapsed() < BUDGET,
            "no attempt recorded: {:?}",
            queue(h).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_survives_a_restart() {
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = format!(
        "[mail]\n[mail.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
         timeout_seconds = 5\n"
    );
    let mut h = Helpdesk::start_configured(&settings).await;
    let ticket = ticket_with_chat(&h, "Sin servidor").await;
    let r = escalate(&h, &ticket, &json!({"to": ["vendor-down@example.com"]})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let error = wait_until_tried(&h).await;
    assert!(error.to_lowercase().contains("connect"), "{error}");

    // The server stops as in a crash; the SMTP server comes up; the next
    // server on the same database sends the e-mail.
    h.server.take().unwrap().kill().await;
    let sink = SmtpSink::start(SinkOptions {
        port: Some(port),
        ..SinkOptions::default()
    });
    let options = deskterm_server::Options {
        settings: deskterm_server::Settings::from_toml(&settings).unwrap(),
        ..Default::default()
    };
    h.server = Some(
        deskterm_server::spawn_with(h.db.clone(), "127.0.0.1:0".parse().unwrap(), options)
            .await
            .unwrap(),
    );
    let mail = sink
        .wait_for("vendor-down@example.com", 1, Duration::from_secs(40))
        .await
        .remove(0);
    assert!(!mail.tls);
    assert!(mail.subject.contains("Escalated: Sin servidor"));
    let rows = queue(&h).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].2.is_some(), "not marked sent: {rows:?}");
}

#[tokio::test]
async fn a_refused_password_keeps_the_mail_queued_with_the_reason() {
    let (_, sink) = shared();
    let h = Helpdesk::start_configured(&config(60, "wrong-password")).await;
    let ticket = ticket_with_chat(&h, "Contraseña").await;
    let r = escalate(&h, &ticket, &json!({"to": ["vendor-auth@example.com"]})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let error = wait_until_tried(&h).await;
    assert!(error.contains("535"), "{error}");
    assert!(
        !error.contains("battery"),
        "the password is in the error: {error}"
    );
    assert!(sink.to("vendor-auth@example.com").is_empty());
}

#[tokio::test]
async fn without_smtp_mail_is_written_to_a_maildir_beside_the_database() {
    let h = Helpdesk::start().await;
    let ticket = ticket_with_chat(&h, "Al maildir").await;
    let r = escalate(&h, &ticket, &json!({"to": ["vendor-maildir@example.com"]})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    // Beside an SQLite file; a PostgreSQL database's is named in `[mail]`.
    let maildir = match h.db.path() {
        Some(file) => file.with_file_name("helpdesk-mail"),
        None => h.dir.path().join("mail"),
    };
    let new = maildir.join("new");
    let start = Instant::now();
    let text = loop {
        let files: Vec<_> = std::fs::read_dir(&new)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(file) = files.first() {
            break std::fs::read_to_string(file).unwrap();
        }
        assert!(start.elapsed() < BUDGET, "nothing in {}", new.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("To: vendor-maildir@example.com"), "{text}");
    assert!(text.contains("Escalated: Al maildir"), "{text}");
}
