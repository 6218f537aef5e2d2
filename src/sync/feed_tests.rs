//! The feed loop against servers that answer but do not deliver, on tokio's
//! paused clock: a virtual minute takes milliseconds and no assertion depends
//! on how fast the machine is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use deskterm_api::{
    Change, ChangeKind, ChatMessage, Me, Meta, NewMessage, NewNote, NewTicket, Note,
    ServerCapabilities, Ticket, TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::{StreamExt, stream};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use super::follow;
use crate::backend::{
    BackendError, BackendResult, Capabilities, ChangeId, ChangePage, ChangeStream, Connector,
    ConversationKey, Cursor, FeedChange, FeedEvent, PollPolicy, Version,
};
use crate::sync::cache::Cache;
use crate::sync::{Connection, Events, SyncEvent};

/// One round trip to the stub server, in virtual time.
const LATENCY: Duration = Duration::from_millis(20);
const MINUTE: Duration = Duration::from_secs(60);

/// Keeps the paused clock still while SQLite works on its own thread. A
/// paused clock jumps to the next timer whenever every task waits, and a task
/// waiting for the disk looks just like one waiting for a timer; a task that
/// keeps yielding makes the runtime busy, so no jump happens meanwhile.
#[derive(Clone)]
struct Hold(Arc<(AtomicBool, Notify)>);

impl Hold {
    fn start() -> Hold {
        let hold = Hold(Arc::new((AtomicBool::new(false), Notify::new())));
        let spinner = hold.clone();
        tokio::spawn(async move {
            loop {
                if spinner.0.0.load(Ordering::SeqCst) {
                    tokio::task::yield_now().await;
                } else {
                    spinner.0.1.notified().await;
                }
            }
        });
        hold
    }

    fn on(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_one();
    }

    fn off(&self) {
        self.0.0.store(false, Ordering::SeqCst);
    }
}

/// What the stub's `/events` does.
#[derive(Clone, Copy)]
enum Live {
    /// Answers, then closes the stream at once.
    EndsAtOnce,
    /// Answers every stream with `resync`.
    ResyncForever,
    /// Sends nothing for 40 s, then closes.
    SilentThenEnds,
    /// Sends a keep-alive after 15 s, then nothing.
    KeepAliveThenSilent,
    /// Delivers one new change, then closes.
    OneChangeThenEnds,
    /// Fails as the connector does when an event passes the size cap.
    Oversized,
}

/// When the stub was asked for what.
#[derive(Default)]
struct Counters {
    streams: Mutex<Vec<Instant>>,
    loads: Mutex<Vec<Instant>>,
    polls: Mutex<Vec<Instant>>,
}

struct Stub {
    live: Live,
    /// Polled instead of streamed.
    poll: bool,
    hold: Hold,
    counters: Arc<Counters>,
}

fn refused<T>() -> BackendResult<T> {
    Err(BackendError::NotFound("not in this test".into()))
}

