//! Follows the backend's change feed: from the cached cursor when there is
//! one, otherwise after a full load; changes from then on, written to the
//! cache before they are shown; reconnecting with backoff when the link
//! drops, and reloading in full when the server says the cursor is too old.
//! Whether the backend pushes its changes or is polled is the backend's
//! business ([`Backend::feed`]): one stream either way.
//!
//! A server that answers but does not deliver must not look healthy: the
//! backoff starts over only once a stream has delivered a change or stayed up
//! for [`STABLE_AFTER`], full reloads the server asks for are spaced out
//! ([`ReloadPacer`]), and "synced" means data arrived, never a mere answer.

use std::sync::Arc;
use std::time::Duration;

use deskterm_api::ChangeKind;
use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::cache::Cache;
use super::{BATCH, Batches, Connection, Events, SyncEvent};
use crate::backend::{
    Backend, BackendError, BackendResult, Cursor, FeedChange, FeedEvent, SnapshotItem,
    SnapshotScope,
};
/// Failures in a row after which the status says offline rather than reconnecting.
const OFFLINE_AFTER: u32 = 3;
/// A live stream that stays up this long has proved the link works, even
/// when nothing happened on the helpdesk meanwhile.
const STABLE_AFTER: Duration = Duration::from_secs(30);
/// The least time between the starts of two full reloads the server asks for.
const RESYNC_GAP_MIN: Duration = Duration::from_secs(5);
/// The gap doubles while such reloads repeat, up to this.
const RESYNC_GAP_MAX: Duration = Duration::from_secs(120);
/// "Synced" is told at most this often (a burst of changes is one sync).
const SYNCED_EVERY: Duration = Duration::from_secs(1);

/// Why the live phase ended.
enum Next {
    /// The operator asked to load everything again.
    Reload,
    /// The server said the cursor is unusable: load everything again, paced.
    Resync,
}

/// Counts failures in a row and tells the UI how the link is doing.
struct Link<'a> {
    events: &'a Events,
    failures: u32,
    backoff: Backoff,
    pacer: ReloadPacer,
    online: Arc<Notify>,
    last_synced: Option<Instant>,
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

    /// A stream is open (or a poll was answered); a write waiting out its pause may go.
    fn connected(&mut self) {
        self.events
            .send(SyncEvent::Connection(Connection::Connected));
        self.online.notify_one();
    }

    /// The link delivered data or stayed up: failures, backoff and reload
    /// pacing start over. A mere answer to `/events` is not enough, or a
    /// server that closes every stream at once would be hit twice a second.
    fn proven(&mut self) {
        self.failures = 0;
        self.backoff.reset();
        self.pacer.proven();
    }

    /// What the UI shows is current as of now.
    fn synced(&mut self) {
        let now = Instant::now();
        if self
            .last_synced
            .is_none_or(|last| now.duration_since(last) >= SYNCED_EVERY)
        {
            self.last_synced = Some(now);
            self.events.send(SyncEvent::Synced);
        }
    }
}

