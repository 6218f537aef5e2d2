//! The sync engine: the only place that talks to a backend.
//!
//! The UI sends [`Command`]s and receives [`SyncEvent`]s over channels; it
//! never awaits the network. The engine starts from the local [`cache`] (so
//! the last known tickets show at once, also offline), follows the backend's
//! change feed, loads notes and chats of the ticket in view ("latest request
//! wins"), and sends the operator's writes through a durable outbox: a write
//! is on disk before it is sent, is sent in order, is retried until the
//! server takes it, and a conflict is never settled silently.

pub mod cache;
pub mod conflict;
mod extras;
mod feed;
mod writer;

use std::sync::Arc;

use deskterm_api::{
    ChatMessage, ContactId, Me, Meta, NewStatus, NewTicket, Note, Stats, StatusDef, Ticket,
    TicketId, TicketPatch, TicketQuery,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::backend::{Backend, Capabilities, ConversationKey, StatsQuery};
use cache::{Cache, OutboxEntry};
pub use extras::{CONTACT_TICKETS, Extra, ExtraAnswer};

/// Identifies one write, in the UI and in the outbox; also its place in the sending order.
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
    /// A write: stored in the outbox, then sent in order.
    Write {
        /// Its id.
        op: OpId,
        /// What to do.
        write: Write,
        /// The ticket as the operator saw it (patches and deletes).
        base: Option<Ticket>,
    },
    /// Several writes made by one command (a bulk change): stored in the
    /// outbox in one transaction, all or none, then sent in order.
    WriteAll(Vec<Queued>),
    /// The operator settled a conflict.
    Resolve {
        /// The write in conflict.
        op: OpId,
        /// What to do with it.
        resolution: Resolution,
    },
    /// Ask the backend for tickets this client does not hold (older closed
    /// ones outside the sync scope); answered with [`SyncEvent::Found`].
    /// Only the newest search matters.
    Search(TicketQuery),
    /// Read statistics; answered with [`SyncEvent::Stats`].
    Stats(StatsQuery),
    /// Add a custom status; answered with [`SyncEvent::StatusAdded`] and,
    /// when it was added, the new [`SyncEvent::Meta`].
    AddStatus(NewStatus),
    /// Read something the detail pane shows besides the ticket; answered
    /// with [`SyncEvent::Extra`]. Only the newest request matters.
    Read(Extra),
    /// Stop now; unsent writes stay in the outbox for the next start.
    Shutdown,
}

/// One write of a [`Command::WriteAll`].
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    /// Its id.
    pub op: OpId,
    /// What to do.
    pub write: Write,
    /// The ticket as the operator saw it (patches and deletes).
    pub base: Option<Ticket>,
}

/// How the operator settled a conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Send this instead, on top of the server's current ticket (may be an
    /// empty patch when every field was settled in favour of theirs).
    Send(Write),
    /// Drop the write; the server's ticket stays as it is.
    Drop,
}

