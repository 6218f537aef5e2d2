//! The real binary keeps an operator's work through a dead server and a
//! killed client: edits made offline wait in the outbox on disk, survive
//! SIGKILL, and land exactly once at the next start.

mod support;

use std::time::Duration;

use support::World;
use support::fault_proxy::{Fault, FaultProxy};
use support::pty::{Session, detail_reference, status_line};

fn env(url: &str, token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DESKTERM_SERVER_URL", url.to_owned()),
        ("DESKTERM_TOKEN", token.to_owned()),
    ]
}

fn start(data_dir: &std::path::Path, vars: &[(&'static str, String)]) -> Session {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Session::start(data_dir, &pairs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_offline_edits_survive_sigkill_and_land_once() {
    let mut world = World::new(4).await;
    let data = tempfile::tempdir().expect("temp dir");
    let vars = env(&world.url(), &world.token);

    // A first session fills the cache.
    let mut s = start(data.path(), &vars);
    s.wait_for("the tickets", Duration::from_secs(30), |t| {
        t.contains("connected") && t.contains("Ticket 0")
    });
    s.keys("q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());
    drop(s);

    // The server goes away; the operator keeps working from the cache.
    world.kill().await;
    let mut s = start(data.path(), &vars);
    s.wait_for(
        "the cached tickets, offline",
        Duration::from_secs(30),
        |t| t.contains("Ticket 0") && (t.contains("offline") || t.contains("reconnecting")),
    );
    for i in 1..=50 {
        s.keys("n");
        s.keys(&format!("nota sin red {i}"));
        s.keys("\r");
    }
    s.wait_for("50 edits in the outbox", Duration::from_secs(30), |t| {
        t.contains("50 pending")
    });
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(s.pid(), libc::SIGKILL) }, 0);
    s.wait_exit(Duration::from_secs(10));
    drop(s);

    // The server is back; the next start sends everything.
    world.restart().await;
    let mut s = start(data.path(), &vars);
    s.wait_for("the outbox to drain", Duration::from_secs(90), |t| {
        t.contains("connected") && !status_line(t).contains("pending")
    });
    s.keys("q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());

    let mut counts = std::collections::HashMap::new();
    for t in world.tickets().await {
        for n in world
            .get(&format!("/tickets/{}/notes", t.id))
            .await
            .as_array()
            .expect("notes")
        {
            let body = n["body"].as_str().unwrap_or_default().to_owned();
            *counts.entry(body).or_insert(0) += 1;
        }
    }
    for i in 1..=50 {
        assert_eq!(
            counts.get(&format!("nota sin red {i}")),
            Some(&1),
            "nota sin red {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_keeps_answering_while_the_server_stalls() {
    let world = World::new(6).await;
    let proxy = FaultProxy::start(world.addr).await;
    let data = tempfile::tempdir().expect("temp dir");
    let vars = env(&proxy.url(), &world.token);
    let mut s = start(data.path(), &vars);
    s.wait_for("the tickets", Duration::from_secs(30), |t| {
        t.contains("connected") && t.contains("Ticket 0")
    });

    proxy.set(Fault::Stall(Duration::from_secs(60)));
    // A change that cannot be sent, and keys that must still be answered.
    s.keys("n");
    s.keys("durante el bloqueo");
    s.keys("\r");
    s.wait_for("the pending note", Duration::from_secs(10), |t| {
        t.contains("1 pending")
    });
    let before = detail_reference(&s.text());
    s.keys("j");
    s.wait_for(
        "the selection to move during the stall",
        Duration::from_secs(5),
        |t| detail_reference(t) != before,
    );
    s.keys("?");
    s.wait_for("help during the stall", Duration::from_secs(5), |t| {
        t.contains("Keys")
    });
    s.keys("\u{1b}");
    // The stalled request times out and says so, and the note is kept.
    s.wait_for("a clear error", Duration::from_secs(40), |t| {
        t.contains("did not answer in time")
    });
    proxy.set(Fault::None);
    s.wait_for("the note to land", Duration::from_secs(60), |t| {
        !status_line(t).contains("pending")
    });
    s.keys("q");
    assert!(s.wait_exit(Duration::from_secs(10)).success());
    s.assert_terminal_restored();
}
