//! A polled change feed as a [`ChangeStream`]: [`Connector::changes`] at an
//! interval, each poll reading the last page of the one before again (the
//! overlap), and every change that comes twice dropped by its [`ChangeId`].
//!
//! The overlap is for backends whose feed positions are not exact (a
//! timestamp, say): a change recorded late under an earlier position is
//! still found by the next poll. A change found that way comes with its own,
//! earlier cursor; storing it only means a restart reads a little again,
//! which de-duplication and newest-version-wins make harmless.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use super::{BackendResult, ChangeId, ChangeStream, Connector, Cursor, FeedEvent, POLL_INTERVAL};

/// How a feed is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// Poll even when the connector pushes changes.
    pub poll_only: bool,
    /// Time between the end of one poll and the start of the next.
    pub interval: Duration,
    /// Each poll reads the last page of the poll before again.
    pub overlap: bool,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            poll_only: false,
            interval: POLL_INTERVAL,
            overlap: true,
        }
    }
}

/// Changes asked for per request.
const LIMIT: u32 = deskterm_api::PAGE_LIMIT_MAX;

/// Where a polled feed is.
struct Poller<'a, C: ?Sized> {
    connector: &'a C,
    policy: PollPolicy,
    /// Where the next poll starts.
    start: Cursor,
    /// Where the next request of the poll under way starts; `None` between polls.
    at: Option<Cursor>,
    /// Ids of the changes the next poll may read again (the last page of the
    /// poll before), and of the poll under way.
    before: HashSet<ChangeId>,
    current: HashSet<ChangeId>,
    /// The first poll goes at once.
    first: bool,
    ready: VecDeque<FeedEvent>,
    over: bool,
}

/// The feed of `connector` from `since`, polled as `policy` says; the
/// first poll is answered before it returns.
pub(super) async fn polled<'a, C: Connector + ?Sized>(
    connector: &'a C,
    since: Cursor,
    policy: PollPolicy,
) -> BackendResult<ChangeStream<'a>> {
    let mut poller = Poller {
        connector,
        policy,
        start: since,
        at: None,
        before: HashSet::new(),
        current: HashSet::new(),
        first: true,
        ready: VecDeque::new(),
        over: false,
    };
    poller.step().await?;
    Ok(Box::pin(futures_util::stream::unfold(
        poller,
        |mut p| async move {
            loop {
                if let Some(event) = p.ready.pop_front() {
                    return Some((Ok(event), p));
                }
                if p.over {
                    return None;
                }
                if let Err(e) = p.step().await {
                    p.over = true;
                    return Some((Err(e), p));
                }
            }
        },
    )))
}