/// A change the operator made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Delete a ticket last seen at `version`.
    Delete {
        /// Ticket.
        ticket: TicketId,
        /// Version the operator saw.
        version: i64,
    },
    /// Open a ticket.
    Create {
        /// The new ticket.
        ticket: NewTicket,
    },
    /// Add an internal note.
    AddNote {
        /// Ticket.
        ticket: TicketId,
        /// Text.
        body: String,
    },
    /// E-mail a ticket, its customer and the chat to people outside the helpdesk.
    Escalate {
        /// Ticket.
        ticket: TicketId,
        /// E-mail addresses.
        to: Vec<String>,
        /// Why, for them.
        note: Option<String>,
    },
    /// Turn the signed-in operator's ticket e-mails on or off.
    SetProfile {
        /// Whether they receive an e-mail when a ticket is opened or changed.
        receive_ticket_emails: bool,
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

impl Write {
    /// The existing ticket this write changes, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Write::Patch { ticket, .. } | Write::Delete { ticket, .. } => Some(*ticket),
            Write::AddNote { ticket, .. } | Write::Escalate { ticket, .. } => Some(*ticket),
            Write::SendMessage { ticket, .. } => *ticket,
            Write::Create { .. } | Write::SetProfile { .. } => None,
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// First contact under way.
    Connecting,
    /// Live: changes arrive as they happen.
    Connected,
    /// The link broke a moment ago; trying again.
    Reconnecting {
        /// Why it broke.
        reason: String,
    },
    /// The backend has not answered for a while; still trying, with longer pauses.
    Offline {
        /// The last failure.
        reason: String,
    },
}

/// What the engine tells the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// Connection state changed.
    Connection(Connection),
    /// The backend answered: the data on screen is current as of now.
    Synced,
    /// What the backend can do (sent first): the UI hides what it lacks.
    Capabilities(Capabilities),
    /// The signed-in operator.
    SignedIn(Me),
    /// Statuses, priorities, categories, operators.
    Meta(Meta),
    /// Every ticket, replacing what the UI had (a small set in one piece).
    Snapshot(Vec<Ticket>),
    /// A full set of tickets begins, to arrive in [`SyncEvent::SnapshotBatch`]es,
    /// most recently updated first when it comes from the cache. Until
    /// [`SyncEvent::SnapshotEnd`], tickets not yet sent are still listed.
    SnapshotBegin {
        /// How many tickets to expect, when known (for a progress indicator).
        total: Option<u64>,
    },
    /// Tickets of the snapshot under way.
    SnapshotBatch(Batch),
    /// The snapshot is complete: tickets it did not contain are gone.
    SnapshotEnd,
    /// The snapshot broke off: what came stays, nothing is removed; a new
    /// one follows when the link is back.
    SnapshotFailed,
    /// The whole ticket in view (with its description), as cached or loaded.
    Detail(Ticket),
    /// What the backend found for a [`Command::Search`].
    Found {
        /// The listing asked for.
        query: TicketQuery,
        /// The tickets it returned (also put in the cache).
        tickets: Vec<Ticket>,
        /// How many matched on the server, over all pages.
        total: u64,
    },
    /// What the backend answered for a [`Command::Stats`].
    Stats(StatsQuery, Result<Stats, String>),
    /// What the backend answered for a [`Command::AddStatus`]: the status,
    /// or why not.
    StatusAdded(Result<StatusDef, String>),
    /// What the backend answered for a [`Command::Read`].
    Extra(ExtraAnswer),
    /// A ticket was created or changed (here or elsewhere).
    TicketChanged(Ticket),
    /// A ticket was deleted.
    TicketDeleted(TicketId),
    /// All notes of a ticket.
    Notes(TicketId, Vec<Note>),
    /// A note was added (here or elsewhere).
    NoteAdded(Note),
    /// A conversation (a contact's or a ticket's, as the backend keys them).
    Messages(ConversationKey, Vec<ChatMessage>),
    /// A chat message was sent or received.
    MessageAdded(ChatMessage),
    /// Writes left unsent by an earlier session, in order.
    Outbox(Vec<OutboxEntry>),
    /// A write is in the outbox on disk: from now on it survives a crash.
    Stored(OpId),
    /// A write landed (or turned out to be there already).
    WriteDone(OpId),
    /// A write could not be sent for a passing reason; it stays queued and is retried.
    WriteRetrying {
        /// Which write.
        op: OpId,
        /// Why, for the operator.
        error: String,
    },
    /// Someone else changed other fields of the ticket; the write was merged and resent.
    Merged(OpId),
    /// Someone else changed the same fields (or, for a delete, anything):
    /// the operator decides with [`Command::Resolve`]. The write waits.
    Conflict {
        /// Which write.
        op: OpId,
        /// The write as queued.
        write: Write,
        /// The ticket as the operator saw it.
        base: Option<Ticket>,
        /// The ticket as it is now on the server.
        theirs: Ticket,
    },
    /// A write was refused for good and left the outbox; the screen goes back to the server's state.
    WriteFailed {
        /// Which write.
        op: OpId,
        /// The write, so its text can be given back to the operator.
        write: Write,
        /// Why, for the operator.
        error: String,
        /// Why per field, when the backend said (field name → problem).
        fields: Vec<(String, String)>,
    },
    /// Something the operator should know about.
    Notice(String),
    /// Something went wrong that the operator should know about.
    Error(String),
    /// The engine stopped after [`Command::Shutdown`].
    Stopped,
}

