//! A bounded reader of newline-delimited JSON: one document per line.
//!
//! The ticket export comes from a server the client does not control: one
//! line without an end must not grow the client without limit. The reader
//! holds at most one unfinished line, of at most its `max` bytes, and fails
//! for good when a line would be longer. A line that arrives whole in one
//! chunk is handed over without a copy, and every byte is looked at once.

use std::fmt;

/// A line longer than the reader's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong {
    /// The limit, in bytes.
    pub max: usize,
}

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a line of the stream is longer than {} bytes", self.max)
    }
}

impl std::error::Error for LineTooLong {}

/// Splits a stream given in chunks of any size into lines.
#[derive(Debug)]
pub struct LineReader {
    /// The line being read, when it did not end in the last chunk.
    partial: Vec<u8>,
    /// The longest line allowed, without its line ending.
    max: usize,
    /// A line was too long; nothing more is read.
    failed: bool,
}

impl LineReader {
    /// A reader at the start of a stream, refusing lines longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        LineReader {
            partial: Vec::new(),
            max,
            failed: false,
        }
    }

    /// Reads `chunk`, calling `line` with each line it completes (without its
    /// `\n` or `\r\n`; blank lines included) and keeping an unfinished last
    /// line for the next chunk. Stops at the first error, from `line` or
    /// [`LineTooLong`]; after a [`LineTooLong`] every later call fails too.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        mut line: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<LineTooLong>,
    {
        let too_long = LineTooLong { max: self.max };
        if self.failed {
            return Err(too_long.into());
        }
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let piece = &rest[..end];
            rest = &rest[end + 1..];
            if self.partial.is_empty() {
                // The whole line is in this chunk: no copy needed.
                let whole = trim_cr(piece);
                self.check(whole.len(), self.max)?;
                line(whole)?;
            } else {
                // `max + 1`: the `\r` of a `\r\n` may be part of it.
                self.check(self.partial.len() + piece.len(), self.max + 1)?;
                self.partial.extend_from_slice(piece);
                let whole = std::mem::take(&mut self.partial);
                let checked = self.check(trim_cr(&whole).len(), self.max);
                let result = checked
                    .map_err(E::from)
                    .and_then(|()| line(trim_cr(&whole)));
                // Keep the allocation for the next unfinished line.
                if !self.failed {
                    self.partial = whole;
                    self.partial.clear();
                }
                result?;
            }
        }
        if !rest.is_empty() {
            self.check(self.partial.len() + rest.len(), self.max + 1)?;
            self.partial.extend_from_slice(rest);
        }
        Ok(())
    }

    /// Bytes of a line that has not ended yet: a stream that stops with some
    /// was cut in the middle of a line.
    pub fn unfinished(&self) -> usize {
        self.partial.len()
    }

    /// Fails for good when `len` is over `max`.
    fn check(&mut self, len: usize, max: usize) -> Result<(), LineTooLong> {
        if len <= max {
            return Ok(());
        }
        self.failed = true;
        // Nothing more will be read: give the memory back.
        self.partial = Vec::new();
        Err(LineTooLong { max: self.max })
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Stop {
        TooLong,
        Refused(String),
    }

    impl From<LineTooLong> for Stop {
        fn from(_: LineTooLong) -> Stop {
            Stop::TooLong
        }
    }

    /// Every line of `chunks` read in order, and how the reading ended.
    fn read(max: usize, chunks: &[&[u8]]) -> (Vec<String>, Result<(), Stop>, usize) {
        let mut reader = LineReader::new(max);
        let mut lines = Vec::new();
        for chunk in chunks {
            let fed = reader.feed(chunk, |l| {
                lines.push(String::from_utf8_lossy(l).into_owned());
                Ok::<(), Stop>(())
            });
            if fed.is_err() {
                return (lines, fed, reader.unfinished());
            }
        }
        let left = reader.unfinished();
        (lines, Ok(()), left)
    }

    #[test]
    fn lines_come_out_whatever_the_chunking() {
        let text = b"{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}\n";
        for split in 0..text.len() {
            for second in split..text.len() {
                let parts: [&[u8]; 3] = [&text[..split], &text[split..second], &text[second..]];
                let (lines, end, left) = read(64, &parts);
                assert_eq!(
                    lines,
                    ["{\"a\":1}", "", "{\"b\":2}", "{\"c\":3}"],
                    "{split}/{second}"
                );
                assert_eq!((end, left), (Ok(()), 0));
            }
        }
    }

    #[test]
    fn a_stream_cut_mid_line_leaves_the_line_unfinished() {
        let (lines, end, left) = read(64, &[b"{\"a\":1}\n{\"b\"", b":2"]);
        assert_eq!(lines, ["{\"a\":1}"]);
        assert_eq!((end, left), (Ok(()), 6));
    }

    #[test]
    fn a_line_at_the_limit_passes_one_past_it_fails_for_good() {
        let (lines, end, _) = read(4, &[b"abcd\nab", b"cd\r\n"]);
        assert_eq!(lines, ["abcd", "abcd"]);
        assert_eq!(end, Ok(()));
        // Whole in one chunk, split over chunks, or never ending.
        for chunks in [
            &[&b"abcde\n"[..]][..],
            &[b"abc", b"de\n"],
            &[b"ab", b"cd", b"ef", b"gh"],
        ] {
            let (lines, end, left) = read(4, chunks);
            assert!(lines.is_empty(), "{chunks:?}");
            assert_eq!((end, left), (Err(Stop::TooLong), 0), "{chunks:?}");
        }
        let mut reader = LineReader::new(2);
        let ok = |_: &[u8]| Ok::<(), Stop>(());
        assert_eq!(reader.feed(b"abc\n", ok), Err(Stop::TooLong));
        assert_eq!(
            reader.feed(b"a\n", ok),
            Err(Stop::TooLong),
            "failed for good"
        );
    }

    #[test]
    fn a_refused_line_stops_the_reading() {
        let mut reader = LineReader::new(64);
        let mut seen = Vec::new();
        let fed = reader.feed(b"one\ntwo\nthree\n", |l| {
            seen.push(l.to_vec());
            if l == b"two" {
                Err(Stop::Refused("two".into()))
            } else {
                Ok(())
            }
        });
        assert_eq!(fed, Err(Stop::Refused("two".into())));
        assert_eq!(seen, [b"one".to_vec(), b"two".to_vec()]);
    }
}
