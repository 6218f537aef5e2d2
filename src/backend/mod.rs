//! The one interface every helpdesk connector implements, in domain terms.
//!
//! A connector ([`Connector`]) maps its server's wire format to the domain
//! types of `deskterm-api`: tickets, notes, conversations and a change feed
//! whose positions ([`Cursor`]) and ticket versions ([`Version`]) are opaque
//! to everyone but the connector. The sync engine never holds a connector
//! directly: it holds a [`Backend`], and the only way to make one is
//! [`Sanitized`], which cleans every piece of text on the way in, so no
//! connector can forget to. The same wrapper turns the connector's change
//! feed (pushed or polled) into one [`ChangeStream`].

pub mod native;
pub mod ndjson;
mod poll;
mod sanitized;
pub mod sse;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deskterm_api::{
    Change, ChatMessage, ContactId, Escalation, HistoryEntry, Me, MePatch, Meta, NewEscalation,
    NewMessage, NewNote, NewStatus, NewTicket, Note, PAGE_LIMIT_MAX, Stats, StatusDef, Ticket,
    TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

pub use poll::PollPolicy;
pub use sanitized::Sanitized;

/// A position in a connector's change feed: "every change up to here is
/// applied". Only the connector that made it can read it (the native
/// connector keeps its sequence number in it, another one a timestamp or a
/// transaction id); the engine stores and hands it back as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor holding `text`, as the connector writes it.
    pub fn new(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }

    /// The text the connector wrote.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The version of a ticket a conditional write is based on, as the
/// connector needs it (the native connector's counter, an ETag for RT).
///
/// Inside the client a ticket's version (`Ticket::version`) is a number
/// that grows with every change of that ticket: the engine compares two
/// copies by it to keep the newer one. A connector maps its backend's
/// token to and from that number at this boundary: the native counter is
/// the number itself; RT REST2's ETag for a ticket is the id of the
/// ticket's newest transaction, which grows the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    /// A version holding `text`, as the connector writes it.
    pub fn new(text: impl Into<String>) -> Version {
        Version(text.into())
    }

    /// The version a ticket is at.
    pub fn of(ticket: &Ticket) -> Version {
        Version::from(ticket.version)
    }

    /// The text the connector wrote.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<i64> for Version {
    fn from(counter: i64) -> Version {
        Version(counter.to_string())
    }
}

/// What tells one change from another, so a change read twice (a polled
/// feed reads its last page again) is applied once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChangeId(String);

impl ChangeId {
    /// An id holding `text`, as the connector writes it.
    pub fn new(text: impl Into<String>) -> ChangeId {
        ChangeId(text.into())
    }
}

/// Which conversation a chat message belongs to: the native helpdesk talks
/// with a contact across tickets, Request Tracker keeps correspondence per
/// ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConversationKey {
    /// Every message with this contact.
    Contact(ContactId),
    /// The messages of this ticket.
    Ticket(TicketId),
}

/// How a connector keys its conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conversations {
    /// One conversation per contact.
    #[default]
    ByContact,
    /// One conversation per ticket.
    ByTicket,
}

impl Conversations {
    /// The conversation of a ticket with a contact.
    pub fn key(self, ticket: TicketId, contact: ContactId) -> ConversationKey {
        match self {
            Conversations::ByContact => ConversationKey::Contact(contact),
            Conversations::ByTicket => ConversationKey::Ticket(ticket),
        }
    }

    /// The conversation a message belongs to; `None` for a message with no
    /// ticket when conversations are per ticket.
    pub fn of_message(self, message: &ChatMessage) -> Option<ConversationKey> {
        match self {
            Conversations::ByContact => Some(ConversationKey::Contact(message.contact_id)),
            Conversations::ByTicket => message.ticket_id.map(ConversationKey::Ticket),
        }
    }
}

/// An optional feature of a backend, for the one question the UI asks:
/// [`Capabilities::has`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Writes carry a version and stale ones are refused.
    Preconditions,
    /// Changes are pushed as they happen.
    LivePush,
    /// Custom statuses can be created.
    CustomStatuses,
    /// A ticket's history (who changed what) can be read.
    History,
    /// Statistics (counts, times) are served.
    Statistics,
    /// Chat with contacts.
    Chat,
    /// E-mail: escalations, and the profile option of ticket e-mails.
    Email,
    /// A ticket can be opened for, or given, a customer made with the write
    /// (`new_contact`).
    NewContacts,
}

