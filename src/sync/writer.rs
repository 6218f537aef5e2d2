//! Sends the operator's writes one at a time, in the order they were made.

use std::collections::HashMap;
use std::sync::Arc;

use deskterm_api::{NewMessage, NewNote, TicketId};
use tokio::sync::mpsc;

use super::feed::Backoff;
use super::{Events, OpId, SyncEvent, Write};
use crate::backend::{Backend, BackendError};

/// Attempts for a write that fails for a passing reason (network, timeout, 5xx).
const ATTEMPTS: u32 = 4;

/// Versions this client produced itself: `(ticket, version before) → version after`.
///
/// Two quick edits of one ticket are both based on the version the operator
/// saw; the second must go on top of the first, not be refused as stale. Only
/// our own writes are followed: a version made by someone else breaks the
/// chain, and the write is refused with a conflict, as it should be.
#[derive(Debug, Default)]
struct OwnVersions(HashMap<(TicketId, i64), i64>);

impl OwnVersions {
    fn current(&self, ticket: TicketId, mut version: i64) -> i64 {
        // Each step strictly increases the version, so this ends.
        while let Some(&next) = self.0.get(&(ticket, version)) {
            version = next;
        }
        version
    }

    fn record(&mut self, ticket: TicketId, from: i64, to: i64) {
        if to > from {
            self.0.insert((ticket, from), to);
        }
    }
}

pub(super) async fn send_in_order(
    backend: Arc<dyn Backend>,
    events: Events,
    mut queue: mpsc::UnboundedReceiver<(OpId, Write)>,
) {
    let mut own = OwnVersions::default();
    while let Some((op, write)) = queue.recv().await {
        let mut backoff = Backoff::default();
        let mut attempt = 1;
        loop {
            match send(backend.as_ref(), &events, &mut own, &write, op).await {
                Ok(()) => {
                    events.send(SyncEvent::WriteDone(op));
                    break;
                }
                Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                    tracing::warn!("write {op} failed (attempt {attempt}): {e}");
                    attempt += 1;
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(e) => {
                    let current = match &e {
                        BackendError::Conflict { current } => current.clone(),
                        _ => None,
                    };
                    events.send(SyncEvent::WriteFailed {
                        op,
                        error: format!("{}: {e}", describe(&write)),
                        current,
                    });
                    break;
                }
            }
        }
    }
}

fn describe(write: &Write) -> &'static str {
    match write {
        Write::Patch { .. } => "change not saved",
        Write::AddNote { .. } => "note not saved",
        Write::SendMessage { .. } => "message not sent",
    }
}

async fn send(
    backend: &dyn Backend,
    events: &Events,
    own: &mut OwnVersions,
    write: &Write,
    op: OpId,
) -> Result<(), BackendError> {
    // One key per write: a retry after a lost answer is recognised by the server.
    let key = format!("op-{}-{op}", session_key());
    match write {
        Write::Patch {
            ticket,
            version,
            patch,
        } => {
            let base = own.current(*ticket, *version);
            let saved = backend.patch_ticket(*ticket, base, patch).await?;
            own.record(*ticket, base, saved.version);
            events.send(SyncEvent::TicketChanged(saved));
        }
        Write::AddNote { ticket, body } => {
            let note = backend
                .add_note(*ticket, &NewNote { body: body.clone() }, &key)
                .await?;
            events.send(SyncEvent::NoteAdded(note));
        }
        Write::SendMessage {
            contact,
            ticket,
            body,
        } => {
            let message = backend
                .send_message(
                    *contact,
                    &NewMessage {
                        body: body.clone(),
                        ticket_id: *ticket,
                    },
                    &key,
                )
                .await?;
            events.send(SyncEvent::MessageAdded(message));
        }
    }
    Ok(())
}

/// A random key for this run, so op numbers of two runs never collide.
fn session_key() -> &'static str {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(|| uuid::Uuid::new_v4().simple().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_versions_follow_only_our_chain() {
        let mut own = OwnVersions::default();
        assert_eq!(own.current(1, 5), 5);
        own.record(1, 5, 6);
        own.record(1, 6, 7);
        assert_eq!(own.current(1, 5), 7);
        assert_eq!(own.current(1, 6), 7);
        assert_eq!(own.current(2, 5), 5);
        // A version someone else made is not ours to skip over.
        assert_eq!(own.current(1, 8), 8);
    }
}