impl<C: Connector + ?Sized> Poller<'_, C> {
    /// One request; what it brought is queued in `ready`.
    async fn step(&mut self) -> BackendResult<()> {
        let from = match self.at.take() {
            Some(at) => at,
            None => {
                if !std::mem::take(&mut self.first) {
                    tokio::time::sleep(self.policy.interval).await;
                }
                self.start.clone()
            }
        };
        let page = self.connector.changes(&from, LIMIT).await?;
        if page.resync {
            self.ready.push_back(FeedEvent::Resync);
            self.over = true;
            return Ok(());
        }
        let mut ids = HashSet::with_capacity(page.changes.len());
        for change in page.changes {
            ids.insert(change.id.clone());
            if self.before.contains(&change.id) || self.current.contains(&change.id) {
                continue;
            }
            self.current.insert(change.id.clone());
            self.ready.push_back(FeedEvent::Change(change));
        }
        if page.more {
            self.at = Some(page.next);
            return Ok(());
        }
        // The poll is over. The next one starts at this last page again when
        // overlapping, and only its changes can come twice.
        if self.policy.overlap {
            self.start = from;
            self.before = ids;
        } else {
            self.start = page.next;
            self.before.clear();
        }
        self.current.clear();
        self.ready.push_back(FeedEvent::CaughtUp);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use deskterm_api::{
        ChangeKind, ChatMessage, Me, Meta, NewMessage, NewNote, NewTicket, Note, Ticket, TicketId,
        TicketPage, TicketPatch, TicketQuery,
    };
    use futures_util::StreamExt;

    use super::super::{
        BackendError, Capabilities, ChangePage, ConversationKey, FeedChange, Version,
    };
    use super::*;

    /// A feed whose positions are coarse: a change can be recorded late
    /// under a position already read past (as with timestamps). Each entry
    /// is (position, id); a cursor is a position, and `changes(p)` returns
    /// every entry at or after `p`, pages of `page` entries.
    struct Coarse {
        log: Mutex<Vec<(i64, i64)>>,
        page: usize,
        requests: Mutex<Vec<String>>,
    }

    fn absent<T>() -> BackendResult<T> {
        Err(BackendError::NotFound("not in this test".into()))
    }

    #[async_trait]
    impl Connector for Coarse {
        fn capabilities(&self) -> Capabilities {
            Capabilities::MINIMAL
        }
        fn describe(&self) -> String {
            "coarse".into()
        }
        async fn me(&self) -> BackendResult<Me> {
            absent()
        }
        async fn meta(&self) -> BackendResult<Meta> {
            absent()
        }
        async fn tickets(&self, _q: &TicketQuery) -> BackendResult<TicketPage> {
            absent()
        }
        async fn ticket(&self, _id: TicketId) -> BackendResult<Ticket> {
            absent()
        }
        async fn create_ticket(&self, _t: &NewTicket, _k: &str) -> BackendResult<Ticket> {
            absent()
        }
        async fn patch_ticket(
            &self,
            _id: TicketId,
            _v: &Version,
            _p: &TicketPatch,
        ) -> BackendResult<Ticket> {
            absent()
        }
        async fn delete_ticket(&self, _id: TicketId, _v: &Version) -> BackendResult<()> {
            absent()
        }
        async fn notes(&self, _id: TicketId) -> BackendResult<Vec<Note>> {
            absent()
        }
        async fn add_note(&self, _id: TicketId, _n: &NewNote, _k: &str) -> BackendResult<Note> {
            absent()
        }
        async fn messages(&self, _c: &ConversationKey) -> BackendResult<Vec<ChatMessage>> {
            absent()
        }
        async fn send_message(
            &self,
            _c: &ConversationKey,
            _m: &NewMessage,
            _k: &str,
        ) -> BackendResult<ChatMessage> {
            absent()
        }
        async fn latest(&self) -> BackendResult<Cursor> {
            absent()
        }
        async fn changes(&self, since: &Cursor, _limit: u32) -> BackendResult<ChangePage> {
            self.requests
                .lock()
                .unwrap()
                .push(since.as_str().to_owned());
            let from: i64 = since.as_str().parse().unwrap();
            let mut log = self.log.lock().unwrap().clone();
            log.sort();
            let after: Vec<_> = log.into_iter().filter(|(p, _)| *p >= from).collect();
            let page: Vec<_> = after.iter().take(self.page).copied().collect();
            let more = after.len() > page.len();
            let next = match (more, page.last()) {
                (true, Some((p, _))) => p + 1,
                (false, Some((p, _))) => p + 1,
                (_, None) => from,
            };
            let changes = page
                .into_iter()
                .map(|(p, id)| FeedChange {
                    id: ChangeId::new(id.to_string()),
                    cursor: Cursor::new((p + 1).to_string()),
                    change: deskterm_api::Change {
                        seq: id,
                        at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
                        kind: ChangeKind::TicketDeleted { id },
                    },
                })
                .collect();
            Ok(ChangePage {
                changes,
                next: Cursor::new(next.to_string()),
                more,
                resync: false,
            })
        }
    }

    fn ids(events: &[FeedEvent]) -> Vec<i64> {
        events
            .iter()
            .filter_map(|e| match e {
                FeedEvent::Change(c) => Some(c.change.seq),
                _ => None,
            })
            .collect()
    }

    async fn poll_once(stream: &mut ChangeStream<'_>) -> Vec<FeedEvent> {
        let mut got = Vec::new();
        loop {
            let event = stream.next().await.unwrap().unwrap();
            if event == FeedEvent::CaughtUp {
                return got;
            }
            got.push(event);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn overlapping_polls_find_a_late_change_and_deliver_each_change_once() {
        let feed = Coarse {
            log: Mutex::new(vec![(1, 101), (2, 102), (3, 103), (4, 104), (5, 105)]),
            page: 2,
            requests: Mutex::default(),
        };
        let policy = PollPolicy {
            interval: Duration::from_secs(2),
            ..PollPolicy::default()
        };
        let mut stream = polled(&feed, Cursor::new("0"), policy).await.unwrap();
        assert_eq!(
            ids(&poll_once(&mut stream).await),
            [101, 102, 103, 104, 105]
        );
        // Nothing new: the last page is read again and nothing comes twice.
        assert_eq!(ids(&poll_once(&mut stream).await), Vec::<i64>::new());
        // A change recorded late, under a position already read past, and a new one.
        feed.log.lock().unwrap().extend([(5, 106), (6, 107)]);
        assert_eq!(ids(&poll_once(&mut stream).await), [106, 107]);
        assert_eq!(ids(&poll_once(&mut stream).await), Vec::<i64>::new());
        let requests = feed.requests.lock().unwrap().clone();
        assert_eq!(requests[..3], ["0", "3", "5"], "pages follow each other");
        assert_eq!(
            requests[3], "5",
            "the next poll starts at the last page again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_overlap_a_poll_starts_where_the_last_one_ended() {
        let feed = Coarse {
            log: Mutex::new(vec![(1, 101), (2, 102)]),
            page: 10,
            requests: Mutex::default(),
        };
        let policy = PollPolicy {
            overlap: false,
            ..PollPolicy::default()
        };
        let mut stream = polled(&feed, Cursor::new("0"), policy).await.unwrap();
        assert_eq!(ids(&poll_once(&mut stream).await), [101, 102]);
        feed.log.lock().unwrap().push((2, 103));
        // Recorded late under a position read past: without overlap it is missed.
        assert_eq!(ids(&poll_once(&mut stream).await), Vec::<i64>::new());
        assert_eq!(*feed.requests.lock().unwrap(), ["0", "3"]);
    }
}
