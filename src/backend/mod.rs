//! The one interface every helpdesk connector implements.
//!
//! The sync engine is the only caller: the UI never touches a backend. A
//! connector maps its server's wire format to the domain types of
//! `deskterm-api` and sanitizes every piece of text on the way in.

pub mod native;
pub mod sse;

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use deskterm_api::{
    ChangesPage, ChatMessage, ContactId, Me, Meta, NewMessage, NewNote, NewTicket, Note, Ticket,
    TicketId, TicketPage, TicketPatch, TicketQuery,
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
}
