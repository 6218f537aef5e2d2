//! The sync engine: the only place that talks to a backend.
//!
//! The UI sends [`Command`]s and receives [`SyncEvent`]s over channels; it
//! never awaits the network. The engine loads the tickets, follows the
//! backend's change feed, loads notes and chats of the ticket in view
//! ("latest request wins") and sends the operator's writes in order.

mod feed;
mod writer;

use std::sync::Arc;

use deskterm_api::{
    ChatMessage, ContactId, Me, Meta, Note, Ticket, TicketId, TicketPatch, TicketQuery,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::backend::{Backend, BackendError, BackendResult};

/// Identifies one write the UI asked for, so its outcome can be matched.
pub type OpId = u64;

/// What the UI asks the engine to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Reload everything from the backend.
    Reload,
    /// The operator looks at this ticket: load its notes and its contact's chat.
    View {
        /// Ticket in view.
        ticket: TicketId,
        /// Its contact.
        contact: ContactId,
    },
    /// A write, sent in order.
    Write(OpId, Write),
    /// Finish the writes under way, then stop.
    Shutdown,
}

/// A change the operator made.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Change fields of a ticket last seen at `version`.
    Patch {
        /// Ticket.
        ticket: TicketId,
        /// Version the operator saw.
        version: i64,
        /// Fields changed.
        patch: TicketPatch,
    },
    /// Add an internal note.
    AddNote {
        /// Ticket.
        ticket: TicketId,
        /// Text.
        body: String,
    },
    /// Send a chat message to a contact.
    SendMessage {
        /// Contact.
        contact: ContactId,
        /// The ticket the message is about.
        ticket: Option<TicketId>,
        /// Text.
        body: String,
    },
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// First contact under way.
    Connecting,
    /// Live: changes arrive as they happen.
    Connected,
    /// The link broke; trying again.
    Reconnecting {
        /// Why it broke.
        reason: String,
    },
}

/// What the engine tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// Connection state changed.
    Connection(Connection),
    /// The signed-in operator.
    SignedIn(Me),
    /// Statuses, priorities, categories, operators.
    Meta(Meta),
    /// Every ticket, replacing what the UI had.
    Snapshot(Vec<Ticket>),
    /// A ticket was created or changed (here or elsewhere).
    TicketChanged(Ticket),
    /// A ticket was deleted.
    TicketDeleted(TicketId),
    /// All notes of a ticket.
    Notes(TicketId, Vec<Note>),
    /// A note was added (here or elsewhere).
    NoteAdded(Note),
    /// The conversation with a contact.
    Messages(ContactId, Vec<ChatMessage>),
    /// A chat message was sent or received.
    MessageAdded(ChatMessage),
    /// A write landed.
    WriteDone(OpId),
    /// A write was refused or could not be sent; the screen must go back to the server's state.
    WriteFailed {
        /// Which write.
        op: OpId,
        /// Why, for the operator.
        error: String,
        /// The server's ticket when someone else changed it meanwhile.
        current: Option<Box<Ticket>>,
    },
    /// Something went wrong that the operator should know about.
    Error(String),
    /// The engine finished its writes after [`Command::Shutdown`].
    Stopped,
}

/// The UI's end of the engine.
pub struct SyncHandle {
    /// Where commands go.
    pub commands: mpsc::UnboundedSender<Command>,
    /// Where events come from.
    pub events: mpsc::UnboundedReceiver<SyncEvent>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Stops the engine at once, abandoning writes under way.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Starts the engine on the current tokio runtime.
pub fn start(backend: Arc<dyn Backend>) -> SyncHandle {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (event_tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(backend, command_rx, Events(event_tx)));
    SyncHandle {
        commands,
        events,
        task,
    }
}

/// Sender of events; a closed UI end is not an error worth reporting.
#[derive(Clone)]
pub(crate) struct Events(mpsc::UnboundedSender<SyncEvent>);

impl Events {
    pub(crate) fn send(&self, event: SyncEvent) {
        let _ = self.0.send(event);
    }
}

async fn run(
    backend: Arc<dyn Backend>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: Events,
) {
    events.send(SyncEvent::Connection(Connection::Connecting));
    let (reload_tx, reload_rx) = mpsc::unbounded_channel::<()>();
    let feed = tokio::spawn(feed::follow(backend.clone(), events.clone(), reload_rx));
    let (view_tx, view_rx) = watch::channel::<Option<(TicketId, ContactId)>>(None);
    let viewer = tokio::spawn(load_views(backend.clone(), events.clone(), view_rx));
    let (write_tx, write_rx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(writer::send_in_order(
        backend.clone(),
        events.clone(),
        write_rx,
    ));

    while let Some(command) = commands.recv().await {
        match command {
            Command::Reload => {
                let _ = reload_tx.send(());
            }
            Command::View { ticket, contact } => {
                let _ = view_tx.send(Some((ticket, contact)));
            }
            Command::Write(op, write) => {
                let _ = write_tx.send((op, write));
            }
            Command::Shutdown => break,
        }
    }
    feed.abort();
    viewer.abort();
    // Closing the queue lets the writer finish what is queued, then stop.
    drop(write_tx);
    let _ = writer.await;
    events.send(SyncEvent::Stopped);
}

/// Loads notes and chat of the ticket in view. Only the latest request
/// matters: moving through the list quickly does not queue a fetch per row.
async fn load_views(
    backend: Arc<dyn Backend>,
    events: Events,
    mut view: watch::Receiver<Option<(TicketId, ContactId)>>,
) {
    while view.changed().await.is_ok() {
        let Some((ticket, contact)) = *view.borrow_and_update() else {
            continue;
        };
        let (notes, messages) = tokio::join!(backend.notes(ticket), backend.messages(contact));
        match notes {
            Ok(notes) => events.send(SyncEvent::Notes(ticket, notes)),
            Err(BackendError::NotFound(_)) => {}
            Err(e) => events.send(SyncEvent::Error(format!("notes not loaded: {e}"))),
        }
        match messages {
            Ok(messages) => events.send(SyncEvent::Messages(contact, messages)),
            Err(e) => events.send(SyncEvent::Error(format!("chat not loaded: {e}"))),
        }
    }
}

/// Loads every ticket, page by page.
pub(crate) async fn all_tickets(backend: &dyn Backend) -> BackendResult<Vec<Ticket>> {
    let mut tickets = Vec::new();
    let mut query = TicketQuery {
        limit: Some(deskterm_api::PAGE_LIMIT_MAX),
        ..Default::default()
    };
    loop {
        let page = backend.tickets(&query).await?;
        tickets.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(tickets),
        }
    }
}