/// Tickets of a snapshot. While the UI holds a batch, the engine holds back
/// the next few: a slow screen slows the load instead of piling up tickets.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The tickets.
    pub tickets: Vec<Ticket>,
    _credit: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl Batch {
    /// A batch with no flow control (tests, small sets).
    pub fn new(tickets: Vec<Ticket>) -> Batch {
        Batch {
            tickets,
            _credit: None,
        }
    }
}

impl PartialEq for Batch {
    fn eq(&self, other: &Batch) -> bool {
        self.tickets == other.tickets
    }
}

/// Tickets per snapshot batch.
pub(crate) const BATCH: u32 = 2_000;
/// Batches the UI may have queued and not yet taken in.
const BATCHES_AHEAD: usize = 4;

/// Hands snapshot batches to the UI, at most [`BATCHES_AHEAD`] at a time.
#[derive(Clone)]
pub(crate) struct Batches {
    credits: Arc<tokio::sync::Semaphore>,
}

impl Default for Batches {
    fn default() -> Self {
        Batches {
            credits: Arc::new(tokio::sync::Semaphore::new(BATCHES_AHEAD)),
        }
    }
}

impl Batches {
    /// Sends a batch once the UI has room for it.
    pub(crate) async fn send(&self, events: &Events, tickets: Vec<Ticket>) {
        let credit = self
            .credits
            .clone()
            .acquire_owned()
            .await
            .ok()
            .map(Arc::new);
        events.send(SyncEvent::SnapshotBatch(Batch {
            tickets,
            _credit: credit,
        }));
    }
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
    /// Stops the engine at once.
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Starts the engine on the current tokio runtime.
pub fn start(backend: Arc<dyn Backend>, cache: Cache) -> SyncHandle {
    start_with(backend, cache, Options::default())
}

/// How the engine replicates (`[sync]` in the config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Tickets closed more than this many days ago are not replicated.
    pub closed_days: Option<u32>,
}