/// Runs until aborted.
pub(super) async fn follow(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    mut reload: mpsc::UnboundedReceiver<()>,
    cached_since: Option<Cursor>,
    online: Arc<Notify>,
    options: super::Options,
) {
    let mut link = Link {
        events: &events,
        failures: 0,
        backoff: Backoff::default(),
        pacer: ReloadPacer::default(),
        online,
        last_synced: None,
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
            None => match load_everything(backend.as_ref(), &cache, &events, &options).await {
                Ok(since) => {
                    link.pacer.loaded();
                    link.synced();
                    since
                }
                Err(e) => {
                    let delay = link.broken(&e);
                    wait_or_reload(delay, &mut reload).await;
                    continue;
                }
            },
        };
        match follow_changes(backend.as_ref(), &cache, &mut link, since, &mut reload).await {
            Next::Reload => {}
            Next::Resync => {
                let delay = link.pacer.delay();
                if !delay.is_zero() {
                    tracing::warn!("sync: the server asks for full reloads again and again");
                    events.send(SyncEvent::Connection(Connection::Reconnecting {
                        reason: format!(
                            "the server keeps asking for a full reload; the next one in {} s",
                            delay.as_secs_f64().ceil()
                        ),
                    }));
                    wait_or_reload(delay, &mut reload).await;
                }
            }
        }
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

/// Loads operator, metadata and every ticket; returns the feed cursor the
/// snapshot is consistent with (or one taken before it was read: a change
/// replayed twice is harmless, the newest version wins).
///
/// Tickets reach the cache and the screen batch by batch as they arrive, so
/// the list is usable long before a big helpdesk is loaded; tickets cached
/// earlier stay listed until the snapshot is complete, and a snapshot that
/// breaks off removes nothing.
async fn load_everything(
    backend: &dyn Backend,
    cache: &Cache,
    events: &Events,
    options: &super::Options,
) -> BackendResult<Cursor> {
    let me = backend.me().await?;
    let meta = backend.meta().await?;
    events.send(SyncEvent::SignedIn(me.clone()));
    events.send(SyncEvent::Meta(meta.clone()));
    let mut load = Load {
        cache,
        events,
        batches: Batches::default(),
        batch: Vec::new(),
        epoch: None,
        begun: false,
        scope: SnapshotScope::closed_within(options.closed_days, chrono::Utc::now()),
    };
    let outcome = load.run(backend, &me, &meta).await;
    if outcome.is_err() && load.begun {
        events.send(SyncEvent::SnapshotFailed);
    }
    outcome
}

/// A full load under way.
struct Load<'a> {
    cache: &'a Cache,
    events: &'a Events,
    batches: Batches,
    batch: Vec<deskterm_api::Ticket>,
    /// The cache's snapshot epoch, while the cache keeps up.
    epoch: Option<i64>,
    begun: bool,
    /// What is replicated; what the backend sends beyond it is dropped.
    scope: SnapshotScope,
}

impl Load<'_> {
    async fn run(
        &mut self,
        backend: &dyn Backend,
        me: &deskterm_api::Me,
        meta: &deskterm_api::Meta,
    ) -> BackendResult<Cursor> {
        let mut stream = backend.snapshot(&self.scope).await?;
        let mut since = None;
        while let Some(item) = stream.next().await {
            match item? {
                SnapshotItem::Start { since: s, total } => {
                    since = Some(s);
                    self.events
                        .send(SyncEvent::SnapshotBegin { total: Some(total) });
                    self.begun = true;
                    self.epoch = match self.cache.begin_snapshot().await {
                        Ok(epoch) => Some(epoch),
                        Err(e) => {
                            self.cache_failed(&e);
                            None
                        }
                    };
                }
                SnapshotItem::Ticket(t) if !self.scope.holds(&t) => {}
                SnapshotItem::Ticket(t) => {
                    self.batch.push(t);
                    if self.batch.len() >= BATCH as usize {
                        self.flush().await;
                    }
                }
                SnapshotItem::End { .. } => {
                    self.flush().await;
                    let since = since.take().ok_or_else(|| {
                        BackendError::Server("the ticket snapshot had no beginning".into())
                    })?;
                    if let Some(epoch) = self.epoch
                        && let Err(e) = self.cache.finish_snapshot(epoch, me, meta, &since).await
                    {
                        self.cache_failed(&e);
                    }
                    self.events.send(SyncEvent::SnapshotEnd);
                    return Ok(since);
                }
            }
        }
        Err(BackendError::Network(
            "the ticket snapshot broke off before its end".into(),
        ))
    }

    /// Stores and shows the tickets received so far.
    async fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        if let Some(epoch) = self.epoch
            && let Err(e) = self.cache.put_snapshot(epoch, &batch).await
        {
            self.cache_failed(&e);
            self.epoch = None;
        }
        self.batches.send(self.events, batch).await;
    }

    fn cache_failed(&self, e: &anyhow::Error) {
        self.events.send(SyncEvent::Error(format!(
            "the local cache could not be updated: {e:#}"
        )));
    }
}