/// What a connector can do; the UI hides what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Writes carry a version and stale ones are refused (conflict detection).
    pub preconditions: bool,
    /// Changes are pushed ([`Connector::live`]); otherwise the feed is polled.
    pub live_push: bool,
    /// Custom statuses can be created.
    pub custom_statuses: bool,
    /// A ticket's history can be read.
    pub history: bool,
    /// Statistics are served.
    pub statistics: bool,
    /// Chat with contacts ([`Connector::messages`], [`Connector::send_message`]).
    pub chat: bool,
    /// E-mail: escalations ([`Connector::escalate`]) and the profile option
    /// of ticket e-mails ([`Connector::set_profile`]).
    pub email: bool,
    /// A new ticket or a patch can carry `new_contact`: the backend makes
    /// the customer with the write, in one step. Without it the console
    /// offers only existing customers, and such a write is refused.
    pub new_contacts: bool,
    /// How conversations are keyed.
    pub conversations: Conversations,
}

impl Capabilities {
    /// Nothing optional: a polled feed, no chat, no extras.
    pub const MINIMAL: Capabilities = Capabilities {
        preconditions: false,
        live_push: false,
        custom_statuses: false,
        history: false,
        statistics: false,
        chat: false,
        email: false,
        new_contacts: false,
        conversations: Conversations::ByContact,
    };

    /// Everything optional, conversations per contact (what the UI assumes
    /// until the engine says otherwise).
    pub const FULL: Capabilities = Capabilities {
        preconditions: true,
        live_push: true,
        custom_statuses: true,
        history: true,
        statistics: true,
        chat: true,
        email: true,
        new_contacts: true,
        conversations: Conversations::ByContact,
    };

    /// Whether the backend offers `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        match feature {
            Feature::Preconditions => self.preconditions,
            Feature::LivePush => self.live_push,
            Feature::CustomStatuses => self.custom_statuses,
            Feature::History => self.history,
            Feature::Statistics => self.statistics,
            Feature::Chat => self.chat,
            Feature::Email => self.email,
            Feature::NewContacts => self.new_contacts,
        }
    }
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

/// A change with where it puts the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedChange {
    /// Tells it from every other change (de-duplication).
    pub id: ChangeId,
    /// The feed's position once it is applied; stored so a restart goes on from here.
    pub cursor: Cursor,
    /// What changed. Its `seq` is the native server's and means nothing to the engine.
    pub change: Change,
}

/// One answer of [`Connector::changes`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// Changes after the cursor asked for, oldest first.
    pub changes: Vec<FeedChange>,
    /// Where the next page starts.
    pub next: Cursor,
    /// More changes wait after this page: ask again at once.
    pub more: bool,
    /// The cursor asked for is unusable: reload everything.
    pub resync: bool,
}

/// One item of a [`ChangeStream`].
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// A change, in feed order, never one already delivered by this stream.
    Change(FeedChange),
    /// The backend answered with everything it has: what the client shows
    /// is current, and the link has proved it delivers (a poll answered).
    CaughtUp,
    /// The backend is still there and has nothing new (a keep-alive): what
    /// the client shows is current.
    KeepAlive,
    /// The cursor is unusable: reload everything.
    Resync,
}

/// The change feed, pushed or polled; it ends or yields an error when the link drops.
pub type ChangeStream<'a> = Pin<Box<dyn Stream<Item = BackendResult<FeedEvent>> + Send + 'a>>;

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
        since: Cursor,
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