/// Like [`start`], with options.
pub fn start_with(backend: Arc<dyn Backend>, cache: Cache, options: Options) -> SyncHandle {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (event_tx, events) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(backend, cache, command_rx, Events(event_tx), options));
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
    cache: Cache,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: Events,
    options: Options,
) {
    events.send(SyncEvent::Capabilities(backend.capabilities()));
    let cached = match cache.load().await {
        Ok(cached) => cached,
        Err(e) => {
            events.send(SyncEvent::Error(format!(
                "the local cache could not be read: {e:#}"
            )));
            cache::Cached::default()
        }
    };
    if let Some(me) = cached.me {
        events.send(SyncEvent::SignedIn(me));
    }
    if !cached.outbox.is_empty() {
        events.send(SyncEvent::Outbox(cached.outbox));
    }
    if let Some(meta) = cached.meta {
        events.send(SyncEvent::Meta(meta));
        // The newest tickets first: the default list's first screen is right
        // after the first batch, whatever the size of the helpdesk.
        send_cached_tickets(&cache, &events, cached.tickets).await;
    }
    events.send(SyncEvent::Connection(Connection::Connecting));

    let (reload_tx, reload_rx) = mpsc::unbounded_channel::<()>();
    // The feed tells the writer when the link comes back, so a write waiting
    // out its backoff goes at once instead of at the end of its pause.
    let online = Arc::new(Notify::new());
    let feed = tokio::spawn(feed::follow(
        backend.clone(),
        cache.clone(),
        events.clone(),
        reload_rx,
        cached.since,
        online.clone(),
        options,
    ));
    let (view_tx, view_rx) = watch::channel::<Option<(TicketId, ContactId)>>(None);
    let viewer = tokio::spawn(load_views(
        backend.clone(),
        cache.clone(),
        events.clone(),
        view_rx,
    ));
    let (search_tx, search_rx) = watch::channel::<Option<TicketQuery>>(None);
    let searcher = tokio::spawn(search(
        backend.clone(),
        cache.clone(),
        events.clone(),
        search_rx,
    ));
    let (read_tx, read_rx) = watch::channel::<Option<Extra>>(None);
    let reader = tokio::spawn(extras::read(backend.clone(), events.clone(), read_rx));
    let wake = Arc::new(Notify::new());
    let writer = tokio::spawn(writer::send_outbox(
        backend.clone(),
        cache.clone(),
        events.clone(),
        wake.clone(),
        online,
    ));

    while let Some(command) = commands.recv().await {
        match command {
            Command::Reload => {
                let _ = reload_tx.send(());
            }
            Command::View { ticket, contact } => {
                let _ = view_tx.send(Some((ticket, contact)));
            }
            Command::Write { op, write, base } => {
                match cache.enqueue(op, &write, base.as_ref()).await {
                    Ok(()) => {
                        events.send(SyncEvent::Stored(op));
                        wake.notify_one();
                    }
                    Err(e) => events.send(SyncEvent::WriteFailed {
                        op,
                        write,
                        error: format!("could not be saved on this machine: {e:#}"),
                        fields: Vec::new(),
                    }),
                }
            }
            Command::WriteAll(writes) => match cache.enqueue_all(&writes).await {
                Ok(()) => {
                    tracing::info!(
                        "{} writes of one command stored in one transaction (ops {}..={})",
                        writes.len(),
                        writes.first().map_or(0, |w| w.op),
                        writes.last().map_or(0, |w| w.op)
                    );
                    for w in &writes {
                        events.send(SyncEvent::Stored(w.op));
                    }
                    wake.notify_one();
                }
                Err(e) => {
                    let error = format!("could not be saved on this machine: {e:#}");
                    for w in writes {
                        events.send(SyncEvent::WriteFailed {
                            op: w.op,
                            write: w.write,
                            error: error.clone(),
                            fields: Vec::new(),
                        });
                    }
                }
            },
            Command::Resolve { op, resolution } => {
                if let Err(e) = writer::resolve(&cache, &events, op, resolution).await {
                    events.send(SyncEvent::Error(format!(
                        "the decision was not saved: {e:#}"
                    )));
                }
                wake.notify_one();
            }
            Command::Search(query) => {
                let _ = search_tx.send(Some(query));
            }
            Command::Read(extra) => {
                let _ = read_tx.send(Some(extra));
            }
            Command::Stats(query) => {
                let (backend, events) = (backend.clone(), events.clone());
                tokio::spawn(async move {
                    let answer = backend
                        .stats(&query)
                        .await
                        .map_err(|e| format!("the statistics could not be read: {e}"));
                    events.send(SyncEvent::Stats(query, answer));
                });
            }
            Command::AddStatus(status) => {
                tokio::spawn(add_status(backend.clone(), events.clone(), status));
            }
            Command::Shutdown => break,
        }
    }
    feed.abort();
    viewer.abort();
    searcher.abort();
    reader.abort();
    writer.abort();
    let _ = tokio::join!(feed, viewer, writer, searcher);
    events.send(SyncEvent::Stopped);
}

/// Sends every cached ticket to the UI, newest first, batch by batch.
async fn send_cached_tickets(cache: &Cache, events: &Events, total: u64) {
    events.send(SyncEvent::SnapshotBegin { total: Some(total) });
    let batches = Batches::default();
    let mut after = None;
    loop {
        match cache.tickets_page(after, BATCH).await {
            Ok((tickets, cursor)) => {
                let last = tickets.len() < BATCH as usize;
                if !tickets.is_empty() {
                    batches.send(events, tickets).await;
                }
                if last || cursor.is_none() {
                    break;
                }
                after = cursor;
            }
            Err(e) => {
                events.send(SyncEvent::Error(format!(
                    "the local cache could not be read: {e:#}"
                )));
                break;
            }
        }
    }
    events.send(SyncEvent::SnapshotEnd);
}

