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
//!
//! The thread waits in `poll(2)` on the terminal and on a wake-up socket:
//! [`Keyboard::pause`] stops it reading while another program (the
//! operator's `$EDITOR`) has the terminal, so no key meant for that program
//! is taken, and no timer wakes the thread while nothing happens.

mod decoder;
mod keys;

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

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

/// How long [`Keyboard::pause`] waits for the reader to stop.
const PAUSE_WAIT: Duration = Duration::from_secs(2);

/// Keys and pastes from the controlling terminal.
pub struct Keyboard {
    chunks: mpsc::Receiver<Chunk>,
    decoder: Decoder,
    /// Wakes the reader to pause it.
    wake: UnixStream,
    /// The reader says it stopped reading.
    paused: std_mpsc::Receiver<()>,
    /// Lets a paused reader read again.
    resume: std_mpsc::Sender<()>,
}

/// The reader's side of pausing.
struct Pausing {
    wake: UnixStream,
    paused: std_mpsc::Sender<()>,
    resume: std_mpsc::Receiver<()>,
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
        let (wake, wake_reader) = UnixStream::pair()
            .map_err(|e| anyhow::anyhow!("cannot set up reading the terminal: {e}"))?;
        let (paused_tx, paused) = std_mpsc::channel();
        let (resume, resume_rx) = std_mpsc::channel();
        let pausing = Pausing {
            wake: wake_reader,
            paused: paused_tx,
            resume: resume_rx,
        };
        std::thread::Builder::new()
            .name("keyboard".into())
            .spawn(move || read_terminal(tty, sender, pausing))
            .map_err(|e| anyhow::anyhow!("cannot start reading the terminal: {e}"))?;
        Ok(Keyboard {
            chunks,
            decoder: Decoder::default(),
            wake,
            paused,
            resume,
        })
    }

    /// Stops reading the terminal until [`Keyboard::resume`], so another
    /// program can have its keys. Keys read before stay queued here.
    pub fn pause(&mut self) -> anyhow::Result<()> {
        self.wake
            .write_all(&[1])
            .map_err(|e| anyhow::anyhow!("cannot pause reading the terminal: {e}"))?;
        self.paused
            .recv_timeout(PAUSE_WAIT)
            .map_err(|e| anyhow::anyhow!("the terminal reader did not pause: {e}"))
    }

    /// Reads the terminal again after [`Keyboard::pause`].
    pub fn resume(&mut self) {
        let _ = self.resume.send(());
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

/// The reader thread: waits until the terminal has bytes (or it is asked
/// to pause), and passes on all it got. Ends when the terminal or the
/// interface is gone.
fn read_terminal(mut tty: File, sender: mpsc::Sender<Chunk>, mut pausing: Pausing) {
    let mut buf = vec![0u8; READ_BYTES];
    loop {
        let (tty_ready, wake_ready) = {
            let mut fds = [
                PollFd::new(&tty, PollFlags::IN),
                PollFd::new(&pausing.wake, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) => (!fds[0].revents().is_empty(), !fds[1].revents().is_empty()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    let _ = sender.blocking_send(Err(e.into()));
                    return;
                }
            }
        };
        if wake_ready {
            let mut byte = [0u8; 1];
            if !matches!(pausing.wake.read(&mut byte), Ok(1)) {
                // The interface is gone.
                return;
            }
            if pausing.paused.send(()).is_err() || pausing.resume.recv().is_err() {
                return;
            }
            continue;
        }
        if !tty_ready {
            continue;
        }
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