#[async_trait]
impl Connector for Stub {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            preconditions: true,
            live_push: !self.poll,
            ..Capabilities::MINIMAL
        }
    }

    fn describe(&self) -> String {
        "stub".into()
    }

    async fn me(&self) -> BackendResult<Me> {
        tokio::time::sleep(LATENCY).await;
        Ok(Me {
            id: 1,
            name: "Lucia".into(),
            email: "lucia@example.com".into(),
            receive_ticket_emails: false,
        })
    }

    async fn meta(&self) -> BackendResult<Meta> {
        tokio::time::sleep(LATENCY).await;
        Ok(Meta {
            statuses: vec![],
            priorities: vec![],
            categories: vec![],
            operators: vec![],
            tags: vec![],
            channels: vec![],
            capabilities: ServerCapabilities {
                preconditions: true,
                live_events: !self.poll,
                custom_statuses: false,
                stats: false,
                history: false,
                escalations: false,
            },
            server_version: "stub".into(),
        })
    }

    async fn tickets(&self, _query: &TicketQuery) -> BackendResult<TicketPage> {
        tokio::time::sleep(LATENCY).await;
        self.counters.loads.lock().unwrap().push(Instant::now());
        // The cache is written next; the clock waits for it.
        self.hold.on();
        Ok(TicketPage {
            items: vec![],
            next_cursor: None,
            total: 0,
        })
    }

    async fn ticket(&self, _id: TicketId) -> BackendResult<Ticket> {
        refused()
    }

    async fn create_ticket(&self, _t: &NewTicket, _key: &str) -> BackendResult<Ticket> {
        refused()
    }

    async fn patch_ticket(
        &self,
        _id: TicketId,
        _v: &Version,
        _p: &TicketPatch,
    ) -> BackendResult<Ticket> {
        refused()
    }

    async fn delete_ticket(&self, _id: TicketId, _v: &Version) -> BackendResult<()> {
        refused()
    }

    async fn notes(&self, _id: TicketId) -> BackendResult<Vec<Note>> {
        refused()
    }

    async fn add_note(&self, _id: TicketId, _n: &NewNote, _key: &str) -> BackendResult<Note> {
        refused()
    }

    async fn messages(&self, _c: &ConversationKey) -> BackendResult<Vec<ChatMessage>> {
        refused()
    }

    async fn send_message(
        &self,
        _c: &ConversationKey,
        _m: &NewMessage,
        _key: &str,
    ) -> BackendResult<ChatMessage> {
        refused()
    }

    async fn latest(&self) -> BackendResult<Cursor> {
        tokio::time::sleep(LATENCY).await;
        Ok(Cursor::new("7"))
    }

    async fn changes(&self, since: &Cursor, _limit: u32) -> BackendResult<ChangePage> {
        tokio::time::sleep(LATENCY).await;
        self.counters.polls.lock().unwrap().push(Instant::now());
        Ok(ChangePage {
            changes: vec![],
            next: since.clone(),
            more: false,
            resync: self.poll && matches!(self.live, Live::ResyncForever),
        })
    }

    async fn live(&self, _since: &Cursor) -> BackendResult<ChangeStream<'static>> {
        tokio::time::sleep(LATENCY).await;
        let attempt = {
            let mut streams = self.counters.streams.lock().unwrap();
            streams.push(Instant::now());
            streams.len() as i64
        };
        Ok(match self.live {
            Live::EndsAtOnce => Box::pin(stream::empty()),
            Live::ResyncForever => Box::pin(stream::repeat(Ok(FeedEvent::Resync))),
            Live::SilentThenEnds => Box::pin(stream::once(async {
                tokio::time::sleep(Duration::from_secs(40)).await;
                Err(BackendError::Network("closed".into()))
            })),
            Live::KeepAliveThenSilent => Box::pin(
                stream::once(async {
                    tokio::time::sleep(Duration::from_secs(15)).await;
                    Ok(FeedEvent::KeepAlive)
                })
                .chain(stream::pending()),
            ),
            Live::Oversized => Box::pin(stream::once(async {
                Err(BackendError::Server(
                    "the live stream sent an event larger than 1 MiB".into(),
                ))
            })),
            Live::OneChangeThenEnds => {
                let hold = self.hold.clone();
                Box::pin(stream::once(async move {
                    // The change is written to the cache next.
                    hold.on();
                    let seq = 7 + attempt;
                    Ok(FeedEvent::Change(FeedChange {
                        id: ChangeId::new(seq.to_string()),
                        cursor: Cursor::new(seq.to_string()),
                        change: Change {
                            seq,
                            at: chrono::Utc::now(),
                            kind: ChangeKind::TicketDeleted { id: attempt },
                        },
                    }))
                }))
            }
        })
    }
}

struct Feed {
    stub: Arc<Counters>,
    events: Arc<Mutex<Vec<(Instant, SyncEvent)>>>,
    started: Instant,
    _reload: mpsc::UnboundedSender<()>,
    _dir: tempfile::TempDir,
}

