//! Terminal bytes → keys and pastes, with every buffer bounded: a key's
//! sequence, a paste's size, and how long a paste may stay open.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::Event;

use super::keys::{self, Parsed};

/// The most a paste keeps; the rest of it is dropped.
pub const PASTE_MAX_BYTES: usize = 1024 * 1024;
/// A paste the terminal stops sending for this long is over, end marker or
/// not: a terminal writes a paste in one go.
pub const PASTE_IDLE: Duration = Duration::from_secs(1);
/// How long an incomplete key (a lone ESC) waits for the rest of its bytes.
pub const KEY_WAIT: Duration = Duration::from_millis(30);
/// No key's sequence is longer; a longer one is garbage and dropped.
const SEQUENCE_MAX_BYTES: usize = 64;

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Decodes the terminal's bytes as they come, in chunks cut anywhere.
#[derive(Debug, Default)]
pub struct Decoder {
    /// The bytes of a key not yet complete.
    pending: Vec<u8>,
    /// A bracketed paste under way.
    paste: Option<Paste>,
    /// When the last byte arrived.
    last_byte: Option<Instant>,
    events: VecDeque<Event>,
}

impl Decoder {
    /// Takes bytes read at `at`. If the decoder had been waiting longer than
    /// it waits by then, what it waited for is given up first.
    pub fn feed(&mut self, bytes: &[u8], at: Instant) {
        if self.deadline().is_some_and(|due| at >= due) {
            self.give_up();
        }
        self.last_byte = Some(at);
        for &byte in bytes {
            self.byte(byte);
        }
    }

    /// The next decoded event.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to give up waiting for the rest of a key or a paste; `None`
    /// when nothing is incomplete, so an idle terminal needs no timer.
    pub fn deadline(&self) -> Option<Instant> {
        let wait = if self.paste.is_some() {
            PASTE_IDLE
        } else if !self.pending.is_empty() {
            KEY_WAIT
        } else {
            return None;
        };
        self.last_byte.map(|at| at + wait)
    }

    /// The terminal went quiet: an incomplete key is taken as it is (a lone
    /// ESC is the Esc key) or dropped, an open paste ends with what came.
    pub fn give_up(&mut self) {
        if let Some(paste) = self.paste.take() {
            tracing::warn!(
                "a paste never ended; {} bytes taken as pasted",
                paste.text.len()
            );
            self.events.push_back(paste.into_event());
        } else if !self.pending.is_empty() {
            if let Parsed::Key(key) = keys::parse(&self.pending, false) {
                self.events.push_back(Event::Key(key));
            }
            self.pending.clear();
        }
    }

    fn byte(&mut self, byte: u8) {
        if let Some(paste) = &mut self.paste {
            if paste.push(byte)
                && let Some(paste) = self.paste.take()
            {
                self.events.push_back(paste.into_event());
            }
            return;
        }
        self.pending.push(byte);
        if self.pending == PASTE_START {
            self.pending.clear();
            self.paste = Some(Paste::default());
            return;
        }
        match keys::parse(&self.pending, true) {
            Parsed::Key(key) => {
                self.events.push_back(Event::Key(key));
                self.pending.clear();
            }
            Parsed::Ignore => self.pending.clear(),
            Parsed::More if self.pending.len() >= SEQUENCE_MAX_BYTES => self.pending.clear(),
            Parsed::More => {}
        }
    }
}

/// A bracketed paste: its text so far, up to [`PASTE_MAX_BYTES`].
#[derive(Debug, Default)]
struct Paste {
    text: Vec<u8>,
    /// How many bytes of the end marker have just been seen; they are kept
    /// out of `text` until a mismatch shows they were text after all.
    matched: usize,
    /// Bytes beyond the cap.
    dropped: usize,
}

impl Paste {
    /// Adds a byte; true when it completed the end marker. The marker has a
    /// single ESC, at its start, so a mismatch can only restart the match at
    /// the byte at hand.
    fn push(&mut self, byte: u8) -> bool {
        if byte == PASTE_END[self.matched] {
            self.matched += 1;
            return self.matched == PASTE_END.len();
        }
        let held = std::mem::take(&mut self.matched);
        for &b in &PASTE_END[..held] {
            self.keep(b);
        }
        if byte == PASTE_END[0] {
            self.matched = 1;
        } else {
            self.keep(byte);
        }
        false
    }