/// Adds a custom status and, once added, sends the new statuses.
async fn add_status(backend: Arc<dyn Backend>, events: Events, status: NewStatus) {
    match backend.add_status(&status).await {
        Ok(added) => {
            events.send(SyncEvent::StatusAdded(Ok(added)));
            match backend.meta().await {
                Ok(meta) => events.send(SyncEvent::Meta(meta)),
                Err(e) => events.send(SyncEvent::Error(format!(
                    "the new status is added; the statuses could not be read again: {e}"
                ))),
            }
        }
        Err(e) => events.send(SyncEvent::StatusAdded(Err(e.to_string()))),
    }
}

/// Runs the server searches the UI asks for, the newest only: a search
/// still under way when a newer one comes is abandoned.
async fn search(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    mut asked: watch::Receiver<Option<TicketQuery>>,
) {
    let mut running: Option<JoinHandle<()>> = None;
    while asked.changed().await.is_ok() {
        let Some(query) = asked.borrow_and_update().clone() else {
            continue;
        };
        if let Some(previous) = running.take() {
            previous.abort();
        }
        let (backend, cache, events) = (backend.clone(), cache.clone(), events.clone());
        running = Some(tokio::spawn(async move {
            match backend.tickets(&query).await {
                Ok(page) => {
                    for t in &page.items {
                        if let Err(e) = cache.put_ticket(t).await {
                            tracing::warn!("found ticket {} not cached: {e:#}", t.id);
                        }
                    }
                    events.send(SyncEvent::Found {
                        query,
                        tickets: page.items,
                        total: page.total,
                    });
                }
                Err(e) => events.send(SyncEvent::Error(format!(
                    "the server could not search older tickets: {e}"
                ))),
            }
        }));
    }
    if let Some(previous) = running {
        previous.abort();
    }
}

/// Loads notes and chat of the ticket in view: the cached ones at once, then
/// the server's. Only the latest request matters: moving through the list
/// abandons the fetch for the ticket left behind, so a slow server never
/// queues a fetch per row and never delays what is on screen.
async fn load_views(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    mut view: watch::Receiver<Option<(TicketId, ContactId)>>,
) {
    let mut fetching: Option<JoinHandle<()>> = None;
    while view.changed().await.is_ok() {
        let Some((ticket, contact)) = *view.borrow_and_update() else {
            continue;
        };
        if let Some(previous) = fetching.take() {
            previous.abort();
        }
        if let Ok(Some(whole)) = cache.ticket(ticket).await {
            events.send(SyncEvent::Detail(whole));
        }
        if let Ok(notes) = cache.notes(ticket).await
            && !notes.is_empty()
        {
            events.send(SyncEvent::Notes(ticket, notes));
        }
        let conversation = backend.capabilities().conversations.key(ticket, contact);
        if let Ok(messages) = cache.messages(&conversation).await
            && !messages.is_empty()
        {
            events.send(SyncEvent::Messages(conversation, messages));
        }
        fetching = Some(tokio::spawn(fetch_view(
            backend.clone(),
            cache.clone(),
            events.clone(),
            ticket,
            conversation,
        )));
    }
    if let Some(previous) = fetching {
        previous.abort();
    }
}

async fn fetch_view(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    ticket: TicketId,
    conversation: ConversationKey,
) {
    let chat = async {
        if backend.capabilities().chat {
            Some(backend.messages(&conversation).await)
        } else {
            None
        }
    };
    let (notes, messages) = tokio::join!(backend.notes(ticket), chat);
    match notes {
        Ok(notes) => {
            if let Err(e) = cache.put_notes(ticket, &notes).await {
                tracing::warn!("notes not cached: {e:#}");
            }
            events.send(SyncEvent::Notes(ticket, notes));
        }
        Err(e) => tracing::info!("notes of {ticket} not loaded: {e}"),
    }
    match messages {
        None => {}
        Some(Ok(messages)) => {
            if let Err(e) = cache.put_messages(&conversation, &messages).await {
                tracing::warn!("chat not cached: {e:#}");
            }
            events.send(SyncEvent::Messages(conversation, messages));
        }
        Some(Err(e)) => tracing::info!("chat {conversation:?} not loaded: {e}"),
    }
}
