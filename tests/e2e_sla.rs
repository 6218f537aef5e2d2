//! End to end: the SLA state the server keeps is the one the console shows,
//! also when the server's timer moves it while the console looks.

mod support;

use std::time::Duration;

use support::World;

/// The `SLA due` line of the detail pane.
fn sla_line(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.starts_with("│SLA due "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_sla_state_is_shown_and_its_push_moves_it() {
    // Due two hours after opening, at risk when 99.72 % of that is left:
    // 20 s after opening. The console's own rule for a helpdesk that keeps
    // no state (at risk in the last hour) would say "ok" for two hours.
    let targets = "low = \"2h\"\nnormal = \"2h\"\nhigh = \"2h\"\nurgent = \"2h\"\n";
    let settings = deskterm_server::Settings::from_toml(&format!(
        "[sla]\nat_risk = 0.99722\n[sla.response]\n{targets}[sla.resolution]\n{targets}"
    ))
    .expect("settings");
    let world = World::with_settings(support::demo(2), settings).await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let url = world.url();
    let mut s = world.console(data_dir.path());
    s.wait_for("the tickets", Duration::from_secs(30), |t| {
        t.contains("connected") && t.contains("2/2 tickets")
    });

    // A ticket opened now, while the console looks: due in two hours.
    let created: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{url}/api/v1/tickets"))
        .bearer_auth(&world.token)
        .json(&serde_json::json!({"title": "Pago duplicado", "contact_id": 1}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("ticket");
    assert_eq!(created["sla_state"], "ok", "{created}");
    let reference = created["reference"].as_str().expect("reference");
    s.keys(&format!("/ref:{reference}\r"));
    let screen = s.wait_for(
        "the new ticket with its SLA",
        Duration::from_secs(15),
        |t| t.contains("1/3 tickets") && sla_line(t).is_some(),
    );
    let first = sla_line(&screen).unwrap_or_default().to_owned();
    let server = world.get(&format!("/tickets/{}", created["id"])).await;
    // Unless the machine took 20 s to get here, the console saw "ok" first.
    if server["sla_state"] == "ok" {
        assert!(first.contains("(ok, "), "{first}\n{server}");
    }

    let screen = s.wait_for("the pushed state", Duration::from_secs(60), |t| {
        sla_line(t).is_some_and(|l| l.contains("(at risk, ") && l.contains("m left"))
    });
    let server = world.get(&format!("/tickets/{}", created["id"])).await;
    assert_eq!(server["sla_state"], "at_risk", "{server}");
    // The list's mark and the saved view agree with the detail pane.
    // The query language agrees with the detail pane.
    s.keys("/");
    s.keys(&"\u{7f}".repeat(30));
    s.keys("sla:at_risk");
    s.wait_for("the ticket in sla:at_risk", Duration::from_secs(10), |t| {
        t.lines().next().is_some_and(|h| h.contains("1/3 tickets")) && t.contains(reference)
    });
    drop(screen);
    s.keys("\r");
    s.wait_for("the search closed", Duration::from_secs(10), |t| {
        !t.contains("┌ Search ")
    });
    s.keys("q");
    let status = s.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "deskterm exited with {status:?}");
    s.assert_terminal_restored();
}
