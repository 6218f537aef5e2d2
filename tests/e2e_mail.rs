//! End to end: e-mail from the console, through a real SMTP server
//! (aiosmtpd, started by the test). `E` escalates the ticket in view and
//! the e-mail lands; `F4` switches the operator's ticket e-mails and the
//! server has it.

#[path = "../crates/deskterm-server/tests/support/smtp.rs"]
mod smtp;
mod support;

use std::time::Duration;

use smtp::{SinkOptions, SmtpSink};
use support::World;
use support::pty::{detail_reference, status_line};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_typed_in_the_console_lands_in_the_smtp_server() {
    let sink = SmtpSink::start(SinkOptions::default());
    let settings = deskterm_server::Settings::from_toml(&format!(
        "[mail]\nfrom = \"Helpdesk <desk@example.com>\"\nbatch_seconds = 1\n\
         [mail.smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
        sink.port
    ))
    .expect("settings");
    let world = World::with_settings(support::demo(3), settings).await;
    let data = tempfile::tempdir().expect("temp dir");
    let mut s = world.console(data.path());
    let screen = s.wait_for("the tickets", Duration::from_secs(30), |t| {
        t.contains("connected") && t.contains("Internal notes")
    });
    let reference = detail_reference(&screen).expect("a ticket in view");

    // Addresses on the first line, a note below (alt-enter), enter sends.
    s.keys("E");
    s.wait_for("the escalation field", Duration::from_secs(10), |t| {
        t.contains("Escalate by e-mail")
    });
    s.keys("vendor-e2e@example.com, jefe-e2e@example.org");
    s.keys("\u{1b}\r");
    s.keys("Necesita el técnico");
    s.keys("\r");
    s.wait_for("the server's answer", Duration::from_secs(20), |t| {
        status_line(t).contains("escalation queued")
    });
    let mail = sink
        .wait_for("vendor-e2e@example.com", 1, Duration::from_secs(20))
        .await
        .remove(0);
    assert!(
        mail.rcpt_to.iter().any(|r| r == "jefe-e2e@example.org"),
        "{mail:?}"
    );
    assert!(
        mail.subject
            .starts_with(&format!("[{reference}] Escalated: ")),
        "{mail:?}"
    );
    assert!(
        mail.body.contains("Ana Test escalated this ticket to you."),
        "{}",
        mail.body
    );
    assert!(mail.body.contains("Necesita el técnico"), "{}", mail.body);
    assert!(mail.reply_to.contains("ana@example.com"), "{mail:?}");

    // The profile: ticket e-mails off, for this operator only.
    s.keys("\u{1b}OS"); // F4
    s.wait_for("the profile", Duration::from_secs(10), |t| {
        t.contains("Ticket e-mails") && t.contains("[x] on")
    });
    s.keys(" ");
    s.wait_for("the switch", Duration::from_secs(10), |t| {
        t.contains("[ ] off")
    });
    let api = world.api();
    let start = std::time::Instant::now();
    loop {
        let me = api.get("/me").await;
        if me["receive_ticket_emails"] == false {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server still has the e-mails on: {me}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.keys("\u{1b}");
    s.wait_for("the profile closed", Duration::from_secs(10), |t| {
        !t.contains("Ticket e-mails")
    });
    s.keys("q");
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success());
    s.assert_terminal_restored();
}
