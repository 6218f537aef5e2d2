//! The one interface every helpdesk connector implements.
//!
//! The sync engine is the only caller: the UI never touches a backend. A
//! connector maps its server's wire format to the domain types of
//! `deskterm-api` and sanitizes every piece of text on the way in.

pub mod native;
pub mod ndjson;
pub mod sse;

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use deskterm_api::{
    ChangesPage, ChatMessage, ContactId, Me, Meta, NewMessage, NewNote, NewTicket, Note,
    PAGE_LIMIT_MAX, Ticket, TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::Stream;

/// What a connector can do; the UI hides what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Writes carry a version and stale ones are refused (conflict detection).
    pub preconditions: bool,
    /// Changes are pushed ([`Backend::live`]); otherwise the engine polls.
    pub live_push: bool,
    /// Custom statuses can be created.
    pub custom_statuses: bool,
}

/// Why a backend call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendError {
    /// The server could not be reached or the connection broke.
    Network(String),
    /// The request took too long.
    Timeout,
    /// The token was refused.
    Unauthorized(String),
    /// The token is good but the operator's role does not allow this
    /// (another operator's ticket, an administrator's task): retrying will
    /// not change the answer.
    Forbidden(String),
    /// The object does not exist (any more).
    NotFound(String),
    /// The write was based on an old version; `current` is the server's ticket.
    Conflict {
        /// The ticket as it is now on the server.
        current: Option<Box<Ticket>>,
    },
    /// The server refused the input; `fields` says which field and why.
    Invalid {
        /// Summary.
        message: String,
        /// Field name → problem.
        fields: Vec<(String, String)>,
    },
    /// The server failed or answered something unreadable.
    Server(String),
}

impl BackendError {
    /// True when trying the same request again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackendError::Network(_) | BackendError::Timeout | BackendError::Server(_)
        )
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Network(m) => write!(f, "cannot reach the server: {m}"),
            BackendError::Timeout => f.write_str("the server did not answer in time"),
            BackendError::Unauthorized(m) => write!(f, "the server refused the token: {m}"),
            BackendError::Forbidden(m) => write!(f, "not allowed: {m}"),
            BackendError::NotFound(m) => write!(f, "not found: {m}"),
            BackendError::Conflict { .. } => {
                f.write_str("someone else changed this ticket in the meantime")
            }
            BackendError::Invalid { message, fields } => {
                f.write_str(message)?;
                for (field, problem) in fields {
                    write!(f, "; {field}: {problem}")?;
                }
                Ok(())
            }
            BackendError::Server(m) => write!(f, "server error: {m}"),
        }
    }
}

impl std::error::Error for BackendError {}

/// Result of a backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// One item of a live stream.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    /// A change, in feed order.
    Change(deskterm_api::Change),
    /// The cursor is unusable: reload everything, then continue from `latest_seq`.
    Resync {
        /// Where the feed continues.
        latest_seq: i64,
    },
    /// The server said it is still there and has nothing new: what the client
    /// shows is current.
    KeepAlive,
}

/// A live stream of changes; it ends or yields an error when the connection drops.
pub type LiveStream = Pin<Box<dyn Stream<Item = BackendResult<LiveEvent>> + Send>>;

/// One item of a ticket snapshot ([`Backend::snapshot`]): [`SnapshotItem::Start`]
/// first, then every ticket, then [`SnapshotItem::End`].
// Items are moved one at a time from the network to the store; boxing the
// ticket would cost an allocation per ticket and buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotItem {
    /// The snapshot begins.
    Start {
        /// The change-feed cursor to follow afterwards: no change after it is
        /// in the snapshot, and every change up to it is (or, when the
        /// backend cannot tell, the cursor was taken before the first ticket
        /// was read, so a change may be replayed but none is missed).
        since: i64,
        /// How many tickets the backend announced: exact for a consistent
        /// export, the first page's count for a paged listing.
        total: u64,
    },
    /// A ticket, sanitized.
    Ticket(Ticket),
    /// The snapshot arrived whole.
    End {
        /// How many tickets it held.
        count: u64,
    },
}

/// Every ticket of a backend, one item at a time ([`Backend::snapshot`]).
/// Ending (or failing) before [`SnapshotItem::End`] means the snapshot is
/// incomplete: what came is not the whole set.
pub type SnapshotStream<'a> = Pin<Box<dyn Stream<Item = BackendResult<SnapshotItem>> + Send + 'a>>;

