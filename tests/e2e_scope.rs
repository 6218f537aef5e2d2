//! End to end: a sync scope that leaves old closed tickets on the server.
//! They are not replicated; a query that may match them asks the server,
//! and what it finds joins the list.

mod support;

use std::time::Duration;

use serde_json::json;
use support::World;
use support::pty::status_line;

/// `shown/total` from the header's `… │ 12/250 tickets`.
fn listed(screen: &str) -> Option<(u64, u64)> {
    let header = screen.lines().next()?;
    let part = header.rsplit('│').next()?.trim();
    let (shown, total) = part.strip_suffix("tickets")?.trim().split_once('/')?;
    Some((shown.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// Four open tickets, three closed two days ago, three closed 100 days ago.
fn helpdesk() -> serde_json::Value {
    let mut data = support::demo(10);
    let day = 24 * 60;
    if let Some(tickets) = data["tickets"].as_array_mut() {
        for (i, t) in tickets.iter_mut().enumerate() {
            let closed_days_ago = match i {
                0..4 => continue,
                4..7 => 2,
                _ => 100,
            };
            t["status"] = json!("closed");
            t["title"] = json!(format!("Cerrado hace {closed_days_ago} días {i}"));
            t["created_minutes_ago"] = json!((closed_days_ago + 5) * day);
            t["updated_minutes_ago"] = json!(closed_days_ago * day);
            t["closed_minutes_ago"] = json!(closed_days_ago * day);
        }
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_closed_tickets_stay_on_the_server_until_a_query_asks_for_them() {
    let world = World::with_data(helpdesk()).await;
    let data = tempfile::tempdir().expect("temp dir");
    let config_dir = data.path().join("config").join("deskterm");
    std::fs::create_dir_all(&config_dir).expect("config dir");
    std::fs::write(config_dir.join("config.toml"), "[sync]\nclosed_days = 30\n")
        .expect("config file");
    let mut s = world.console(data.path());
    s.wait_for("the tickets in scope", Duration::from_secs(30), |t| {
        t.contains("connected") && !t.contains("loading") && listed(t) == Some((7, 7))
    });
    assert!(
        !s.text().contains("hace 100"),
        "old closed tickets are not listed"
    );

    // Closed tickets: the three recent ones at once, the old ones from the server.
    s.keys("/macro:closed\r");
    let screen = s.wait_for("the server's answer", Duration::from_secs(20), |t| {
        status_line(t).contains("3 older ticket(s) found on the server")
    });
    let screen = if listed(&screen) == Some((6, 10)) {
        screen
    } else {
        s.wait_for("the old ones listed", Duration::from_secs(10), |t| {
            listed(t) == Some((6, 10))
        })
    };
    assert!(screen.contains("Cerrado hace 100 días"));

    // A query only about tickets in progress does not ask.
    s.keys("/");
    s.keys(&"\u{7f}".repeat("macro:closed".len()));
    s.keys("macro:in_progress\r");
    s.wait_for("the open tickets", Duration::from_secs(15), |t| {
        listed(t).is_some_and(|(n, _)| n == 4)
    });
    assert!(!status_line(&s.text()).contains("searching the server"));
    s.keys("q");
    s.wait_exit(Duration::from_secs(15));
}
