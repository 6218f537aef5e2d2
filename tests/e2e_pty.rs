//! End to end: the real `deskterm` binary in a pseudo-terminal, on its
//! embedded backend with the demo data, driven by keys like an operator.
//! What it did is then checked through the HTTP API.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::Api;
use support::pty::{Session, detail_reference, embedded_api, status_line};

/// Waits for the demo helpdesk's first screen (list, detail and notes) and returns it.
fn demo_loaded(s: &Session) -> String {
    s.wait_for("the demo tickets", Duration::from_secs(60), |t| {
        t.contains("connected") && t.contains("tickets") && t.contains("Internal notes")
    })
}

/// Quits with `q` — a change still being sent is sent first (`w` in the
/// question quitting then asks) — and checks the exit and that the terminal
/// is as it was.
fn quit(s: &mut Session) {
    s.keys("q");
    let asked = Instant::now();
    while asked.elapsed() < Duration::from_secs(2) && !s.text().contains("┌ Quit ") {
        if s.exited() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if s.text().contains("┌ Quit ") {
        s.keys("w");
    }
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "deskterm exited with {status:?}");
    s.assert_terminal_restored();
}

/// The status label on the detail pane's `Status` line.
fn detail_status(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.starts_with("│Status "))?;
    let rest = line.trim_start_matches("│Status").trim_start();
    let label = rest.split(" (").next()?;
    Some(label.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_changes_a_status_and_answers_a_customer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    demo_loaded(&s);

    // Pick the third ticket of the list, one row at a time.
    let mut reference = detail_reference(&s.text()).expect("a first ticket in the detail pane");
    let mut screen = String::new();
    for _ in 0..2 {
        s.keys("j");
        let previous = reference.clone();
        screen = s.wait_for("the next ticket", Duration::from_secs(15), |t| {
            detail_reference(t).is_some_and(|r| r != previous) && !t.contains("loading…")
        });
        reference = detail_reference(&screen).expect("a reference in the detail title");
    }
    let before = detail_status(&screen).expect("a status line");

    // Change its status: the first in the list, or the second if it already has the first.
    s.keys("c");
    s.wait_for("the status picker", Duration::from_secs(15), |t| {
        t.contains("┌ Status ")
    });
    let (keys, expected_key, expected_label) = if before == "New" {
        ("gj\r", "open", "Open")
    } else {
        ("g\r", "new", "New")
    };
    s.keys(keys);
    s.wait_for("the new status, saved", Duration::from_secs(10), |t| {
        detail_status(t).as_deref() == Some(expected_label) && !status_line(t).contains("pending")
    });

    // Answer the customer.
    let body = format!("Hola, revisamos el caso {reference} ✓");
    s.keys("m");
    s.keys(&body);
    s.keys("\r");
    s.wait_for("the message, sent", Duration::from_secs(10), |t| {
        t.contains(&body) && !t.contains("sending…") && !status_line(t).contains("pending")
    });

    // A change made elsewhere shows without a key pressed.
    let remote = embedded_api(dir.path());
    let page = remote.get("/tickets?limit=5").await;
    let other = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["reference"] != reference.as_str()))
        .cloned()
        .expect("another ticket");
    let new_title = format!("Cambio remoto {}", std::process::id());
    let started = Instant::now();
    remote
        .set_title(
            other["id"].as_i64().expect("id"),
            other["version"].as_i64().expect("version"),
            &new_title,
        )
        .await;
    s.wait_for("the remote change", Duration::from_secs(10), |t| {
        t.contains(&new_title)
    });
    eprintln!("remote change visible after {:?}", started.elapsed());

    // Idle: nothing is written to the terminal while nothing happens.
    std::thread::sleep(Duration::from_millis(300));
    let before_idle = s.bytes_seen();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.bytes_seen(), before_idle, "bytes were written while idle");

    // Frames are wrapped in synchronized output.
    assert!(s.output_contains(b"\x1b[?2026h") && s.output_contains(b"\x1b[?2026l"));

    // Quit, and the terminal is as it was.
    s.keys("\u{1b}");
    std::thread::sleep(Duration::from_millis(100));
    quit(&mut s);

    // Both changes landed on the server.
    let (_server, checker) = fresh_server(dir.path()).await;
    let page = checker
        .get(&format!("/tickets?q={reference}&limit=10"))
        .await;
    let ticket = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["reference"] == reference.as_str()))
        .cloned()
        .unwrap_or_else(|| panic!("no ticket {reference}: {page}"));
    assert_eq!(ticket["status"], expected_key);
    let contact = ticket["contact"]["id"].as_i64().expect("contact id");
    let messages = checker
        .get(&format!("/contacts/{contact}/messages?limit=1000"))
        .await;
    let sent: Vec<_> = messages
        .as_array()
        .expect("a list of messages")
        .iter()
        .filter(|m| m["body"] == body.as_str())
        .collect();
    assert_eq!(sent.len(), 1, "the message landed exactly once");
    assert_eq!(sent[0]["direction"], "outbound");
}

