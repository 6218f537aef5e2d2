//! A panic inside the interface must leave the terminal usable: raw mode
//! off, main screen back, cursor shown, and the panic message readable.
//!
//! This test binary plays both parts: run by `cargo test`, it starts itself
//! again in a pseudo-terminal as the child that enters the interface's
//! terminal mode and panics; then it reads the screen the child left.

use std::io::Read;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const CHILD: &str = "DESKTERM_TEST_PANIC_CHILD";

fn main() {
    if std::env::var_os(CHILD).is_some() {
        child();
    } else {
        parent();
        println!("1 passed, 0 failed");
    }
}

/// Enters the interface's terminal mode and panics; then reports whether
/// the terminal line is back in cooked mode.
fn child() {
    let outcome = std::panic::catch_unwind(|| {
        let _guard = deskterm::tui::terminal::TerminalGuard::enter().expect("enter the terminal");
        panic!("boom: a bug in the interface");
    });
    assert!(outcome.is_err());
    // SAFETY: tcgetattr on our own standard input, into a zeroed struct it fills.
    let cooked = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(0, &mut t) == 0
            && t.c_lflag & libc::ICANON != 0
            && t.c_lflag & libc::ECHO != 0
    };
    println!("COOKED={cooked}");
    std::process::exit(3);
}

fn parent() {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 100,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = CommandBuilder::new(exe);
    cmd.env(CHILD, "1");
    cmd.env("TERM", "xterm-256color");
    cmd.env("RUST_BACKTRACE", "0");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn the child");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the child did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status.exit_code(), 3, "the child ran to its end");
    let bytes = output.lock().unwrap().clone();
    let mut screen = vt100::Parser::new(30, 100, 0);
    screen.process(&bytes);
    let text = screen.screen().contents();
    assert!(
        !screen.screen().alternate_screen(),
        "left on the alternate screen:\n{text}"
    );
    assert!(!screen.screen().hide_cursor(), "the cursor is still hidden");
    assert!(
        text.contains("boom: a bug in the interface"),
        "the panic message is readable:\n{text}"
    );
    assert!(
        text.contains("COOKED=true"),
        "raw mode is off after the panic:\n{text}"
    );
}