/// Applies changes from `since` on, until a reload is needed.
async fn follow_changes(
    backend: &dyn Backend,
    cache: &Cache,
    link: &mut Link<'_>,
    mut since: Cursor,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> Next {
    loop {
        match stream_changes(backend, cache, link, &mut since, reload).await {
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

/// Follows one opening of the feed, pushed or polled, until it breaks.
async fn stream_changes(
    backend: &dyn Backend,
    cache: &Cache,
    link: &mut Link<'_>,
    since: &mut Cursor,
    reload: &mut mpsc::UnboundedReceiver<()>,
) -> BackendResult<Next> {
    // Open means answered: the stream is up, or the first poll came back.
    let mut stream = backend.feed(since).await?;
    link.connected();
    let stable = tokio::time::sleep(STABLE_AFTER);
    tokio::pin!(stable);
    let mut stayed_up = false;
    loop {
        tokio::select! {
            item = stream.next() => {
                let event = match item {
                    None => return Err(BackendError::Network("the change feed ended".into())),
                    Some(Err(e)) => return Err(e),
                    Some(Ok(event)) => event,
                };
                match event {
                    FeedEvent::Resync => return Ok(Next::Resync),
                    // The server has nothing new: what is on screen is current.
                    FeedEvent::KeepAlive => link.synced(),
                    // An answered poll is data: the feed as it stands.
                    FeedEvent::CaughtUp => {
                        link.proven();
                        link.synced();
                    }
                    FeedEvent::Change(change) => {
                        *since = change.cursor.clone();
                        apply(backend, cache, link.events, change).await;
                        link.proven();
                        link.synced();
                    }
                }
            },
            () = &mut stable, if !stayed_up => {
                stayed_up = true;
                link.proven();
            }
            Some(()) = reload.recv() => return Ok(Next::Reload),
        }
    }
}

/// Writes a change to the cache, moves the cursor past it, and shows it.
async fn apply(backend: &dyn Backend, cache: &Cache, events: &Events, change: FeedChange) {
    let FeedChange { cursor, change, .. } = change;
    let stored = match &change.kind {
        ChangeKind::TicketUpserted(t) => cache.put_ticket(t).await,
        ChangeKind::TicketDeleted { id } => cache.remove_ticket(*id).await,
        ChangeKind::NoteAdded(n) => cache.add_note(n).await,
        ChangeKind::MessageAdded(m) => {
            let conversations = backend.capabilities().conversations;
            cache.add_message(m, conversations).await
        }
        ChangeKind::MetaChanged => Ok(()),
    };
    if let Err(e) = stored.and(cache.set_since(&cursor).await) {
        tracing::warn!("change up to {cursor} not cached: {e:#}");
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

/// Spaces out the full reloads the server asks for: a server that answers
/// every stream with `resync` must not make the client reload in a loop.
/// The first one goes at once; while they repeat with no working stream in
/// between, each waits twice as long as the one before, up to a limit.
#[derive(Debug)]
pub(crate) struct ReloadPacer {
    /// When the last full load finished.
    last: Option<Instant>,
    /// The least time from that load to the next one.
    gap: Duration,
    /// A stream delivered data since the last full load.
    proven: bool,
}

impl Default for ReloadPacer {
    fn default() -> Self {
        ReloadPacer {
            last: None,
            gap: RESYNC_GAP_MIN,
            proven: false,
        }
    }
}

impl ReloadPacer {
    /// How long to wait before the next reload the server asked for.
    pub(crate) fn delay(&self) -> Duration {
        self.last
            .map(|last| (last + self.gap).saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// A full load finished.
    pub(crate) fn loaded(&mut self) {
        if self.last.is_some() && !self.proven {
            self.gap = (self.gap * 2).min(RESYNC_GAP_MAX);
        }
        self.last = Some(Instant::now());
        self.proven = false;
    }

    /// The link works again: reloads need no spacing beyond the least one.
    pub(crate) fn proven(&mut self) {
        self.proven = true;
        self.gap = RESYNC_GAP_MIN;
    }
}

#[cfg(test)]
#[path = "feed_tests.rs"]
mod feed_tests;

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