#[test]
fn a_status_change_appears_in_the_history_pane() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    let screen = demo_loaded(&s);
    let before = detail_status(&screen).expect("a status line");

    s.keys("H");
    s.wait_for("the history pane", Duration::from_secs(15), |t| {
        t.contains(" · history ") && !t.contains("loading…")
    });
    s.keys("c");
    s.wait_for("the status picker", Duration::from_secs(15), |t| {
        t.contains("┌ Status ")
    });
    let (keys, after) = if before == "New" {
        ("gj\r", "Open")
    } else {
        ("g\r", "New")
    };
    s.keys(keys);
    // Read again once the change landed: the newest entry is on top.
    let change = format!("status: {before} → {after}");
    let screen = s.wait_for("the change in the history", Duration::from_secs(15), |t| {
        t.contains(&change)
    });
    // Who made it: the signed-in operator, named in the header.
    let me = screen
        .lines()
        .next()
        .and_then(|l| l.trim_start().strip_prefix("deskterm "))
        .and_then(|l| l.split(" │").next())
        .map(str::trim)
        .expect("the operator's name in the header")
        .to_owned();
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&change))
        .expect("the change line");
    assert!(
        at > 0 && lines[at - 1].contains(&me),
        "the entry names {me} above the change:\n{screen}"
    );

    // Back to the fields, and out.
    s.keys("H");
    s.wait_for("the fields again", Duration::from_secs(10), |t| {
        t.contains("Internal notes")
    });
    quit(&mut s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_edited_in_the_operators_editor_lands() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    // A scripted editor: writes the new description over the file it is given.
    let script = dir.path().join("editor.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nprintf 'Descripción nueva\\nsegunda línea ✓\\n' > \"$1\"\n",
    )
    .expect("editor script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let editor = script.to_str().expect("a UTF-8 path");
    let mut s = Session::start(dir.path(), &[("EDITOR", editor), ("VISUAL", editor)]);
    let screen = demo_loaded(&s);
    let reference = detail_reference(&screen).expect("a ticket in the detail pane");

    s.keys("d");
    s.wait_for("the description field", Duration::from_secs(10), |t| {
        t.contains("Description (ctrl-e")
    });
    s.keys("\u{5}");
    s.wait_for(
        "the edited text in the field",
        Duration::from_secs(15),
        |t| t.contains("segunda línea ✓") && status_line(t).contains("edited in $EDITOR"),
    );
    s.keys("\r");
    s.wait_for("the description, saved", Duration::from_secs(10), |t| {
        !t.contains("Description (ctrl-e")
            && t.contains("Descripción nueva")
            && !status_line(t).contains("pending")
    });
    quit(&mut s);

    let ticket = landed(dir.path(), &reference).await;
    assert_eq!(ticket["description"], "Descripción nueva\nsegunda línea ✓");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_status_made_in_the_console_is_usable_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    let screen = demo_loaded(&s);
    let reference = detail_reference(&screen).expect("a ticket in the detail pane");

    s.keys("\u{1b}OR"); // F3
    s.wait_for("the statuses view", Duration::from_secs(10), |t| {
        t.contains("┌ Statuses ")
    });
    s.keys("Esperando proveedor");
    s.keys("\r");
    s.wait_for("the new status in the list", Duration::from_secs(10), |t| {
        t.contains("Esperando proveedor") && t.contains("custom") && !t.contains("adding…")
    });
    s.keys("\u{1b}");
    s.wait_for("the statuses view closed", Duration::from_secs(10), |t| {
        !t.contains("┌ Statuses ")
    });
    // At once in the status picker: it is the last one.
    s.keys("c");
    s.wait_for("the status picker with it", Duration::from_secs(10), |t| {
        t.contains("┌ Status ") && t.contains("Esperando proveedor")
    });
    s.keys("G\r");
    s.wait_for(
        "the ticket in the new status",
        Duration::from_secs(10),
        |t| {
            detail_status(t).as_deref() == Some("Esperando proveedor")
                && !status_line(t).contains("pending")
        },
    );
    quit(&mut s);

    let ticket = landed(dir.path(), &reference).await;
    assert_eq!(ticket["status"], "esperando_proveedor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_view_shows_the_servers_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    demo_loaded(&s);
    // Customers are not simulated here: the numbers stand still.
    let api = embedded_api(dir.path());
    let stats = api.get("/stats").await;
    let open = format!("Open now {}", stats["open"]);
    let first = &stats["first_response"];
    let answered = format!("({} of {} answered)", first["answered"], first["opened"]);
    // The category with most open tickets, its count and share.
    let top = &stats["open_by_category"][0];
    let name = top["category"].as_str().unwrap_or("—");
    let share = format!("{:.1}%", top["share"].as_f64().expect("a share") * 100.0);
    s.keys("\u{1b}OQ"); // F2
    // Waits for the whole frame: the terminal may show the top of it first.
    let screen = s.wait_for("the statistics", Duration::from_secs(15), |t| {
        t.contains("Statistics · last 30 days")
            && t.contains(&open)
            && t.contains(&answered)
            && t.lines().any(|l| l.contains(name) && l.contains(&share))
    });
    let line = screen
        .lines()
        .find(|l| l.contains(name) && l.contains(&share))
        .unwrap_or_else(|| panic!("{name} {share}:\n{screen}"));
    assert!(line.contains(&top["count"].to_string()), "{line}");
    // Every status in progress is a bar with its label.
    for status in stats["open_by_status"].as_array().expect("statuses") {
        let label = status["label"].as_str().expect("a label");
        let shown = &label[..label.len().min(6)];
        assert!(screen.contains(shown), "{label}:\n{screen}");
    }
    s.keys("\u{1b}");
    s.wait_for("the list again", Duration::from_secs(10), |t| {
        !t.contains("Statistics ·")
    });
    quit(&mut s);
}

#[test]
fn the_status_change_automation_answers_the_customer_in_the_chat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    let screen = demo_loaded(&s);
    let reference = detail_reference(&screen).expect("a ticket in the detail pane");
    if detail_status(&screen).as_deref() == Some("Resolved") {
        s.keys("c");
        s.wait_for("the status picker", Duration::from_secs(10), |t| {
            t.contains("┌ Status ")
        });
        s.keys("gj\r");
        s.wait_for("the ticket open", Duration::from_secs(10), |t| {
            detail_status(t).as_deref() == Some("Open") && !status_line(t).contains("pending")
        });
    }
    // Resolved is the fourth status.
    s.keys("c");
    s.wait_for("the status picker", Duration::from_secs(10), |t| {
        t.contains("┌ Status ")
    });
    s.keys("gjjj\r");
    // The demo's "resolved" automation writes to the customer; the chat shows it live.
    let said = format!("{reference} “");
    s.wait_for(
        "the automation's message in the chat",
        Duration::from_secs(15),
        |t| {
            detail_status(t).as_deref() == Some("Resolved")
                && t.lines()
                    .any(|l| l.contains(&said) || l.contains("is now Resolved"))
        },
    );
    quit(&mut s);
}

/// How many tickets the header says are listed: `… │ 12/40 tickets`.
fn header_total(screen: &str) -> Option<usize> {
    let header = screen.lines().next()?;
    let counts = header.split(" tickets").next()?.rsplit(' ').next()?;
    counts.rsplit('/').next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_customer_opens_a_ticket_that_shows_up_live() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo: serde_json::Value =
        serde_json::from_str(include_str!("../assets/demo.json")).expect("demo data");
    let demo_tickets = demo["tickets"].as_array().expect("demo tickets").len();
    let mut s = Session::start(
        dir.path(),
        &[
            ("DESKTERM_NO_SIMULATED_CUSTOMERS", "false"),
            ("DESKTERM_SIMULATE_EVERY", "0.5"),
        ],
    );
    // The first message is from a new customer: it opens a ticket, and the
    // list grows without a key pressed.
    let screen = s.wait_for(
        "a ticket opened by a customer",
        Duration::from_secs(60),
        |t| t.contains("connected") && header_total(t).is_some_and(|n| n > demo_tickets),
    );
    let api = embedded_api(dir.path());
    let newest = api.get("/tickets?sort=-created&limit=1").await;
    let ticket = &newest["items"][0];
    let reference = ticket["reference"].as_str().expect("a reference");
    assert!(
        ["whatsapp", "email"].contains(&ticket["channel"].as_str().unwrap_or_default()),
        "{ticket}"
    );
    let id = ticket["id"].as_i64().expect("id");
    let history = api.get(&format!("/tickets/{id}/history")).await;
    assert_eq!(history["items"][0]["kind"], "created", "{history}");
    assert_eq!(history["items"][0]["actor"]["kind"], "channel", "{history}");
    s.wait_for("the new ticket in the list", Duration::from_secs(15), |t| {
        t.contains(reference)
    });
    drop(screen);

    quit(&mut s);
}

#[test]
fn sigterm_sighup_and_sigint_leave_the_terminal_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The first run loads the demo data; both signals are tried on a loaded screen.
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
        let mut s = Session::start(dir.path(), &[]);
        s.wait_for("the demo tickets", Duration::from_secs(60), |t| {
            t.contains("connected") && t.contains("tickets")
        });
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        let rc = unsafe { libc::kill(s.pid(), signal) };
        assert_eq!(rc, 0, "kill failed");
        s.wait_exit(Duration::from_secs(10));
        s.assert_terminal_restored();
    }
}

