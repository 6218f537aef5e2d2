//! A config file holding a token that other users can read: deskterm warns
//! the operator at start, in the status bar and in the log, as ssh does,
//! without showing the token.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use support::World;
use support::pty::Session;

const WARNING: &str = "holds a token other users can access (mode 0644)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_a_readable_config_is_warned_about() {
    let world = World::new(3).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("c.toml");
    let text = format!(
        "[server]\nurl = \"{}\"\ntoken = \"{}\"\n",
        world.url(),
        world.token
    );
    std::fs::write(&config, text).expect("config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");

    let config_path = config.to_string_lossy().into_owned();
    let mut s = Session::start(dir.path(), &[("DESKTERM_CONFIG", &config_path)]);
    let screen = s.wait_for("the warning", Duration::from_secs(60), |t| {
        t.contains(WARNING)
    });
    assert!(!screen.contains(&world.token), "{screen}");
    s.keys("q");
    s.wait_exit(Duration::from_secs(30));

    let log = std::fs::read_to_string(dir.path().join("deskterm.log")).expect("log");
    assert!(log.contains(WARNING), "{log}");
    assert!(!log.contains(&world.token), "the token is in the log");
}
