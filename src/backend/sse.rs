//! A bounded parser for Server-Sent Events (the WHATWG `text/event-stream` format).
//!
//! The live stream comes from a server the client does not control: one line
//! without a newline must not grow the client without limit. The parser
//! therefore holds at most [`MAX_EVENT_BYTES`] of a stream at any time (the
//! line being read plus the event being assembled) and fails for good when a
//! line or an event would be larger. Every byte is looked at once: a line is
//! searched for its end only in the bytes that have just arrived.

use std::collections::VecDeque;
use std::fmt;

/// The most a line, or a whole event with the line being read, may hold.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its type (`event:`); `message` when the server named none.
    pub event: String,
    /// Its data: the `data:` lines joined with `\n`.
    pub data: String,
}

/// What the parser found in the bytes given to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete event.
    Event(Event),
    /// A comment line (`:` …): servers send them to keep an idle stream open.
    Comment,
}

/// The stream sent a line or an event larger than [`MAX_EVENT_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the live stream sent an event larger than 1 MiB")
    }
}

impl std::error::Error for TooLarge {}

/// Parses an event stream given in chunks of any size.
#[derive(Debug, Default)]
pub struct Parser {
    /// The line being read, when it did not end in the last chunk.
    line: Vec<u8>,
    /// The last chunk ended in CR: a LF at the start of the next one belongs to it.
    after_cr: bool,
    /// At least one line has ended (a byte order mark is only skipped before the first).
    past_first_line: bool,
    /// `data:` lines of the event being assembled, each followed by `\n`.
    data: String,
    /// `event:` of the event being assembled.
    event: String,
    /// The last event id.
    id: String,
    /// The reconnection time the server asked for (`retry:`), in milliseconds.
    retry: Option<u64>,
    /// A size error happened; the stream cannot be read any further.
    failed: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `chunk`, appending every complete frame to `out`. After an
    /// error, frames found before it are in `out` and every later call fails.
    pub fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Frame>) -> Result<(), TooLarge> {
        if self.failed {
            return Err(TooLarge);
        }
        let result = self.feed_inner(chunk, out);
        if result.is_err() {
            // Nothing more will be read: give the memory back.
            *self = Parser {
                failed: true,
                ..Parser::default()
            };
        }
        result
    }

    fn feed_inner(&mut self, chunk: &[u8], out: &mut VecDeque<Frame>) -> Result<(), TooLarge> {
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (piece, ending) = (&rest[..end], rest[end]);
            rest = &rest[end + 1..];
            if ending == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                // The whole line is in this chunk: no copy needed.
                self.check_room(piece.len())?;
                self.line_ended(piece, out)?;
            } else {
                self.buffer(piece)?;
                let line = std::mem::take(&mut self.line);
                self.line_ended(&line, out)?;
                // Keep the allocation for the next partial line.
                self.line = line;
                self.line.clear();
            }
        }
        self.buffer(rest)
    }

    /// Fails when `more` bytes of line would not fit next to what is held already.
    fn check_room(&self, more: usize) -> Result<(), TooLarge> {
        let held = self.line.len() + self.data.len() + self.event.len() + self.id.len();
        if held.saturating_add(more) > MAX_EVENT_BYTES {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }

    /// Keeps the start of a line that has not ended yet.
    fn buffer(&mut self, bytes: &[u8]) -> Result<(), TooLarge> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.check_room(bytes.len())?;
        let needed = self.line.len() + bytes.len();
        if needed > self.line.capacity() {
            // Grow by doubling, but never past the cap.
            let target = needed.max(self.line.capacity() * 2).min(MAX_EVENT_BYTES);
            self.line.reserve_exact(target - self.line.len());
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Handles one complete line (without its ending).
    fn line_ended(&mut self, line: &[u8], out: &mut VecDeque<Frame>) -> Result<(), TooLarge> {
        let mut line = line;
        if !self.past_first_line {
            self.past_first_line = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            // A run of comments says no more than one does.
            if out.back() != Some(&Frame::Comment) {
                out.push_back(Frame::Comment);
            }
            return Ok(());
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        // Line endings are ASCII and never inside a UTF-8 sequence, so decoding
        // line by line equals decoding the whole stream.
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => {
                self.event.clear();
                self.check_room(value.len())?;
                self.event.push_str(&value);
            }
            b"data" => {
                self.check_room(value.len() + 1)?;
                let needed = self.data.len() + value.len() + 1;
                if needed > self.data.capacity() {
                    // Grow by doubling, but never past the cap.
                    let target = needed.max(self.data.capacity() * 2).min(MAX_EVENT_BYTES);
                    self.data.reserve_exact(target - self.data.len());
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            // An id with NUL is ignored.
            b"id" if !value.contains('\0') => {
                self.id.clear();
                self.check_room(value.len())?;
                self.id.push_str(&value);
            }
            // Only digits; too many for a u64 is as good as "forever".
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
        Ok(())
    }

    /// An empty line: the event assembled so far is complete.
    fn dispatch(&mut self, out: &mut VecDeque<Frame>) {
        let event = std::mem::take(&mut self.event);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        out.push_back(Frame::Event(Event {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
        }));
    }

    /// The last event id the stream sent (`id:`), empty when none. The
    /// client follows its own cursor (the change seq); this is for tests and logs.
    pub fn last_event_id(&self) -> &str {
        &self.id
    }

    /// The reconnection time the server asked for, in milliseconds. The
    /// client keeps its own backoff: a server cannot make it reconnect in a loop.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Bytes of the stream held now; never more than [`MAX_EVENT_BYTES`].
    pub fn held(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len() + self.id.len()
    }

    /// Memory reserved for the line being read and the data being assembled;
    /// neither is ever more than [`MAX_EVENT_BYTES`].
    pub fn capacity(&self) -> (usize, usize) {
        (self.line.capacity(), self.data.capacity())
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
