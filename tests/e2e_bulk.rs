//! End to end: marking several tickets and changing them together from the
//! command palette, in the real binary on its embedded backend; the result
//! checked through the HTTP API.

mod support;

use std::time::Duration;

use support::pty::{Session, embedded_api, status_line};

/// References of the list's rows on screen, top first: the first word after
/// the two flag columns of each row of the Tickets pane.
fn listed_references(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !l.starts_with("┌ Tickets"))
        .skip(2) // the pane's top border and the column header
        .take_while(|l| l.starts_with('│'))
        .filter_map(|l| {
            let row: String = l.chars().skip(3).collect();
            row.split_whitespace().next().map(str::to_owned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_marked_tickets_get_a_new_status_from_the_palette_in_one_transaction() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    s.wait_for("the demo tickets", Duration::from_secs(60), |t| {
        t.contains("connected") && !t.contains("loading") && listed_references(t).len() > 3
    });
    // Open tickets, so that none of the three is resolved already; the
    // list has settled once it counts what the API counts.
    let api = embedded_api(dir.path());
    let open = api.get("/tickets?status=open&limit=1").await["total"]
        .as_u64()
        .expect("a total");
    assert!(open >= 3, "the demo has open tickets: {open}");
    s.keys("/status:open\r");
    let screen = s.wait_for("the open tickets", Duration::from_secs(15), |t| {
        t.lines()
            .next()
            .is_some_and(|h| h.contains(&format!("│ {open}/")))
            && listed_references(t).len() >= 3
    });
    let refs: Vec<String> = listed_references(&screen).into_iter().take(3).collect();

    // Mark three (space marks and moves down), then one command for all.
    s.keys("   ");
    s.wait_for("three marked", Duration::from_secs(15), |t| {
        status_line(t).contains("3 marked")
    });
    s.keys(":");
    s.wait_for("the palette", Duration::from_secs(15), |t| {
        t.contains("Command")
    });
    s.keys("set status resolved");
    s.wait_for("the completion", Duration::from_secs(15), |t| {
        t.contains("set status resolved")
    });
    s.keys("\r");
    s.wait_for("the change confirmed", Duration::from_secs(15), |t| {
        status_line(t).contains("on 3 of 3 tickets")
    });

    // All three are resolved on the server.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut statuses = Vec::new();
        for r in &refs {
            let page = api.get(&format!("/tickets?q={r}&limit=5")).await;
            let status = page["items"]
                .as_array()
                .and_then(|items| items.iter().find(|t| t["reference"] == r.as_str()))
                .and_then(|t| t["status"].as_str())
                .unwrap_or_default()
                .to_owned();
            statuses.push(status);
        }
        if statuses.iter().all(|st| st == "resolved") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all resolved on the server: {refs:?} → {statuses:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // They reached the outbox together.
    let log = std::fs::read_to_string(dir.path().join("deskterm.log")).expect("log file");
    assert!(
        log.contains("3 writes of one command stored in one transaction"),
        "the log tells how the writes were stored"
    );

    // A command with an argument that is not a ticket change: the sort.
    s.keys(":sort title asc\r");
    s.wait_for("the new sort", Duration::from_secs(15), |t| {
        t.lines()
            .next()
            .is_some_and(|h| h.contains("sort: title ↑"))
    });
    s.keys("q");
    s.wait_exit(Duration::from_secs(15));
    s.assert_terminal_restored();
}