/// A helpdesk, as a connector reaches it. Text it returns need not be
/// clean: [`Sanitized`] cleans it.
#[async_trait]
pub trait Connector: Send + Sync {
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
        version: &Version,
        patch: &TicketPatch,
    ) -> BackendResult<Ticket>;
    /// Deletes a ticket the client last saw at `version`.
    async fn delete_ticket(&self, id: TicketId, version: &Version) -> BackendResult<()>;
    /// Internal notes of a ticket, oldest first.
    async fn notes(&self, id: TicketId) -> BackendResult<Vec<Note>>;
    /// Adds an internal note.
    async fn add_note(
        &self,
        id: TicketId,
        note: &NewNote,
        idempotency_key: &str,
    ) -> BackendResult<Note>;
    /// A conversation, oldest first.
    async fn messages(&self, conversation: &ConversationKey) -> BackendResult<Vec<ChatMessage>>;
    /// Sends a message in a conversation.
    async fn send_message(
        &self,
        conversation: &ConversationKey,
        message: &NewMessage,
        idempotency_key: &str,
    ) -> BackendResult<ChatMessage>;
    /// Where the change feed stands now (a snapshot read afterwards holds
    /// every change up to it).
    async fn latest(&self) -> BackendResult<Cursor>;
    /// The helpdesk in numbers, for a connector with [`Capabilities::statistics`].
    async fn stats(&self, query: &StatsQuery) -> BackendResult<Stats> {
        let _ = query;
        Err(BackendError::NotFound(format!(
            "{} serves no statistics",
            self.describe()
        )))
    }
    /// Adds a custom status, for a connector with
    /// [`Capabilities::custom_statuses`] (the backend may keep it to
    /// administrators).
    async fn add_status(&self, status: &NewStatus) -> BackendResult<StatusDef> {
        let _ = status;
        Err(BackendError::NotFound(format!(
            "{} has no custom statuses",
            self.describe()
        )))
    }
    /// Sets the signed-in operator's profile option, for a connector with
    /// [`Capabilities::email`]; returns the profile as it is now.
    async fn set_profile(&self, patch: &MePatch) -> BackendResult<Me> {
        let _ = patch;
        Err(BackendError::NotFound(format!(
            "{} keeps no profile options",
            self.describe()
        )))
    }
    /// E-mails a ticket, its customer and the conversation to people
    /// outside the helpdesk, for a connector with [`Capabilities::email`].
    async fn escalate(
        &self,
        id: TicketId,
        escalation: &NewEscalation,
        idempotency_key: &str,
    ) -> BackendResult<Escalation> {
        let _ = (id, escalation, idempotency_key);
        Err(BackendError::NotFound(format!(
            "{} cannot escalate by e-mail",
            self.describe()
        )))
    }
    /// The change history of a ticket, oldest first, at most
    /// [`HISTORY_MAX`] entries (the newest kept), for a connector with
    /// [`Capabilities::history`].
    async fn history(&self, id: TicketId) -> BackendResult<Vec<HistoryEntry>> {
        let _ = id;
        Err(BackendError::NotFound(format!(
            "{} keeps no ticket history",
            self.describe()
        )))
    }
    /// Changes after `since`, at most about `limit`.
    async fn changes(&self, since: &Cursor, limit: u32) -> BackendResult<ChangePage>;
    /// The pushed change feed from `since`, for a connector with
    /// [`Capabilities::live_push`]; the others are polled.
    async fn live(&self, since: &Cursor) -> BackendResult<ChangeStream<'static>> {
        let _ = since;
        Err(BackendError::NotFound(format!(
            "{} pushes no changes",
            self.describe()
        )))
    }
    /// Every ticket in `scope`, as a stream that holds only what is being
    /// read. By default the feed's position is read first and then every
    /// page of [`Connector::tickets`]; a backend with a consistent export
    /// streams that instead. A connector that cannot narrow to the scope
    /// may send more: the engine keeps only what the scope holds.
    async fn snapshot(&self, scope: &SnapshotScope) -> BackendResult<SnapshotStream<'_>> {
        let _ = scope;
        paged_snapshot(self).await
    }
}

/// Which statistics: a period of whole days and the filters of `GET /stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsQuery {
    /// First day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day, included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<chrono::NaiveDate>,
    /// A category's name, or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// An operator's id, or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// The most history entries read for one ticket: the newest are kept.
pub const HISTORY_MAX: usize = 5_000;

