//! Puts the terminal into raw mode on the alternate screen, and always puts
//! it back: on return, on error, on panic, and on SIGTERM/SIGHUP (handled by
//! the event loop, which then returns normally).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is currently in raw mode by our doing.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The terminal, restored when dropped.
pub struct TerminalGuard {
    /// The ratatui terminal.
    pub terminal: Terminal<CrosstermBackend<Frames>>,
}

/// A symbol no frame draws (U+2400, the picture of NUL).
const UNSEEN: &str = "\u{2400}";

/// Hides the cursor (what every frame of ours ends with).
const HIDE_CURSOR: &[u8] = b"\x1b[?25l";
/// What the renderer writes after the cells of every frame: colours,
/// underline colour and attributes back to the defaults.
const STYLE_RESET: &[u8] = b"\x1b[39m\x1b[49m\x1b[59m\x1b[0m";
/// Shows the cursor.
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
/// Synchronized output (DEC 2026): the terminal shows a frame whole.
const BEGIN_FRAME: &[u8] = b"\x1b[?2026h";
const END_FRAME: &[u8] = b"\x1b[?2026l";

/// Standard output, a frame at a time: what the renderer writes is held
/// until [`Frames::commit`], then sent in one synchronized update, or not
/// at all when the frame changed nothing (a no-op key writes no byte).
pub struct Frames {
    out: io::Stdout,
    pending: Vec<u8>,
    cursor_hidden: bool,
}

impl Frames {
    fn new(out: io::Stdout) -> Frames {
        Frames {
            out,
            pending: Vec::new(),
            cursor_hidden: true,
        }
    }

    /// Writes `bytes` to the terminal now, between frames (a bell, a desktop
    /// notification); nothing for no bytes.
    pub fn send_now(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.out.write_all(bytes)?;
        self.out.flush()
    }

    /// Sends the frame written since the last commit, if it changes anything.
    pub fn commit(&mut self) -> io::Result<()> {
        let frame = std::mem::take(&mut self.pending);
        let hides = rfind(&frame, HIDE_CURSOR);
        let shows = rfind(&frame, SHOW_CURSOR);
        let ends_hidden = match (hides, shows) {
            (Some(h), Some(s)) => h > s,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => self.cursor_hidden,
        };
        // A frame without a changed cell is the renderer's closing style
        // reset and hiding a cursor that is hidden already: it changes nothing.
        let rest = frame.strip_prefix(STYLE_RESET).unwrap_or(&frame);
        let idle = rest.is_empty() || (rest == HIDE_CURSOR && self.cursor_hidden);
        self.cursor_hidden = ends_hidden;
        if idle {
            return Ok(());
        }
        self.out.write_all(BEGIN_FRAME)?;
        self.out.write_all(&frame)?;
        self.out.write_all(END_FRAME)?;
        self.out.flush()
    }
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

impl Write for Frames {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Held until the frame is committed.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and installs the panic hook.
    pub fn enter() -> anyhow::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()
            .map_err(|e| anyhow::anyhow!("cannot switch the terminal to raw mode: {e}"))?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            anyhow::bail!("cannot set up the terminal: {e}");
        }
        let terminal = Terminal::new(CrosstermBackend::new(Frames::new(stdout))).map_err(|e| {
            restore();
            anyhow::anyhow!("cannot set up the terminal: {e}")
        })?;
        Ok(TerminalGuard { terminal })
    }
}

impl TerminalGuard {
    /// Gives the terminal back as it was (cooked mode, main screen) while
    /// another program uses it; [`TerminalGuard::resume`] takes it again.
    pub fn suspend(&mut self) {
        restore();
    }

    /// Takes the terminal again after [`TerminalGuard::suspend`]; the next
    /// frame is drawn whole.
    pub fn resume(&mut self) -> anyhow::Result<()> {
        enable_raw_mode()
            .map_err(|e| anyhow::anyhow!("cannot switch the terminal to raw mode: {e}"))?;
        ACTIVE.store(true, Ordering::SeqCst);
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )
        .map_err(|e| anyhow::anyhow!("cannot set up the terminal: {e}"))?;
        // `Terminal::clear` would ask the terminal where its cursor is, and
        // the answer would come in as keys. Instead a frame of a symbol no
        // screen shows is drawn and never sent: the next frame differs from
        // it in every cell, so all of it is written onto the fresh screen.
        self.terminal.draw(|frame| {
            for cell in frame.buffer_mut().content.iter_mut() {
                cell.set_symbol(UNSEEN);
            }
        })?;
        let frames = self.terminal.backend_mut().writer_mut();
        frames.pending.clear();
        frames.cursor_hidden = true;
        Ok(())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen. Safe to call twice; errors are
/// ignored because the terminal may already be gone (an SSH drop).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut stdout = io::stdout();
        let _ = execute!(
            stdout,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = disable_raw_mode();
        let _ = stdout.flush();
    }
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Restore first, so the message is readable and the shell usable.
        restore();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}