/// A helpdesk the client can work against.
#[async_trait]
pub trait Backend: Send + Sync {
    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;
    /// A short human description of where it points (for the status bar).
    fn describe(&self) -> String;
    /// The signed-in operator.
    async fn me(&self) -> BackendResult<Me>;
    /// Statuses, priorities, categories, operators.
    async fn meta(&self) -> BackendResult<Meta>;
    /// One page of tickets.
    async fn tickets(&self, query: &TicketQuery) -> BackendResult<TicketPage>;
    /// One ticket.
    async fn ticket(&self, id: TicketId) -> BackendResult<Ticket>;
    /// Creates a ticket; `idempotency_key` makes a replay harmless.
    async fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> BackendResult<Ticket>;
    /// Changes fields of a ticket the client last saw at `version`.
    async fn patch_ticket(
        &self,
        id: TicketId,
        version: i64,
        patch: &TicketPatch,
    ) -> BackendResult<Ticket>;
    /// Deletes a ticket the client last saw at `version`.
    async fn delete_ticket(&self, id: TicketId, version: i64) -> BackendResult<()>;
    /// Internal notes of a ticket, oldest first.
    async fn notes(&self, id: TicketId) -> BackendResult<Vec<Note>>;
    /// Adds an internal note.
    async fn add_note(
        &self,
        id: TicketId,
        note: &NewNote,
        idempotency_key: &str,
    ) -> BackendResult<Note>;
    /// The conversation with a contact, oldest first.
    async fn messages(&self, contact: ContactId) -> BackendResult<Vec<ChatMessage>>;
    /// Sends a message to a contact.
    async fn send_message(
        &self,
        contact: ContactId,
        message: &NewMessage,
        idempotency_key: &str,
    ) -> BackendResult<ChatMessage>;
    /// Changes after `since`.
    async fn changes(&self, since: i64, limit: u32) -> BackendResult<ChangesPage>;
    /// Opens the live stream from `since`.
    async fn live(&self, since: i64) -> BackendResult<LiveStream>;
    /// Every ticket, as a stream that holds only what is being read. By
    /// default the change-feed cursor is read first and then every page of
    /// [`Backend::tickets`]; a backend with a consistent export streams that instead.
    async fn snapshot(&self) -> BackendResult<SnapshotStream<'_>> {
        paged_snapshot(self).await
    }
}

/// [`Backend::snapshot`] from the paged listing: the change-feed cursor is
/// read first (a change made while the pages are read is then replayed
/// afterwards, never missed), then every page of [`Backend::tickets`], one
/// page at a time.
pub async fn paged_snapshot<B: Backend + ?Sized>(backend: &B) -> BackendResult<SnapshotStream<'_>> {
    let since = backend.changes(0, 1).await?.latest_seq;
    let query = TicketQuery {
        limit: Some(PAGE_LIMIT_MAX),
        ..Default::default()
    };
    let first = backend.tickets(&query).await?;
    Ok(Box::pin(paged_items(backend, since, query, first)))
}

/// Where [`paged_items`] is.
enum Paging {
    Start,
    Tickets,
    Done,
}

