//! A connection's signs of life: the stream records when a byte last moved
//! either way and whether the client ever sent one, so the server can close
//! connections that stalled, and at its cap make room by closing one that
//! never said anything.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// When a byte last moved on a connection, shared between its stream, its
/// connection task and the accept loop.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    start: Instant,
    /// Milliseconds after `start`.
    last: Arc<AtomicU64>,
    /// Whether the client has sent a byte yet.
    heard: Arc<AtomicBool>,
    /// Asks the connection to close.
    close: Arc<Notify>,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
            heard: Arc::new(AtomicBool::new(false)),
            close: Arc::new(Notify::new()),
        }
    }

    /// Whether the client has not sent a single byte yet.
    pub(crate) fn silent(&self) -> bool {
        !self.heard.load(Ordering::Relaxed)
    }

    /// Whether the connection task is gone (only the caller holds this).
    pub(crate) fn ended(&self) -> bool {
        Arc::strong_count(&self.close) == 1
    }

    /// Asks the connection to close.
    pub(crate) fn evict(&self) {
        self.close.notify_one();
    }

    /// Resolves once the connection is asked to close.
    pub(crate) async fn evicted(&self) {
        self.close.notified().await;
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }

    /// How long nothing has moved.
    pub(crate) fn still_for(&self) -> Duration {
        let last = self.start + Duration::from_millis(self.last.load(Ordering::Relaxed));
        Instant::now().saturating_duration_since(last)
    }

    /// Resolves once nothing has moved for `idle`.
    pub(crate) async fn stalled(&self, idle: Duration) {
        loop {
            let still = self.still_for();
            if still >= idle {
                return;
            }
            tokio::time::sleep(idle - still).await;
        }
    }
}

/// A stream that records its activity.
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    activity: Activity,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, activity: Activity) -> Watched<S> {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.heard.store(true, Ordering::Relaxed);
            self.activity.touch();
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_stream_is_stalled_only_once_nothing_moves() {
        let idle = Duration::from_secs(2);
        let (near, mut far) = tokio::io::duplex(64);
        let activity = Activity::new();
        let mut watched = Watched::new(near, activity.clone());
        let talk = async {
            for _ in 0..60 {
                watched.write_all(b"x").await.unwrap();
                let mut byte = [0u8; 1];
                far.read_exact(&mut byte).await.unwrap();
                far.write_all(b"y").await.unwrap();
                watched.read_exact(&mut byte).await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            () = talk => {}
            () = activity.stalled(idle) => panic!("a stream moving every 50 ms counted as stalled"),
        }
        let waited = tokio::time::timeout(Duration::from_secs(30), activity.stalled(idle)).await;
        assert!(waited.is_ok(), "a still stream never counted as stalled");
        assert!(activity.still_for() >= idle);
    }
}
