//! Follows the backend's change feed: from the cached cursor when there is
//! one, otherwise after a full load; live changes from then on, written to
//! the cache before they are shown; reconnecting with backoff when the link
//! drops, and reloading in full when the server says the cursor is too old.

use std::sync::Arc;
use std::time::Duration;

use deskterm_api::{Change, ChangeKind};
use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc};

use super::cache::Cache;
use super::{Connection, Events, SyncEvent, all_tickets};
use crate::backend::{Backend, BackendError, BackendResult, LiveEvent};

/// How often a backend without live push is polled.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Failures in a row after which the status says offline rather than reconnecting.
const OFFLINE_AFTER: u32 = 3;

/// Why the live phase ended.
enum Next {
    /// Load everything again.
    Reload,
}

/// Counts failures in a row and tells the UI how the link is doing.
struct Link<'a> {
    events: &'a Events,
    failures: u32,
    backoff: Backoff,
    online: Arc<Notify>,
}

impl Link<'_> {
    fn broken(&mut self, e: &BackendError) -> Duration {
        tracing::warn!("sync: {e}");
        self.failures += 1;
        let reason = e.to_string();
        self.events
            .send(SyncEvent::Connection(if self.failures >= OFFLINE_AFTER {
                Connection::Offline { reason }
            } else {
                Connection::Reconnecting { reason }
            }));
        self.backoff.next_delay()
    }

    fn up(&mut self) {
        self.failures = 0;
        self.backoff.reset();
        self.events
            .send(SyncEvent::Connection(Connection::Connected));
        self.events.send(SyncEvent::Synced);
        self.online.notify_one();
    }
}

/// Runs until aborted.
pub(super) async fn follow(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    mut reload: mpsc::UnboundedReceiver<()>,
    cached_since: Option<i64>,
    online: Arc<Notify>,
) {
    let mut link = Link {
        events: &events,
        failures: 0,
        backoff: Backoff::default(),
        online,
    };
    let mut resume = cached_since;
    loop {
        let since = match resume.take() {
            Some(since) => match refresh_meta(backend.as_ref(), &cache, &events).await {
                Ok(()) => since,
                Err(e) => {
                    resume = Some(since);
                    let delay = link.broken(&e);
                    wait_or_reload(delay, &mut reload).await;
                    continue;
                }
            },
            None => match load_everything(backend.as_ref(), &cache, &events).await {
                Ok(since) => since,
                Err(e) => {
                    let delay = link.broken(&e);
                    wait_or_reload(delay, &mut reload).await;
                    continue;
                }
            },
        };
        let Next::Reload =
            follow_changes(backend.as_ref(), &cache, &mut link, since, &mut reload).await;
    }
}

async fn wait_or_reload(delay: Duration, reload: &mut mpsc::UnboundedReceiver<()>) {
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = reload.recv() => {}
    }
}

/// The operator and the metadata, when resuming from the cache.
async fn refresh_meta(backend: &dyn Backend, cache: &Cache, events: &Events) -> BackendResult<()> {
    let me = backend.me().await?;
    let meta = backend.meta().await?;
    if let Err(e) = cache.put_meta(&meta).await {
        tracing::warn!("metadata not cached: {e:#}");
    }
    events.send(SyncEvent::SignedIn(me));
    events.send(SyncEvent::Meta(meta));
    Ok(())
}

/// Loads operator, metadata and every ticket; returns the feed cursor taken
/// *before* the tickets were read, so no change made meanwhile is missed
/// (replaying one twice is harmless: the newest version wins).
async fn load_everything(
    backend: &dyn Backend,
    cache: &Cache,
    events: &Events,
) -> BackendResult<i64> {
    let me = backend.me().await?;
    let since = backend.changes(0, 1).await?.latest_seq;
    let meta = backend.meta().await?;
    let tickets = all_tickets(backend).await?;
    if let Err(e) = cache.replace_all(&me, &meta, &tickets, since).await {
        events.send(SyncEvent::Error(format!(
            "the local cache could not be updated: {e:#}"
        )));
    }
    events.send(SyncEvent::SignedIn(me));
    events.send(SyncEvent::Meta(meta));
    events.send(SyncEvent::Snapshot(tickets));
    Ok(since)
}

/// Applies changes from `since` on, until a reload is needed.
async fn follow_changes(
    backend: &dyn Backend,
    cache: &Cache,
    link: &mut Link<'_>,
    mut since: i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> Next {
    loop {
        let outcome = if backend.capabilities().live_push {
            stream_changes(backend, cache, link, &mut since, reload).await
        } else {
            poll_changes(backend, cache, link, &mut since, reload).await
        };
        match outcome {
            Ok(next) => return next,
            Err(e) => {
                let delay = link.broken(&e);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    Some(()) = reload.recv() => return Next::Reload,
                }
            }
        }
    }
}

async fn stream_changes(
    backend: &dyn Backend,
    cache: &Cache,
    link: &mut Link<'_>,
    since: &mut i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> BackendResult<Next> {
    let mut stream = backend.live(*since).await?;
    link.up();
    loop {
        tokio::select! {
            item = stream.next() => match item {
                None => return Err(BackendError::Network("the live stream ended".into())),
                Some(Err(e)) => return Err(e),
                Some(Ok(LiveEvent::Resync { .. })) => return Ok(Next::Reload),
                Some(Ok(LiveEvent::Change(change))) => {
                    if change.seq > *since {
                        *since = change.seq;
                        apply(backend, cache, link.events, change).await;
                    }
                }
            },
            Some(()) = reload.recv() => return Ok(Next::Reload),
        }
    }
}

async fn poll_changes(
    backend: &dyn Backend,
    cache: &Cache,
    link: &mut Link<'_>,
    since: &mut i64,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> BackendResult<Next> {
    loop {
        let page = backend
            .changes(*since, deskterm_api::PAGE_LIMIT_MAX)
            .await?;
        if page.resync {
            return Ok(Next::Reload);
        }
        link.up();
        let full = page.changes.len() >= deskterm_api::PAGE_LIMIT_MAX as usize;
        for change in page.changes {
            if change.seq > *since {
                *since = change.seq;
                apply(backend, cache, link.events, change).await;
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

/// Writes a change to the cache, moves the cursor past it, and shows it.
async fn apply(backend: &dyn Backend, cache: &Cache, events: &Events, change: Change) {
    let seq = change.seq;
    let stored = match &change.kind {
        ChangeKind::TicketUpserted(t) => cache.put_ticket(t).await,
        ChangeKind::TicketDeleted { id } => cache.remove_ticket(*id).await,
        ChangeKind::NoteAdded(n) => cache.add_note(n).await,
        ChangeKind::MessageAdded(m) => cache.add_message(m).await,
        ChangeKind::MetaChanged => Ok(()),
    };
    if let Err(e) = stored.and(cache.set_since(seq).await) {
        tracing::warn!("change {seq} not cached: {e:#}");
    }
    match change.kind {
        ChangeKind::TicketUpserted(t) => events.send(SyncEvent::TicketChanged(t)),
        ChangeKind::TicketDeleted { id } => events.send(SyncEvent::TicketDeleted(id)),
        ChangeKind::NoteAdded(n) => events.send(SyncEvent::NoteAdded(n)),
        ChangeKind::MessageAdded(m) => events.send(SyncEvent::MessageAdded(m)),
        ChangeKind::MetaChanged => match backend.meta().await {
            Ok(meta) => {
                if let Err(e) = cache.put_meta(&meta).await {
                    tracing::warn!("metadata not cached: {e:#}");
                }
                events.send(SyncEvent::Meta(meta));
            }
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