    fn keep(&mut self, byte: u8) {
        if self.text.len() < PASTE_MAX_BYTES {
            self.text.push(byte);
        } else {
            self.dropped += 1;
        }
    }

    fn into_event(self) -> Event {
        if self.dropped > 0 {
            tracing::warn!(
                "a paste of {} bytes was cut to its first {PASTE_MAX_BYTES}",
                self.text.len() + self.dropped
            );
        }
        Event::Paste(String::from_utf8_lossy(&self.text).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;

    fn all(decoder: &mut Decoder) -> Vec<Event> {
        std::iter::from_fn(|| decoder.next_event()).collect()
    }

    fn char_key(c: char) -> Event {
        Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[test]
    fn sequences_cut_between_chunks_are_joined() {
        let mut d = Decoder::default();
        let now = Instant::now();
        d.feed(b"a\x1b[", now);
        assert!(d.deadline().is_some(), "waits for the rest of the key");
        d.feed(b"Bb", now);
        let down = Event::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        assert_eq!(all(&mut d), [char_key('a'), down, char_key('b')]);
        assert_eq!(d.deadline(), None, "nothing to wait for");
    }

    #[test]
    fn a_lone_esc_is_the_esc_key_once_the_terminal_is_quiet() {
        let mut d = Decoder::default();
        let now = Instant::now();
        d.feed(b"\x1b", now);
        assert!(all(&mut d).is_empty());
        // The next byte came after the wait: Esc, then `q` (not Alt-q).
        d.feed(b"q", now + KEY_WAIT * 2);
        let esc = Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(all(&mut d), [esc.clone(), char_key('q')]);
        d.feed(b"\x1b", now);
        d.give_up();
        assert_eq!(all(&mut d), [esc]);
    }

    #[test]
    fn a_paste_is_one_event_whatever_the_chunks() {
        let text = b"line one\r\nline \x1b[2 two \x1b[201";
        let mut stream = PASTE_START.to_vec();
        stream.extend_from_slice(text);
        stream.extend_from_slice(PASTE_END);
        stream.push(b'x');
        for cut in 1..stream.len() {
            let mut d = Decoder::default();
            let now = Instant::now();
            d.feed(&stream[..cut], now);
            d.feed(&stream[cut..], now);
            let expected = Event::Paste(String::from_utf8_lossy(text).into_owned());
            assert_eq!(all(&mut d), [expected, char_key('x')], "cut at {cut}");
        }
    }

    #[test]
    fn a_paste_keeps_at_most_its_cap() {
        let mut d = Decoder::default();
        let now = Instant::now();
        d.feed(PASTE_START, now);
        let chunk = vec![b'p'; 64 * 1024];
        for _ in 0..(PASTE_MAX_BYTES / chunk.len() + 4) {
            d.feed(&chunk, now);
        }
        d.feed(PASTE_END, now);
        d.feed(b"k", now);
        let events = all(&mut d);
        assert_eq!(events.len(), 2);
        match &events[0] {
            Event::Paste(text) => assert_eq!(text.len(), PASTE_MAX_BYTES),
            other => panic!("not a paste: {other:?}"),
        }
        assert_eq!(events[1], char_key('k'));
    }

    #[test]
    fn a_paste_that_never_ends_ends_when_the_terminal_goes_quiet() {
        let mut d = Decoder::default();
        let now = Instant::now();
        d.feed(b"\x1b[200~half", now);
        assert!(all(&mut d).is_empty());
        assert_eq!(d.deadline(), Some(now + PASTE_IDLE));
        // Keys typed after the pause are keys again.
        d.feed(b"j", now + PASTE_IDLE);
        assert_eq!(all(&mut d), [Event::Paste("half".into()), char_key('j')]);
    }

    #[test]
    fn an_endless_escape_sequence_is_dropped() {
        let mut d = Decoder::default();
        let now = Instant::now();
        let mut garbage = b"\x1b[".to_vec();
        garbage.extend(std::iter::repeat_n(b'1', 10_000));
        d.feed(&garbage, now);
        d.feed(b"j", now);
        let events = all(&mut d);
        // Whatever the garbage became, it is bounded and `j` gets through.
        assert_eq!(events.last(), Some(&char_key('j')));
        assert!(d.pending.len() < SEQUENCE_MAX_BYTES);
    }
}
