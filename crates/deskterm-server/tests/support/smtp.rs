//! A real SMTP server for the e-mail tests: `scripts/smtp_sink.py`
//! (aiosmtpd, installed from PyPI into target/ci-venv by
//! `scripts/test-venv.sh`). It writes each message it receives to a
//! directory, decoded, and stops when the test process ends.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The repository's root.
fn root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("scripts").join("smtp_sink.py").exists() {
        assert!(dir.pop(), "scripts/smtp_sink.py not found above the crate");
    }
    dir
}

/// The tests' Python, with aiosmtpd (made on first use).
fn python() -> String {
    let out = Command::new("bash")
        .arg(root().join("scripts").join("test-venv.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/test-venv.sh failed: the e-mail tests need python3 with venv, and PyPI \
         (aiosmtpd) the first time"
    );
    String::from_utf8(out.stdout)
        .expect("a path")
        .trim()
        .to_owned()
}

/// How the SMTP server is set up.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Offer STARTTLS with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Take AUTH (after STARTTLS) for this user and password.
    pub user: Option<(String, String)>,
    /// Listen on this port rather than a free one.
    pub port: Option<u16>,
}

/// A message as the SMTP server received it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub mail_from: String,
    pub tls: bool,
    pub auth: Option<String>,
    pub from: String,
    pub to: String,
    pub reply_to: String,
    pub subject: String,
    pub date: String,
    pub body: String,
}

/// A running SMTP server; it stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    out: tempfile::TempDir,
    child: Child,
    _stdin: ChildStdin,
}

impl SmtpSink {
    /// Starts one; returns once it accepts connections.
    pub fn start(options: SinkOptions) -> SmtpSink {
        let out = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(python());
        command
            .arg(root().join("scripts").join("smtp_sink.py"))
            .arg("--out")
            .arg(out.path())
            .arg("--port")
            .arg(options.port.unwrap_or(0).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((cert, key)) = &options.tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &options.user {
            command
                .arg("--user")
                .arg(user)
                .arg("--password")
                .arg(password);
        }
        let mut child = command.spawn().expect("the SMTP server starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the SMTP server says it is ready");
        let port = line
            .trim()
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        SmtpSink {
            port,
            out,
            child,
            _stdin: stdin,
        }
    }

    /// Where it writes what it receives.
    pub fn dir(&self) -> &Path {
        self.out.path()
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut found: Vec<(u64, Received)> = std::fs::read_dir(self.out.path())
            .expect("sink dir")
            .filter_map(|e| {
                let path = e.ok()?.path();
                let n: u64 = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                let text = std::fs::read_to_string(&path).ok()?;
                Some((n, serde_json::from_str(&text).expect("the sink's JSON")))
            })
            .collect();
        found.sort_by_key(|(n, _)| *n);
        found.into_iter().map(|(_, r)| r).collect()
    }

    /// Messages to `address` received so far.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.rcpt_to.iter().any(|a| a.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits up to `budget` until `count` messages to `address` have arrived.
    pub async fn wait_for(&self, address: &str, count: usize, budget: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.to(address);
            if got.len() >= count {
                return got;
            }
            assert!(
                start.elapsed() < budget,
                "{count} e-mail(s) to {address} expected within {budget:?}; got {}: {:#?}",
                got.len(),
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
