//! On a shared host, what deskterm writes is readable by its owner alone:
//! files 0600, directories 0700, under the usual umask 022; older files and
//! deskterm's own directories lose group and world access when reopened;
//! directories the user named are left alone. Logs written to a file carry
//! no terminal control codes.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use deskterm::sync::cache::{self, Cache};
use deskterm::{embedded, logging};

fn usual_umask() {
    // SAFETY: umask only sets this process's file creation mask; every test here wants 022.
    unsafe {
        libc::umask(0o022);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// A database and its write-ahead files are 0600.
fn assert_private_database(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let file = with_suffix(db, suffix);
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// A directory as a shared host's home might have it: 0755.
fn open_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    chmod(root.path(), 0o755);
    root
}

#[tokio::test]
async fn the_cache_is_private_and_tightened_when_reopened() {
    usual_umask();
    let root = open_root();
    let data = root.path().join("data");
    let path = cache::file_for(&data, "https://helpdesk.example.com", "dkt_t");
    let opened = Cache::open(&path).await.unwrap();
    opened
        .cache
        .set_backend("https://helpdesk.example.com")
        .await
        .unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("cache")), 0o700);
    assert_private_database(&path);
    opened.cache.close().await;

    // As an older deskterm left them.
    chmod(&data.join("cache"), 0o755);
    chmod(&path, 0o644);
    let opened = Cache::open(&path).await.unwrap();
    opened.cache.set_backend("again").await.unwrap();
    assert_eq!(mode(&data.join("cache")), 0o700);
    assert_private_database(&path);
    assert_eq!(
        mode(root.path()),
        0o755,
        "the user's directory is left alone"
    );
    opened.cache.close().await;
}

#[tokio::test]
async fn the_embedded_server_keeps_its_database_and_token_private() {
    usual_umask();
    let root = open_root();
    let data = root.path().join("share/deskterm");
    let e = embedded::start(&data, None).await.unwrap();
    let db = data.join(embedded::DB_FILE);
    assert_eq!(mode(&root.path().join("share")), 0o700);
    assert_eq!(mode(&data), 0o700);
    assert_private_database(&db);
    assert_eq!(mode(&data.join("demo-operator.json")), 0o600);
    e.server.shutdown().await;

    chmod(&data, 0o755);
    for file in ["helpdesk.db", "demo-operator.json"] {
        chmod(&data.join(file), 0o644);
    }
    let e = embedded::start(&data, None).await.unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_private_database(&db);
    assert_eq!(mode(&data.join("demo-operator.json")), 0o600);
    assert_eq!(mode(root.path()), 0o755);
    e.server.shutdown().await;
}

#[test]
fn the_log_file_is_private() {
    usual_umask();
    let root = open_root();
    let file = root.path().join("logs/deskterm.log");
    let (_writer, tightened) = logging::open(&file).unwrap();
    assert!(tightened.is_none());
    assert_eq!(mode(&root.path().join("logs")), 0o700);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(root.path()), 0o755);

    chmod(&file, 0o644);
    let (_writer, tightened) = logging::open(&file).unwrap();
    let tightened = tightened.expect("reported");
    assert!(tightened.to_string().contains("0644"), "{tightened}");
    assert_eq!(mode(&file), 0o600);
}

/// Starts `deskterm serve --db <db>` in `cwd`, waits until it listens, and
/// returns it (the caller kills it).
fn serve(cwd: &Path, db: &str) -> std::process::Child {
    serve_with(cwd, &["--db", db], Stdio::null())
}

fn serve_with(cwd: &Path, args: &[&str], stderr: Stdio) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deskterm"))
        .current_dir(cwd)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line:?}");
    child
}

#[test]
fn deskterm_serve_creates_its_database_private_but_leaves_the_directory_named() {
    usual_umask();
    let root = open_root();
    let mut child = serve(root.path(), "./helpdesk.db");
    let db = root.path().join("helpdesk.db");
    assert_private_database(&db);
    assert_eq!(
        mode(root.path()),
        0o755,
        "the current directory is not ours"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let mut child = serve(root.path(), "new/dir/helpdesk.db");
    assert_eq!(mode(&root.path().join("new")), 0o700);
    assert_eq!(mode(&root.path().join("new/dir")), 0o700);
    assert_private_database(&root.path().join("new/dir/helpdesk.db"));
    child.kill().unwrap();
    child.wait().unwrap();

    // A database an older deskterm left open to others.
    for suffix in ["", "-wal", "-shm"] {
        let file = with_suffix(&db, suffix);
        if file.exists() {
            chmod(&file, 0o644);
        }
    }
    let mut child = serve(root.path(), "helpdesk.db");
    assert_private_database(&db);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn deskterm_serve_logs_to_a_file_without_colour_codes() {
    let root = tempfile::tempdir().unwrap();
    let log = root.path().join("serve.log");
    let stderr = std::fs::File::create(&log).unwrap();
    // Loading the demo data logs a record before the server listens.
    let mut child = serve_with(root.path(), &["--db", "h.db", "--demo"], stderr.into());
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("demo data loaded"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text:?}"
    );
}