impl Feed {
    async fn start(live: Live, poll: bool) -> Feed {
        let hold = Hold::start();
        let dir = tempfile::tempdir().unwrap();
        hold.on();
        let cache = Cache::open(&dir.path().join("cache.db"))
            .await
            .unwrap()
            .cache;
        hold.off();
        let counters = Arc::new(Counters::default());
        let stub = Stub {
            live,
            poll,
            hold: hold.clone(),
            counters: counters.clone(),
        };
        let (event_tx, mut event_rx) = mpsc::unbounded_channel();
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = events.clone();
        tokio::spawn(async move {
            while let Some(event) = event_rx.recv().await {
                // These come right after the cache was written.
                if matches!(event, SyncEvent::SnapshotEnd | SyncEvent::TicketDeleted(_)) {
                    hold.off();
                }
                log.lock().unwrap().push((Instant::now(), event));
            }
        });
        let (reload_tx, reload_rx) = mpsc::unbounded_channel();
        let started = Instant::now();
        tokio::spawn(follow(
            crate::backend::backend(stub, PollPolicy::default()),
            cache,
            Events(event_tx),
            reload_rx,
            None,
            Arc::new(Notify::new()),
            crate::sync::Options::default(),
        ));
        Feed {
            stub: counters,
            events,
            started,
            _reload: reload_tx,
            _dir: dir,
        }
    }

    fn within_first_minute(&self, times: &Mutex<Vec<Instant>>) -> usize {
        let end = self.started + MINUTE;
        times.lock().unwrap().iter().filter(|t| **t < end).count()
    }

    fn count(&self, wanted: impl Fn(&SyncEvent) -> bool) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| wanted(e))
            .count()
    }
}

