//! End to end: the query language and saved views in the real binary, on its
//! embedded backend with the demo data; counts checked through the HTTP API.

mod support;

use std::time::Duration;

use support::pty::{Session, embedded_api};

/// `shown/total` from the header's `… │ 12/250 tickets`.
fn listed(screen: &str) -> Option<(u64, u64)> {
    let header = screen.lines().next()?;
    let part = header.rsplit('│').next()?.trim();
    let counts = part.strip_suffix("tickets")?.trim();
    let (shown, total) = counts.split_once('/')?;
    Some((shown.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_query_lists_what_the_api_lists_and_a_view_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = Session::start(dir.path(), &[]);
    let screen = s.wait_for("the demo tickets", Duration::from_secs(60), |t| {
        t.contains("connected") && listed(t).is_some_and(|(n, _)| n > 0) && !t.contains("loading")
    });
    let (_, total) = listed(&screen).expect("counts");

    // A query typed in the search box narrows the list to what the API
    // returns for the same filter.
    let api = embedded_api(dir.path());
    let open = api.get("/tickets?status=open&limit=1").await["total"]
        .as_u64()
        .expect("a total");
    assert!(
        open > 0 && open < total,
        "the demo has some open tickets: {open}/{total}"
    );
    s.keys("/status:open");
    s.wait_for("the open tickets", Duration::from_secs(15), |t| {
        listed(t) == Some((open, total))
    });
    s.keys("\r");

    // A mistake points at the token and keeps the last good list (the
    // word `colour` alone is a fuzzy word, `colour:` an unknown field).
    s.keys("/ colour");
    let screen = s.wait_for(
        "the word narrowing the list",
        Duration::from_secs(15),
        |t| listed(t).is_some_and(|l| l != (open, total)),
    );
    let before = listed(&screen);
    s.keys(":red");
    let screen = s.wait_for("the error under the field", Duration::from_secs(15), |t| {
        t.contains("column 13")
    });
    assert_eq!(listed(&screen), before, "the last good list stays");
    s.keys("\x1b");
    s.wait_for("the open tickets again", Duration::from_secs(15), |t| {
        listed(t) == Some((open, total))
    });

    // A saved view: Unassigned (open ones nobody has).
    let unassigned = api
        .get("/tickets?operator=none&macro_status=in_progress&limit=1")
        .await["total"]
        .as_u64()
        .expect("a total");
    s.keys("2");
    s.wait_for("the Unassigned view", Duration::from_secs(15), |t| {
        header(t).contains("view: Unassigned") && listed(t) == Some((unassigned, total))
    });
    s.keys("q");
    s.wait_exit(Duration::from_secs(15));

    // It is there again at the next start.
    let mut s = Session::start(dir.path(), &[]);
    s.wait_for("the view again", Duration::from_secs(60), |t| {
        header(t).contains("view: Unassigned")
            && t.contains("connected")
            && listed(t) == Some((unassigned, total))
    });

    // A key that changes nothing writes nothing: `G` at the bottom.
    s.keys("G");
    std::thread::sleep(Duration::from_millis(500));
    let before = s.bytes_seen();
    s.keys("G");
    std::thread::sleep(Duration::from_millis(500));
    let out = s.output();
    assert_eq!(
        s.bytes_seen(),
        before,
        "a no-op key wrote to the terminal: {:?}",
        String::from_utf8_lossy(out.get(before..).unwrap_or_default())
    );
}
