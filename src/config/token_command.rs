//! `token_command`: the token comes from a password manager (`pass show
//! helpdesk`) instead of a file on the shared host.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::sanitize;

/// How long the command may take; a password manager may ask for a passphrase first.
pub const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of the command's error output an error quotes.
const STDERR_QUOTED: usize = 500;

/// Runs `command` with `sh -c` and returns the first line of what it prints.
/// Errors quote its error output, never its standard output (the token).
pub(super) fn run(command: &str, timeout: Duration) -> anyhow::Result<String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout stops everything it started.
        .process_group(0)
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run the token_command `{command}`: {e}"))?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                stop_group(&mut child);
                anyhow::bail!(
                    "the token_command `{command}` did not finish within {} s",
                    timeout.as_secs()
                );
            }
            Err(e) => anyhow::bail!("cannot wait for the token_command `{command}`: {e}"),
        }
    };
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        let said = quote(&stderr);
        anyhow::bail!("the token_command `{command}` failed ({status}){said}");
    }
    let token = String::from_utf8_lossy(&stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    if token.is_empty() {
        let said = quote(&stderr);
        anyhow::bail!("the token_command `{command}` printed no token{said}");
    }
    Ok(token)
}

/// Reads a pipe to its end on a thread of its own, so neither pipe fills and blocks the command.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Kills the command and whatever it started (its process group).
fn stop_group(child: &mut std::process::Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// `: <error output>` on one clean line, or nothing when there was none.
fn quote(stderr: &[u8]) -> String {
    let text = sanitize::line(String::from_utf8_lossy(stderr).trim());
    if text.is_empty() {
        return String::new();
    }
    let quoted: String = text.chars().take(STDERR_QUOTED).collect();
    let more = if quoted.len() < text.len() { "…" } else { "" };
    format!(": {quoted}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_of_the_output_is_the_token() {
        let token = run("printf 'dkt_abc \\nsecond\\n'", Duration::from_secs(30)).unwrap();
        assert_eq!(token, "dkt_abc");
    }

    #[test]
    fn a_failure_quotes_the_error_output_but_never_the_output() {
        let err = run(
            // The token printed is not in the command, so the error cannot quote it by accident.
            "printf 'dkt_%s\\n' secret; echo 'gpg: decryption failed' >&2; exit 2",
            Duration::from_secs(30),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("gpg: decryption failed"), "{err}");
        assert!(err.contains("exit status: 2"), "{err}");
        assert!(!err.contains("dkt_secret"), "{err}");
        let err = run("true", Duration::from_secs(30))
            .unwrap_err()
            .to_string();
        assert!(err.contains("printed no token"), "{err}");
    }

    #[test]
    fn a_command_that_hangs_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        // The background child would write the marker if the timeout spared it.
        let command = format!("(sleep 3; touch {}) & sleep 60", marker.display());
        let err = run(&command, Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not finish within 1 s"), "{err}");
        std::thread::sleep(Duration::from_secs(4));
        assert!(
            !marker.exists(),
            "a process the command started outlived it"
        );
    }
}
