//! What the detail pane shows besides the ticket, read from the backend only
//! while it is on screen: a ticket's change history and a customer's other
//! tickets. Only the newest request matters: moving through the list
//! abandons the read for the ticket left behind.

use std::sync::Arc;

use deskterm_api::{ContactId, HistoryEntry, SortField, Ticket, TicketId, TicketQuery};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Events, SyncEvent};
use crate::backend::Backend;

/// How many of a customer's tickets are read: the pane lists the last 25
/// besides the one in view.
pub const CONTACT_TICKETS: u32 = 26;

/// Something read for the detail pane ([`super::Command::Read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// The change history of a ticket.
    History(TicketId),
    /// A customer's tickets, newest first.
    ContactTickets(ContactId),
}

/// What the backend answered for an [`Extra`]; errors are for the operator.
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraAnswer {
    /// The history of a ticket, oldest first.
    History(TicketId, Result<Vec<HistoryEntry>, String>),
    /// A customer's tickets, newest first.
    ContactTickets(ContactId, Result<Vec<Ticket>, String>),
}

/// Reads what the UI asks for, the newest request only.
pub(super) async fn read(
    backend: Arc<dyn Backend>,
    events: Events,
    mut asked: watch::Receiver<Option<Extra>>,
) {
    let mut running: Option<JoinHandle<()>> = None;
    while asked.changed().await.is_ok() {
        let Some(extra) = *asked.borrow_and_update() else {
            continue;
        };
        if let Some(previous) = running.take() {
            previous.abort();
        }
        let (backend, events) = (backend.clone(), events.clone());
        running = Some(tokio::spawn(async move {
            let answer = answer(backend.as_ref(), extra).await;
            events.send(SyncEvent::Extra(answer));
        }));
    }
    if let Some(previous) = running {
        previous.abort();
    }
}

async fn answer(backend: &dyn Backend, extra: Extra) -> ExtraAnswer {
    match extra {
        Extra::History(ticket) => ExtraAnswer::History(
            ticket,
            backend
                .history(ticket)
                .await
                .map_err(|e| format!("the history could not be read: {e}")),
        ),
        Extra::ContactTickets(contact) => {
            let query = TicketQuery {
                contact: Some(contact),
                sort: Some(format!("-{}", SortField::Created.as_str())),
                limit: Some(CONTACT_TICKETS),
                ..TicketQuery::default()
            };
            ExtraAnswer::ContactTickets(
                contact,
                backend
                    .tickets(&query)
                    .await
                    .map(|page| page.items)
                    .map_err(|e| format!("the customer's tickets could not be read: {e}")),
            )
        }
    }
}