/// Which tickets a snapshot replicates (`[sync]` in the config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotScope {
    /// Tickets closed before this stay on the server; every ticket when `None`.
    pub closed_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl SnapshotScope {
    /// Every ticket.
    pub const ALL: SnapshotScope = SnapshotScope { closed_since: None };

    /// The scope that keeps tickets closed in the last `days` days (and every
    /// one not closed), as of `now`.
    pub fn closed_within(days: Option<u32>, now: chrono::DateTime<chrono::Utc>) -> SnapshotScope {
        SnapshotScope {
            closed_since: days.map(|d| now - chrono::Duration::days(i64::from(d))),
        }
    }

    /// Whether `ticket` is replicated.
    pub fn holds(&self, ticket: &Ticket) -> bool {
        match (self.closed_since, ticket.closed_at) {
            (Some(since), Some(closed)) => closed >= since,
            _ => true,
        }
    }
}

/// What the sync engine works against: a [`Connector`] behind
/// [`Sanitized`], the only type that is a `Backend`.
#[async_trait]
pub trait Backend: Connector + sealed::Sealed {
    /// The change feed from `since` as one stream, pushed when the
    /// connector pushes (and push is not turned off), polled otherwise.
    async fn feed(&self, since: &Cursor) -> BackendResult<ChangeStream<'_>>;
}

mod sealed {
    /// Keeps [`super::Backend`] to [`super::Sanitized`].
    pub trait Sealed {}
}

/// Wraps a connector for the sync engine: sanitized, its feed pushed or
/// polled as `poll` says.
pub fn backend<C: Connector + 'static>(connector: C, poll: PollPolicy) -> Arc<dyn Backend> {
    Arc::new(Sanitized::new(connector, poll))
}

/// Which connector `[server] kind` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A deskterm server (the reference backend) over its HTTP API.
    #[default]
    Native,
}

impl Kind {
    /// Every kind, as written in the config.
    pub const ALL: [(&'static str, Kind); 1] = [("native", Kind::Native)];

    /// The kind written `name`, or an error naming the known ones.
    pub fn parse(name: &str) -> Result<Kind, String> {
        Kind::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "[server] kind = {name:?} is not a known kind of server; known: {}",
                    known.join(", ")
                )
            })
    }
}

/// Builds the connector `kind` names for `remote`, wrapped for the engine.
pub fn connect(
    kind: Kind,
    remote: &crate::config::Remote,
    poll: PollPolicy,
) -> anyhow::Result<Arc<dyn Backend>> {
    match kind {
        Kind::Native => {
            let native = native::NativeBackend::with_transport(
                &remote.url,
                &remote.token,
                &remote.transport,
            )?;
            Ok(backend(native, poll))
        }
    }
}

/// Polls every `interval` when push is off or missing.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// [`Connector::snapshot`] from the paged listing: the feed's position is
/// read first (a change made while the pages are read is then replayed
/// afterwards, never missed), then every page of [`Connector::tickets`], one
/// page at a time.
pub async fn paged_snapshot<B: Connector + ?Sized>(
    backend: &B,
) -> BackendResult<SnapshotStream<'_>> {
    let since = backend.latest().await?;
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