fn gaps(times: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    let times = times.lock().unwrap();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_closes_at_once_backs_off_and_is_not_a_sync() {
    let feed = Feed::start(Live::EndsAtOnce, false).await;
    tokio::time::sleep(MINUTE * 3).await;

    // Backoff 0.5 s, 1 s, 2 s … 30 s (±25 %): about 7 attempts in the
    // first minute, where a reset on every answer made it 120.
    let attempts = feed.within_first_minute(&feed.stub.streams);
    assert!((4..=10).contains(&attempts), "{attempts} streams opened");
    let late = gaps(&feed.stub.streams);
    assert!(
        late.iter()
            .rev()
            .take(3)
            .all(|g| *g >= Duration::from_secs(20)),
        "the pause did not grow: {late:?}"
    );
    // Only the full load synced; the empty streams said nothing new.
    assert_eq!(feed.count(|e| matches!(e, SyncEvent::Synced)), 1);
    assert_eq!(feed.stub.loads.lock().unwrap().len(), 1);
    // After a few failures in a row the status says so.
    assert!(feed.count(|e| matches!(e, SyncEvent::Connection(Connection::Offline { .. }))) > 0);
}

#[tokio::test(start_paused = true)]
async fn a_server_asking_for_resync_forever_gets_paced_reloads() {
    let feed = Feed::start(Live::ResyncForever, false).await;
    tokio::time::sleep(MINUTE * 3).await;

    // Reloads 5 s, 10 s, 20 s, 40 s … apart: 4 in the first minute, where
    // reloading on every resync made it hundreds.
    let loads = feed.within_first_minute(&feed.stub.loads);
    assert!((3..=5).contains(&loads), "{loads} full loads in a minute");
    let between = gaps(&feed.stub.loads);
    assert!(
        between.iter().all(|g| *g >= Duration::from_secs(5)),
        "{between:?}"
    );
    assert!(
        between.windows(2).all(|w| w[1] >= w[0]),
        "the gaps do not grow: {between:?}"
    );
    let reason = feed.events.lock().unwrap().iter().any(|(_, e)| {
        matches!(e, SyncEvent::Connection(Connection::Reconnecting { reason })
            if reason.contains("keeps asking for a full reload"))
    });
    assert!(reason, "the status bar does not say why");
}

#[tokio::test(start_paused = true)]
async fn polling_a_server_asking_for_resync_forever_is_paced_too() {
    let feed = Feed::start(Live::ResyncForever, true).await;
    tokio::time::sleep(MINUTE * 2).await;
    let loads = feed.within_first_minute(&feed.stub.loads);
    assert!((3..=5).contains(&loads), "{loads} full loads in a minute");
}

#[tokio::test(start_paused = true)]
async fn polling_keeps_syncing() {
    let feed = Feed::start(Live::EndsAtOnce, true).await;
    tokio::time::sleep(MINUTE).await;
    // One poll every 2 s, each a sync; no stream is ever opened.
    let polls = feed.within_first_minute(&feed.stub.polls);
    assert!(polls >= 25, "{polls} polls");
    assert!(feed.count(|e| matches!(e, SyncEvent::Synced)) >= 25);
    assert!(feed.stub.streams.lock().unwrap().is_empty());
    assert_eq!(
        feed.count(|e| matches!(e, SyncEvent::Connection(Connection::Reconnecting { .. }))),
        0
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_stays_up_resets_the_backoff() {
    let feed = Feed::start(Live::SilentThenEnds, false).await;
    tokio::time::sleep(MINUTE * 5).await;
    // Each stream lived 40 s: past the 30 s that prove the link, so the
    // pause after it is the first one again, and the status never says offline.
    let between = gaps(&feed.stub.streams);
    assert!(between.len() >= 5, "{between:?}");
    assert!(
        between.iter().all(|g| *g < Duration::from_secs(41)),
        "{between:?}"
    );
    assert_eq!(
        feed.count(|e| matches!(e, SyncEvent::Connection(Connection::Offline { .. }))),
        0
    );
    // A silent stream is not a sync.
    assert_eq!(feed.count(|e| matches!(e, SyncEvent::Synced)), 1);
}

#[tokio::test(start_paused = true)]
async fn a_keep_alive_says_the_data_is_current() {
    let feed = Feed::start(Live::KeepAliveThenSilent, false).await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let synced: Vec<Instant> = feed
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, e)| matches!(e, SyncEvent::Synced))
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(synced.len(), 2, "the full load and the keep-alive");
    assert!(synced[1] - feed.started >= Duration::from_secs(15));
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_delivers_changes_reconnects_promptly() {
    let feed = Feed::start(Live::OneChangeThenEnds, false).await;
    tokio::time::sleep(MINUTE).await;
    // Each stream brought data, so each reconnect is the first one again.
    let between = gaps(&feed.stub.streams);
    assert!(between.len() >= 30, "{between:?}");
    assert!(
        between.iter().all(|g| *g < Duration::from_millis(700)),
        "{between:?}"
    );
    assert!(feed.count(|e| matches!(e, SyncEvent::TicketDeleted(_))) >= 30);
    assert!(feed.count(|e| matches!(e, SyncEvent::Synced)) >= 20);
}

#[tokio::test(start_paused = true)]
async fn an_oversized_event_is_shown_and_backed_off() {
    let feed = Feed::start(Live::Oversized, false).await;
    tokio::time::sleep(MINUTE).await;
    let attempts = feed.within_first_minute(&feed.stub.streams);
    assert!((4..=10).contains(&attempts), "{attempts} streams opened");
    let shown = feed.events.lock().unwrap().iter().any(|(_, e)| {
        matches!(e, SyncEvent::Connection(Connection::Reconnecting { reason } | Connection::Offline { reason })
            if reason.contains("the live stream sent an event larger than 1 MiB"))
    });
    assert!(shown, "the status bar does not say why");
    assert_eq!(feed.count(|e| matches!(e, SyncEvent::Synced)), 1);
}