fn paged_items<B: Backend + ?Sized>(
    backend: &B,
    since: i64,
    query: TicketQuery,
    first: TicketPage,
) -> impl Stream<Item = BackendResult<SnapshotItem>> + Send + '_ {
    struct State<'a, B: ?Sized> {
        backend: &'a B,
        step: Paging,
        query: TicketQuery,
        total: u64,
        items: std::vec::IntoIter<Ticket>,
        next: Option<String>,
        count: u64,
    }
    let start = State {
        backend,
        step: Paging::Start,
        query,
        total: first.total,
        items: first.items.into_iter(),
        next: first.next_cursor,
        count: 0,
    };
    futures_util::stream::unfold(start, move |mut s| async move {
        match s.step {
            Paging::Start => {
                s.step = Paging::Tickets;
                let total = s.total;
                Some((Ok(SnapshotItem::Start { since, total }), s))
            }
            Paging::Tickets => loop {
                if let Some(ticket) = s.items.next() {
                    s.count += 1;
                    return Some((Ok(SnapshotItem::Ticket(ticket)), s));
                }
                let Some(cursor) = s.next.take() else {
                    s.step = Paging::Done;
                    let count = s.count;
                    return Some((Ok(SnapshotItem::End { count }), s));
                };
                s.query.cursor = Some(cursor);
                match s.backend.tickets(&s.query).await {
                    Ok(page) => {
                        s.items = page.items.into_iter();
                        s.next = page.next_cursor;
                    }
                    Err(e) => {
                        s.step = Paging::Done;
                        return Some((Err(e), s));
                    }
                }
            },
            Paging::Done => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use deskterm_api::{ContactRef, Priority};
    use futures_util::StreamExt;

    use super::*;

    /// A backend with only a paged listing and a change feed.
    struct Paged {
        tickets: Vec<Ticket>,
        /// Pages served so far; the one with this number fails.
        served: Mutex<usize>,
        fail_page: Option<usize>,
    }

    fn ticket(id: TicketId) -> Ticket {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Ticket {
            id,
            reference: format!("HD-{id:06}"),
            title: format!("Ticket {id}"),
            description: String::new(),
            status: "open".into(),
            priority: Priority::Normal,
            category: None,
            tags: vec![],
            important: false,
            contact: ContactRef {
                id: 1,
                name: "Ana".into(),
                phone: None,
                email: None,
            },
            operator: None,
            channel: "web".into(),
            sla_due_at: None,
            created_at: at,
            updated_at: at,
            closed_at: None,
            version: 1,
        }
    }

    fn absent<T>() -> BackendResult<T> {
        Err(BackendError::NotFound("not in this test".into()))
    }

    #[async_trait]
    impl Backend for Paged {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                preconditions: false,
                live_push: false,
                custom_statuses: false,
            }
        }
        fn describe(&self) -> String {
            "paged".into()
        }
        async fn me(&self) -> BackendResult<Me> {
            absent()
        }
        async fn meta(&self) -> BackendResult<Meta> {
            absent()
        }
        async fn tickets(&self, query: &TicketQuery) -> BackendResult<TicketPage> {
            let page = {
                let mut served = self.served.lock().unwrap();
                *served += 1;
                *served
            };
            if Some(page) == self.fail_page {
                return Err(BackendError::Timeout);
            }
            let start: usize = query.cursor.as_deref().map_or(0, |c| c.parse().unwrap());
            let limit = 2;
            let items: Vec<Ticket> = self
                .tickets
                .iter()
                .skip(start)
                .take(limit)
                .cloned()
                .collect();
            let next = start + items.len();
            Ok(TicketPage {
                items,
                next_cursor: (next < self.tickets.len()).then(|| next.to_string()),
                total: self.tickets.len() as u64,
            })
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
            _version: i64,
            _patch: &TicketPatch,
        ) -> BackendResult<Ticket> {
            absent()
        }
        async fn delete_ticket(&self, _id: TicketId, _version: i64) -> BackendResult<()> {
            absent()
        }
        async fn notes(&self, _id: TicketId) -> BackendResult<Vec<Note>> {
            absent()
        }
        async fn add_note(&self, _id: TicketId, _n: &NewNote, _k: &str) -> BackendResult<Note> {
            absent()
        }
        async fn messages(&self, _c: ContactId) -> BackendResult<Vec<ChatMessage>> {
            absent()
        }
        async fn send_message(
            &self,
            _c: ContactId,
            _m: &NewMessage,
            _k: &str,
        ) -> BackendResult<ChatMessage> {
            absent()
        }
        async fn changes(&self, _since: i64, _limit: u32) -> BackendResult<ChangesPage> {
            Ok(ChangesPage {
                changes: vec![],
                latest_seq: 9,
                resync: false,
            })
        }
        async fn live(&self, _since: i64) -> BackendResult<LiveStream> {
            absent()
        }
    }

    fn paged(n: i64, fail_page: Option<usize>) -> Paged {
        Paged {
            tickets: (1..=n).map(ticket).collect(),
            served: Mutex::new(0),
            fail_page,
        }
    }

    #[tokio::test]
    async fn without_an_export_the_snapshot_pages_through_the_list() {
        let backend = paged(5, None);
        let items: Vec<_> = backend.snapshot().await.unwrap().collect().await;
        let mut expected = vec![Ok(SnapshotItem::Start { since: 9, total: 5 })];
        expected.extend((1..=5).map(|id| Ok(SnapshotItem::Ticket(ticket(id)))));
        expected.push(Ok(SnapshotItem::End { count: 5 }));
        assert_eq!(items, expected);
        assert_eq!(*backend.served.lock().unwrap(), 3, "one page at a time");

        let empty = paged(0, None);
        let items: Vec<_> = empty.snapshot().await.unwrap().collect().await;
        assert_eq!(
            items,
            vec![
                Ok(SnapshotItem::Start { since: 9, total: 0 }),
                Ok(SnapshotItem::End { count: 0 })
            ]
        );
    }

    #[tokio::test]
    async fn a_page_that_fails_ends_the_snapshot_without_its_end() {
        let backend = paged(5, Some(2));
        let items: Vec<_> = backend.snapshot().await.unwrap().collect().await;
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[1], Ok(SnapshotItem::Ticket(ticket(1))));
        assert_eq!(items[2], Ok(SnapshotItem::Ticket(ticket(2))));
        assert_eq!(items[3], Err(BackendError::Timeout));
        assert!(matches!(
            paged(5, Some(1)).snapshot().await.err(),
            Some(BackendError::Timeout)
        ));
    }
}