fn paged_items<B: Connector + ?Sized>(
    backend: &B,
    since: Cursor,
    query: TicketQuery,
    first: TicketPage,
) -> impl Stream<Item = BackendResult<SnapshotItem>> + Send + '_ {
    struct State<'a, B: ?Sized> {
        backend: &'a B,
        since: Option<Cursor>,
        step: Paging,
        query: TicketQuery,
        total: u64,
        items: std::vec::IntoIter<Ticket>,
        next: Option<String>,
        count: u64,
    }
    let start = State {
        backend,
        since: Some(since),
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
                let since = s.since.take().unwrap_or_else(|| Cursor::new(""));
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
        Ticket {
            id,
            reference: format!("HD-{id:06}"),
            title: format!("Ticket {id}"),
            ..crate::sync::conflict::sample_ticket()
        }
    }

    fn absent<T>() -> BackendResult<T> {
        Err(BackendError::NotFound("not in this test".into()))
    }

    #[async_trait]
    impl Connector for Paged {
        fn capabilities(&self) -> Capabilities {
            Capabilities::MINIMAL
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
            _version: &Version,
            _patch: &TicketPatch,
        ) -> BackendResult<Ticket> {
            absent()
        }
        async fn delete_ticket(&self, _id: TicketId, _version: &Version) -> BackendResult<()> {
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
            Ok(Cursor::new("9"))
        }
        async fn changes(&self, _since: &Cursor, _limit: u32) -> BackendResult<ChangePage> {
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

    #[test]
    fn conversations_are_keyed_by_contact_or_by_ticket() {
        let message = ChatMessage {
            id: 1,
            contact_id: 3,
            ticket_id: Some(10),
            direction: deskterm_api::Direction::Inbound,
            operator: None,
            body: "hola".into(),
            channel: "web".into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let by_contact = Conversations::ByContact;
        let by_ticket = Conversations::ByTicket;
        assert_eq!(by_contact.key(10, 3), ConversationKey::Contact(3));
        assert_eq!(by_ticket.key(10, 3), ConversationKey::Ticket(10));
        assert_eq!(
            by_contact.of_message(&message),
            Some(ConversationKey::Contact(3))
        );
        assert_eq!(
            by_ticket.of_message(&message),
            Some(ConversationKey::Ticket(10))
        );
        let loose = ChatMessage {
            ticket_id: None,
            ..message
        };
        assert_eq!(by_ticket.of_message(&loose), None);
    }

    #[test]
    fn capabilities_answer_for_each_feature_and_kinds_are_named() {
        let no_chat = Capabilities {
            chat: false,
            ..Capabilities::FULL
        };
        assert!(!no_chat.has(Feature::Chat));
        assert!(no_chat.has(Feature::History) && no_chat.has(Feature::LivePush));
        assert!(!Capabilities::MINIMAL.has(Feature::Statistics));
        assert_eq!(Kind::parse(" native "), Ok(Kind::Native));
        let err = Kind::parse("django-helpdesk").unwrap_err();
        assert!(err.contains("known: native"), "{err}");
    }

    /// Every item of a backend's whole snapshot.
    async fn everything(backend: &Paged) -> Vec<BackendResult<SnapshotItem>> {
        match backend.snapshot(&SnapshotScope::ALL).await {
            Ok(stream) => stream.collect().await,
            Err(e) => vec![Err(e)],
        }
    }

    #[tokio::test]
    async fn without_an_export_the_snapshot_pages_through_the_list() {
        let backend = paged(5, None);
        let items = everything(&backend).await;
        let mut expected = vec![Ok(SnapshotItem::Start {
            since: Cursor::new("9"),
            total: 5,
        })];
        expected.extend((1..=5).map(|id| Ok(SnapshotItem::Ticket(ticket(id)))));
        expected.push(Ok(SnapshotItem::End { count: 5 }));
        assert_eq!(items, expected);
        assert_eq!(*backend.served.lock().unwrap(), 3, "one page at a time");

        let empty = paged(0, None);
        let items = everything(&empty).await;
        assert_eq!(
            items,
            vec![
                Ok(SnapshotItem::Start {
                    since: Cursor::new("9"),
                    total: 0
                }),
                Ok(SnapshotItem::End { count: 0 })
            ]
        );
    }

    #[tokio::test]
    async fn a_page_that_fails_ends_the_snapshot_without_its_end() {
        let backend = paged(5, Some(2));
        let items = everything(&backend).await;
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[1], Ok(SnapshotItem::Ticket(ticket(1))));
        assert_eq!(items[2], Ok(SnapshotItem::Ticket(ticket(2))));
        assert_eq!(items[3], Err(BackendError::Timeout));
        assert!(matches!(
            paged(5, Some(1)).snapshot(&SnapshotScope::ALL).await.err(),
            Some(BackendError::Timeout)
        ));
    }

    #[test]
    fn the_scope_leaves_out_only_tickets_closed_before_it() {
        let now = chrono::Utc::now();
        let scope = SnapshotScope::closed_within(Some(30), now);
        let mut t = ticket(1);
        t.closed_at = None;
        assert!(scope.holds(&t), "open");
        t.closed_at = Some(now - chrono::Duration::days(29));
        assert!(scope.holds(&t), "closed recently");
        t.closed_at = Some(now - chrono::Duration::days(31));
        assert!(!scope.holds(&t), "closed long ago");
        assert!(SnapshotScope::ALL.holds(&t));
        assert_eq!(SnapshotScope::closed_within(None, now), SnapshotScope::ALL);
    }
}
