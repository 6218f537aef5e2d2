//! Logs go to a file, never to the terminal the interface draws on.
//!
//! Log records quote text from the network (titles, error bodies, reasons):
//! whatever the destination, the writer escapes control characters in them
//! so a log read with `cat` or `tail -f` cannot drive the reader's terminal.

use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use deskterm_server::private_files;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{DefaultFields, Format};
use tracing_subscriber::fmt::{MakeWriter, SubscriberBuilder};

/// Sends `tracing` output to `file` (appending), filtered by `level`. The
/// file and any directory created for it are readable by their owner alone.
pub fn to_file(file: &Path, level: &str) -> anyhow::Result<()> {
    let (writer, tightened) = open(file)?;
    init(Mutex::new(writer), level, false)?;
    if let Some(t) = tightened {
        tracing::warn!("{t}");
    }
    Ok(())
}

/// Opens the log file for appending, creating it (`0600`) and its missing
/// directories (`0700`); an existing one loses group and world access.
pub fn open(
    file: &Path,
) -> anyhow::Result<(Neutral<std::fs::File>, Option<private_files::Tightened>)> {
    if let Some(dir) = file.parent() {
        private_files::create_dir(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the log directory {}: {e}", dir.display())
        })?;
    }
    let (writer, tightened) =
        private_files::open(file, OpenOptions::new().create(true).append(true))
            .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", file.display()))?;
    Ok((Neutral::new(writer, false), tightened))
}

/// Sends `tracing` output to standard error (for `deskterm serve`, which has
/// no screen to protect), in colour only when standard error is a terminal.
pub fn to_stderr(level: &str) -> anyhow::Result<()> {
    let colour = io::stderr().is_terminal();
    init(move || Neutral::new(io::stderr(), colour), level, colour)
}

fn init<W>(writer: W, level: &str, colour: bool) -> anyhow::Result<()>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    builder(writer, level, colour)?
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}

type Builder<W> = SubscriberBuilder<DefaultFields, Format, EnvFilter, W>;

/// The one log format of every destination.
fn builder<W>(writer: W, level: &str, colour: bool) -> anyhow::Result<Builder<W>>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("the log level {level:?} is not valid: {e}"))?;
    Ok(tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer))
}

/// A log writer that escapes control characters (C0 but the newline ending
/// a record, DEL, C1) and bidi or line-separator characters, as `\u{1b}`.
/// With `colour`, the formatter's own colour codes (`ESC [ digits ; m`) pass.
pub struct Neutral<W> {
    inner: W,
    colour: bool,
}

impl<W> Neutral<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, colour: bool) -> Self {
        Neutral { inner, colour }
    }
}

impl<W: Write> Write for Neutral<W> {
    /// `buf` is one whole record (the formatter writes each event at once):
    /// only its final newline stays a line break.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let (body, end) = match buf.strip_suffix(b"\n") {
            Some(body) => (body, "\n"),
            None => (buf, ""),
        };
        let mut out = String::with_capacity(buf.len() + 16);
        for chunk in body.utf8_chunks() {
            escape(chunk.valid(), self.colour, &mut out);
            for byte in chunk.invalid() {
                out.push_str(&format!("\\x{{{byte:02x}}}"));
            }
        }
        out.push_str(end);
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn escape(text: &str, colour: bool, out: &mut String) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if colour && c == '\u{1b}' {
            let sgr = sgr_len(rest);
            if sgr > 0 {
                out.push_str(&rest[..sgr]);
                rest = &rest[sgr..];
                continue;
            }
        }
        if c != '\t' && (c.is_control() || is_invisible_layout(c)) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// Length of a colour code (`ESC [ 1 ; 31 m`) at the start of `text`, or 0.
fn sgr_len(text: &str) -> usize {
    let Some(params) = text.strip_prefix("\u{1b}[") else {
        return 0;
    };
    let digits = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    if params.as_bytes().get(digits) == Some(&b'm') {
        2 + digits + 1
    } else {
        0
    }
}

/// Characters that reorder or break what a terminal shows without being controls.
fn is_invisible_layout(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neutral(text: &str, colour: bool) -> String {
        let mut w = Neutral::new(Vec::new(), colour);
        w.write_all(text.as_bytes()).unwrap();
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn controls_are_escaped_and_the_record_keeps_its_newline() {
        assert_eq!(
            neutral("a\u{1b}[2Jb\u{9b}c\u{7}d\ne\u{202e}\n", false),
            "a\\u{1b}[2Jb\\u{9b}c\\u{7}d\\u{a}e\\u{202e}\n"
        );
        assert_eq!(neutral("tab\tok\n", false), "tab\tok\n");
    }

    #[test]
    fn colour_codes_pass_only_on_a_terminal() {
        let record = "\u{1b}[32m INFO\u{1b}[0m x\u{1b}]0;t\u{7}\n";
        assert_eq!(
            neutral(record, true),
            "\u{1b}[32m INFO\u{1b}[0m x\\u{1b}]0;t\\u{7}\n"
        );
        assert!(!neutral(record, false).contains('\u{1b}'));
    }

    #[test]
    fn text_from_the_network_reaches_the_log_file_inert() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("deskterm.log");
        let (writer, _) = open(&file).unwrap();
        let subscriber = builder(Mutex::new(writer), "info", false).unwrap().finish();
        let hostile = [
            "title \u{1b}[2J\u{1b}[31mred",
            "osc \u{1b}]0;owned\u{7} and \u{1b}]8;;http://x\u{1b}\\link",
            "c1 \u{9b}31m \u{9d}0;t\u{9c} \u{85}",
            "shift out \u{e}lqqk\u{f} nul \u{0} cr\roverwritten",
            "forged\n2026-01-01T00:00:00Z  INFO deskterm: token accepted",
            "bidi \u{202e}txt.exe",
        ];
        tracing::subscriber::with_default(subscriber, || {
            for text in hostile {
                tracing::warn!("from the server: {text}");
                tracing::info!(reason = text, "problem");
                tracing::info!(title = ?text, "debug field");
            }
        });
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 3 * hostile.len(), "{text}");
        for (i, c) in text.char_indices() {
            let code = u32::from(c);
            assert!(
                (c == '\n' || !c.is_control()) && !is_invisible_layout(c),
                "control U+{code:04X} at byte {i} of the log:\n{text}"
            );
        }
        assert!(text.contains("\\u{d}overwritten"), "{text}");
    }
}
