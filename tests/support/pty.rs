//! The real `deskterm` binary in a pseudo-terminal, with a parsed view of its screen.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

pub const COLS: u16 = 160;
pub const ROWS: u16 = 45;

/// The binary running in a pty, with a parsed view of its screen.
pub struct Session {
    pub screen: Arc<Mutex<vt100::Parser>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Session {
        Session::start_sized(data_dir, env, COLS, ROWS)
    }

    /// Like [`Session::start`], on a terminal of `cols` × `rows`.
    pub fn start_sized(data_dir: &Path, env: &[(&str, &str)], cols: u16, rows: u16) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deskterm"));
        cmd.env("DESKTERM_DATA_DIR", data_dir);
        // Keep the operator's own config and data out of the test.
        cmd.env("HOME", data_dir);
        cmd.env("XDG_CONFIG_HOME", data_dir.join("config"));
        cmd.env("XDG_DATA_HOME", data_dir.join("data"));
        cmd.env_remove("DESKTERM_CONFIG");
        cmd.env_remove("DESKTERM_SERVER_URL");
        cmd.env_remove("DESKTERM_TOKEN");
        cmd.env("TERM", "xterm-256color");
        cmd.env("TZ", "UTC");
        // Screens stay still unless a test asks for customers writing in.
        cmd.env("DESKTERM_NO_SIMULATED_CUSTOMERS", "true");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn deskterm");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let writer = pty.master.take_writer().expect("pty writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        {
            let screen = screen.clone();
            let bytes = bytes.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut pending = Vec::new();
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            pending.extend_from_slice(&buf[..n]);
                            let whole = whole_chars(&pending);
                            let drawn = show_replacement_characters(&pending[..whole]);
                            screen.lock().unwrap().process(&drawn);
                            pending.drain(..whole);
                            bytes.lock().unwrap().extend_from_slice(&buf[..n]);
                        }
                    }
                }
            });
        }
        Session {
            screen,
            bytes,
            writer,
            child,
            master: pty.master,
        }
    }

    /// Resizes the terminal (the program gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.screen
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
    }

    /// Every byte the program wrote to the terminal so far.
    pub fn output(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn bytes_seen(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }

    pub fn output_contains(&self, needle: &[u8]) -> bool {
        self.bytes
            .lock()
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    }

    pub fn pid(&self) -> i32 {
        self.child.process_id().expect("pid") as i32
    }

    /// Whether the program has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the reader thread take the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "deskterm did not exit; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn assert_terminal_restored(&self) {
        let parser = self.screen.lock().unwrap();
        assert!(
            !parser.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "the cursor is still hidden");
        drop(parser);
        assert!(
            self.output_contains(b"\x1b[?1049l"),
            "the alternate screen was never left"
        );
    }

    pub fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
    }

    /// Waits until the screen satisfies `ok`; fails with the screen when it does not.
    pub fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if ok(&text) {
                return text;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// How many leading bytes of `bytes` end on a character boundary (a UTF-8
/// sequence cut by the read waits for the next one).
fn whole_chars(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(3);
    for start in (tail..bytes.len()).rev() {
        let lead = bytes[start];
        let len = match lead {
            0x00..=0x7f => return bytes.len(),
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => continue,
        };
        return if start + len > bytes.len() {
            start
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

/// vt100 ignores U+FFFD (it takes it for broken input), where terminals draw
/// it in one cell: the parser gets a `?` in its place.
fn show_replacement_characters(bytes: &[u8]) -> Vec<u8> {
    const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(3).position(|w| w == REPLACEMENT) {
        out.extend_from_slice(&rest[..at]);
        out.push(b'?');
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    out
}

/// The reference shown in the detail pane's title (`┌ HD-000123 ───`).
pub fn detail_reference(screen: &str) -> Option<String> {
    screen
        .lines()
        .filter(|l| l.starts_with("┌ "))
        .nth(1)
        .and_then(|l| l.trim_start_matches("┌ ").split(' ').next())
        .map(str::to_owned)
}

/// The status bar: the last line of the screen.
pub fn status_line(screen: &str) -> &str {
    screen.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("")
}

/// The API of the embedded server of a running session, from its log and
/// its demo credentials.
pub fn embedded_api(data_dir: &Path) -> super::Api {
    let log = std::fs::read_to_string(data_dir.join("deskterm.log")).expect("log file");
    let url = log
        .lines()
        .filter_map(|l| l.split("embedded server at ").nth(1))
        .next_back()
        .expect("the log names the embedded server")
        .trim()
        .to_owned();
    let creds: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir.join("demo-operator.json")).expect("credentials"),
    )
    .expect("credentials are JSON");
    let token = creds["token"].as_str().expect("token").to_owned();
    super::Api { url, token }
}
