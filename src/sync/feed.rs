//! Follows the backend's change feed: a full load, then live changes from the
//! cursor of that load, reconnecting with backoff when the link drops.

use std::sync::Arc;
use std::time::Duration;

use deskterm_api::{Change, ChangeKind};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{Connection, Events, SyncEvent, all_tickets};
use crate::backend::{Backend, BackendError, BackendResult, LiveEvent};

/// How often a backend without live push is polled.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Why the live phase ended.
enum Next {
    /// Load everything again.
    Reload,
}

/// Runs until aborted.
pub(super) async fn follow(
    backend: Arc<dyn Backend>,
    events: Events,
    mut reload: mpsc::UnboundedReceiver<()>,
) {
    let mut backoff = Backoff::default();
    loop {
        let since = match load_everything(backend.as_ref(), &events).await {
            Ok(since) => since,
            Err(e) => {
                report_broken(&events, &e);
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        backoff.reset();
        let Next::Reload = follow_changes(backend.as_ref(), &events, since, &mut reload).await;
    }
}

fn report_broken(events: &Events, e: &BackendError) {
    tracing::warn!("sync: {e}");
    events.send(SyncEvent::Connection(Connection::Reconnecting {
        reason: e.to_string(),
    }));
}

/// Loads operator, metadata and every ticket; returns the feed cursor taken
/// *before* the tickets were read, so no change made meanwhile is missed
/// (replaying one twice is harmless: the UI keeps the newest version).
async fn load_everything(backend: &dyn Backend, events: &Events) -> BackendResult<i64> {
    let me = backend.me().await?;
    let since = backend.changes(0, 1).await?.latest_seq;
    let meta = backend.meta().await?;
    let tickets = all_tickets(backend).await?;
    events.send(SyncEvent::SignedIn(me));
    events.send(SyncEvent::Meta(meta));
    events.send(SyncEvent::Snapshot(tickets));
    Ok(since)
}

/// Applies changes from `since` on, until a reload is needed.
async fn follow_changes(
    backend: &dyn Backend,
    events: &Events,
    mut since: i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> Next {
    let mut backoff = Backoff::default();
    loop {
        let outcome = if backend.capabilities().live_push {
            stream_changes(backend, events, &mut since, reload, &mut backoff).await
        } else {
            poll_changes(backend, events, &mut since, reload, &mut backoff).await
        };
        match outcome {
            Ok(next) => return next,
            Err(e) => {
                report_broken(events, &e);
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_delay()) => {}
                    Some(()) = reload.recv() => return Next::Reload,
                }
            }
        }
    }
}

async fn stream_changes(
    backend: &dyn Backend,
    events: &Events,
    since: &mut i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
    backoff: &mut Backoff,
) -> BackendResult<Next> {
    let mut stream = backend.live(*since).await?;
    events.send(SyncEvent::Connection(Connection::Connected));
    backoff.reset();
    loop {
        tokio::select! {
            item = stream.next() => match item {
                None => return Err(BackendError::Network("the live stream ended".into())),
                Some(Err(e)) => return Err(e),
                Some(Ok(LiveEvent::Resync { .. })) => return Ok(Next::Reload),
                Some(Ok(LiveEvent::Change(change))) => {
                    if change.seq > *since {
                        *since = change.seq;
                        apply(backend, events, change).await;
                    }
                }
            },
            Some(()) = reload.recv() => return Ok(Next::Reload),
        }
    }
}

async fn poll_changes(
    backend: &dyn Backend,
    events: &Events,
    since: &mut i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
    backoff: &mut Backoff,
) -> BackendResult<Next> {
    loop {
        let page = backend
            .changes(*since, deskterm_api::PAGE_LIMIT_MAX)
            .await?;
        if page.resync {
            return Ok(Next::Reload);
        }
        events.send(SyncEvent::Connection(Connection::Connected));
        backoff.reset();
        let full = page.changes.len() >= deskterm_api::PAGE_LIMIT_MAX as usize;
        for change in page.changes {
            if change.seq > *since {
                *since = change.seq;
                apply(backend, events, change).await;
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            Some(()) = reload.recv() => return Ok(Next::Reload),
        }
    }
}

async fn apply(backend: &dyn Backend, events: &Events, change: Change) {
    match change.kind {
        ChangeKind::TicketUpserted(t) => events.send(SyncEvent::TicketChanged(t)),
        ChangeKind::TicketDeleted { id } => events.send(SyncEvent::TicketDeleted(id)),
        ChangeKind::NoteAdded(n) => events.send(SyncEvent::NoteAdded(n)),
        ChangeKind::MessageAdded(m) => events.send(SyncEvent::MessageAdded(m)),
        ChangeKind::MetaChanged => match backend.meta().await {
            Ok(meta) => events.send(SyncEvent::Meta(meta)),
            Err(e) => events.send(SyncEvent::Error(format!(
                "statuses and categories not refreshed: {e}"
            ))),
        },
    }
}

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s, ±25 %.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base_ms = 500u64.saturating_mul(1 << self.attempt.min(6)).min(30_000);
        self.attempt = self.attempt.saturating_add(1);
        // Jitter spreads reconnecting clients so a restarted server is not hit by all at once.
        let random = uuid::Uuid::new_v4().as_u128() as u64;
        let spread = base_ms / 2;
        let jitter = if spread == 0 { 0 } else { random % spread };
        Duration::from_millis(base_ms - base_ms / 4 + jitter)
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_resets() {
        let mut b = Backoff::default();
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(375) && first < Duration::from_millis(625));
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(d <= Duration::from_millis(37_500), "{d:?}");
        }
        let late = b.next_delay();
        assert!(late >= Duration::from_millis(22_500));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(625));
    }
}