/// The ticket `reference` as the server holds it, after the session ended.
async fn landed(data_dir: &Path, reference: &str) -> serde_json::Value {
    let (_server, checker) = fresh_server(data_dir).await;
    let page = checker
        .get(&format!("/tickets?q={reference}&limit=10"))
        .await;
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["reference"] == reference))
        .cloned()
        .unwrap_or_else(|| panic!("no ticket {reference}: {page}"))
}

/// A reference server on the session's database, after the session ended,
/// with a new operator to check what landed.
async fn fresh_server(data_dir: &Path) -> (deskterm_server::RunningServer, Api) {
    let db = deskterm_server::Db::open(&data_dir.join("helpdesk.db"))
        .await
        .expect("open db");
    let (_, token) = deskterm_server::add_operator(&db, "Checker", "checker@example.com")
        .await
        .expect("operator");
    let server = deskterm_server::spawn(db, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("server");
    let api = Api {
        url: server.url(),
        token,
    };
    (server, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_for_a_new_customer_is_opened_from_the_form() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    demo_loaded(&s);
    s.keys("N");
    s.wait_for("the new-ticket form", Duration::from_secs(10), |t| {
        t.contains("Reference")
    });
    s.keys("Cliente nuevo por teléfono");
    s.keys("\t\t");
    // The field holds the selected ticket's customer: empty it, type the new one.
    s.keys(&"\u{7f}".repeat(40));
    s.keys("Ada Nueva, +39 333 000 111, ada@example.org");
    s.wait_for("the new customer's row", Duration::from_secs(10), |t| {
        t.contains("+ new: Ada Nueva")
    });
    s.keys("\u{1b}[B"); // ↓ onto it
    s.wait_for("the row chosen", Duration::from_secs(10), |t| {
        t.contains("← enter")
    });
    s.keys("\r");
    s.wait_for("the ticket sent", Duration::from_secs(20), |t| {
        !t.contains("← enter")
            && t.contains("Cliente nuevo por teléfono")
            && !status_line(t).contains("pending")
    });
    quit(&mut s);

    let (_server, api) = fresh_server(dir.path()).await;
    let page = api.get("/tickets?q=Cliente%20nuevo%20por&limit=5").await;
    let ticket = &page["items"][0];
    assert_eq!(ticket["title"], "Cliente nuevo por teléfono", "{page}");
    assert_eq!(ticket["contact"]["name"], "Ada Nueva", "{ticket}");
    assert_eq!(ticket["contact"]["email"], "ada@example.org", "{ticket}");
    let contact = api
        .get(&format!("/contacts/{}", ticket["contact"]["id"]))
        .await;
    assert_eq!(contact["phone"], "+39 333 000 111", "{contact}");
}
