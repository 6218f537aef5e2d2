//! The keyboard: bytes from the terminal, read as they come, decoded into
//! keys and pastes.
//!
//! Why not crossterm's `EventStream`: its Unix event source (0.29,
//! `event/source/unix/mio.rs`) registers the tty with mio, which is
//! edge-triggered, reads at most 1 KiB per wake-up and returns as soon as
//! that KiB yields one event. The bytes left in the tty queue raise no new
//! edge, so after a burst of more than 1 KiB (an unbracketed paste, a held
//! key) they stay unread until the next key arrives — and that key only
//! frees the next KiB. Polling again with a zero timeout, or reading in a
//! thread with `event::read()`, goes through the same source and waits for
//! the same edge. Its parser also buffers a bracketed paste until the end
//! marker, without limit (crossterm issue #1060): a lost `ESC [ 201 ~`
//! swallows every later key. So this module owns the tty: a thread blocks in
//! `read(2)`, which returns whatever is queued, so nothing can be left
//! behind; the [`decoder`] bounds every buffer.

mod decoder;
mod keys;

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::os::fd::AsFd;
use std::time::Instant;

use crossterm::event::Event;
use tokio::sync::mpsc;

use decoder::Decoder;

/// Bytes per read: a large paste is taken in a few reads, not hundreds.
const READ_BYTES: usize = 64 * 1024;
/// Chunks read ahead of the interface; then the reader waits, and the
/// terminal holds the rest.
const CHUNKS_AHEAD: usize = 16;

/// What the reader thread read, and when.
type Chunk = io::Result<(Instant, Vec<u8>)>;

/// Keys and pastes from the controlling terminal.
pub struct Keyboard {
    chunks: mpsc::Receiver<Chunk>,
    decoder: Decoder,
}

impl Keyboard {
    /// Starts reading the terminal: standard input when it is one (the
    /// terminal raw mode was set on), else the controlling terminal, as
    /// crossterm chooses. Reads block, so no file flag is changed under the
    /// shell that shares the terminal.
    pub fn open() -> anyhow::Result<Keyboard> {
        let tty = if io::stdin().is_terminal() {
            io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(File::from)
                .map_err(|e| anyhow::anyhow!("cannot read keys from the terminal: {e}"))?
        } else {
            File::open("/dev/tty")
                .map_err(|e| anyhow::anyhow!("cannot open the terminal (/dev/tty) for keys: {e}"))?
        };
        let (sender, chunks) = mpsc::channel(CHUNKS_AHEAD);
        std::thread::Builder::new()
            .name("keyboard".into())
            .spawn(move || read_terminal(tty, sender))
            .map_err(|e| anyhow::anyhow!("cannot start reading the terminal: {e}"))?;
        Ok(Keyboard {
            chunks,
            decoder: Decoder::default(),
        })
    }

    /// The next key or paste; `None` once the terminal is gone. Cancel-safe:
    /// bytes taken from the reader are decoded before anything else awaits.
    pub async fn next(&mut self) -> Option<io::Result<Event>> {
        loop {
            if let Some(event) = self.decoder.next_event() {
                return Some(Ok(event));
            }
            let chunk = match self.decoder.deadline() {
                None => self.chunks.recv().await,
                Some(due) => {
                    match tokio::time::timeout_at(
                        tokio::time::Instant::from_std(due),
                        self.chunks.recv(),
                    )
                    .await
                    {
                        Ok(chunk) => chunk,
                        // Bytes read in time but not yet taken still count.
                        Err(_) => match self.chunks.try_recv() {
                            Ok(chunk) => Some(chunk),
                            Err(mpsc::error::TryRecvError::Empty) => {
                                self.decoder.give_up();
                                continue;
                            }
                            Err(mpsc::error::TryRecvError::Disconnected) => None,
                        },
                    }
                }
            };
            match chunk? {
                Ok((at, bytes)) => self.decoder.feed(&bytes, at),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// A key or paste already decoded, without waiting.
    pub fn ready(&mut self) -> Option<Event> {
        self.decoder.next_event()
    }
}

/// The reader thread: blocks in `read(2)` until the terminal has bytes, and
/// passes on all it got. Ends when the terminal or the interface is gone.
/// It can not be woken from `read`; the process exits soon after the
/// interface anyway.
fn read_terminal(mut tty: File, sender: mpsc::Sender<Chunk>) {
    let mut buf = vec![0u8; READ_BYTES];
    loop {
        let chunk = match tty.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => Ok((Instant::now(), buf[..n].to_vec())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if sender.blocking_send(chunk).is_err() || failed {
            return;
        }
    }
}
