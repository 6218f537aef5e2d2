//! The administration commands of the real binary against a running server
//! on the same database: `operator add --role`, `operator list`, `operator
//! revoke`, `token rotate`, `channel add`.

use std::path::Path;
use std::process::Command;

use serde_json::json;

/// Runs `deskterm ARGS --db DB`; returns stdout, failing on a non-zero exit.
fn deskterm(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_deskterm"))
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run deskterm");
    assert!(
        out.status.success(),
        "deskterm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The only line of `stdout`: a token.
fn token(stdout: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token on stdout: {stdout:?}");
    lines[0].to_owned()
}

async fn status(http: &reqwest::Client, url: &str, token: &str) -> u16 {
    http.get(format!("{url}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /me")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_are_listed_revoked_and_rotated_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("helpdesk.db");
    let db = db_path.as_path();
    let ana = token(&deskterm(
        db,
        &[
            "operator",
            "add",
            "--name",
            "Ana",
            "--email",
            "ana@example.com",
            "--role",
            "admin",
        ],
    ));
    let bruno = token(&deskterm(
        db,
        &[
            "operator",
            "add",
            "--name",
            "Bruno",
            "--email",
            "bruno@example.com",
        ],
    ));
    let bad_role = Command::new(env!("CARGO_BIN_EXE_deskterm"))
        .args([
            "operator",
            "add",
            "--name",
            "X",
            "--email",
            "x@example.com",
            "--role",
            "boss",
        ])
        .arg("--db")
        .arg(db)
        .output()
        .unwrap();
    assert!(!bad_role.status.success());

    let list = deskterm(db, &["operator", "list"]);
    let rows: Vec<Vec<&str>> = list
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["1", "Ana", "ana@example.com", "admin", "active", "1"],
            ["2", "Bruno", "bruno@example.com", "agent", "active", "1"],
        ]
    );
    assert!(!list.contains(&ana) && !list.contains(&bruno) && !list.contains("dkt_"));

    let server_db = deskterm_server::Db::open(db).await.expect("open db");
    let server = deskterm_server::spawn(server_db, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("spawn");
    let url = server.url();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(status(&http, &url, &bruno).await, 200);
    let me: serde_json::Value = http
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&ana)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");

    // Revoked by e-mail while the server runs: the very next request fails.
    deskterm(db, &["operator", "revoke", "bruno@example.com"]);
    assert_eq!(status(&http, &url, &bruno).await, 401);
    let list = deskterm(db, &["operator", "list"]);
    assert!(
        list.contains("2\tBruno\tbruno@example.com\tagent\trevoked\t0"),
        "{list}"
    );

    // Rotated by id: the old token fails at once, the new one works.
    let rotated = token(&deskterm(db, &["token", "rotate", "1"]));
    assert_ne!(rotated, ana);
    assert_eq!(status(&http, &url, &ana).await, 401);
    assert_eq!(status(&http, &url, &rotated).await, 200);

    // A channel's token posts customers' messages, and only there.
    let whatsapp = token(&deskterm(db, &["channel", "add", "whatsapp"]));
    let post = |token: String| {
        http.post(format!("{url}/api/v1/channels/whatsapp/inbound"))
            .bearer_auth(token)
            .json(&json!({"name": "Eva", "phone": "+34 600 1", "body": "hola"}))
            .send()
    };
    assert_eq!(post(whatsapp.clone()).await.unwrap().status().as_u16(), 201);
    assert_eq!(post(rotated.clone()).await.unwrap().status().as_u16(), 403);
    assert_eq!(status(&http, &url, &whatsapp).await, 401);
    server.shutdown().await;
}
