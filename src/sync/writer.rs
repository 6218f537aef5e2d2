//! Sends the outbox, one write at a time, in the order the operator made them.
//!
//! A write leaves the outbox only when the server took it, when the server
//! already has it, or when the server refused it for good (then the operator
//! is told and gets the text back). Passing failures are retried with
//! backoff, forever: the work is on disk, and the link will come back.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use deskterm_api::{MePatch, NewEscalation, NewMessage, NewNote, Ticket, TicketId, TicketPatch};
use tokio::sync::Notify;

use super::cache::{Cache, OutboxEntry};
use super::conflict::{Reconciled, reconcile};
use super::feed::Backoff;
use super::{Events, OpId, Resolution, SyncEvent, Write};
use crate::backend::{Backend, BackendError, ConversationKey, Conversations, Version};

/// What happened to one attempt.
enum Sent {
    /// Landed (or was already there): leaves the outbox.
    Done,
    /// Rewritten after a merge: send again at once.
    Again,
    /// Waits for the operator.
    Blocked,
    /// Passing failure: try again later.
    Retry(String),
    /// Refused for good: why, and why per field when the server said.
    Refused(String, Vec<(String, String)>),
}

/// Runs until aborted.
pub(super) async fn send_outbox(
    backend: Arc<dyn Backend>,
    cache: Cache,
    events: Events,
    wake: Arc<Notify>,
    online: Arc<Notify>,
) {
    let mut backoff = Backoff::default();
    let mut landed = Landed::default();
    loop {
        let entries = match cache.outbox().await {
            Ok(entries) => entries,
            Err(e) => {
                events.send(SyncEvent::Error(format!(
                    "the outbox could not be read: {e:#}"
                )));
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        let Some(entry) = next_sendable(&entries) else {
            wake.notified().await;
            continue;
        };
        let mut entry = entry.clone();
        if landed.catch_up(&mut entry) {
            persist_rebase(&cache, &entry).await;
        }
        let entry = &entry;
        let op = entry.op;
        let outcome = send(backend.as_ref(), &cache, &events, &mut landed, entry).await;
        let settled = match outcome {
            Sent::Done => {
                backoff.reset();
                cache
                    .complete(op)
                    .await
                    .map(|()| events.send(SyncEvent::WriteDone(op)))
            }
            Sent::Again | Sent::Blocked => {
                backoff.reset();
                Ok(())
            }
            Sent::Retry(error) => {
                let recorded = cache.note_failure(op, &error).await;
                events.send(SyncEvent::WriteRetrying { op, error });
                // The pause ends early when the feed sees the server again.
                tokio::select! {
                    _ = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = online.notified() => backoff.reset(),
                }
                recorded
            }
            Sent::Refused(error, fields) => {
                backoff.reset();
                cache.complete(op).await.map(|()| {
                    events.send(SyncEvent::WriteFailed {
                        op,
                        write: entry.write.clone(),
                        error,
                        fields,
                    })
                })
            }
        };
        if let Err(e) = settled {
            events.send(SyncEvent::Error(format!(
                "the outbox could not be updated: {e:#}"
            )));
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }
}

/// The first write that may go now: not waiting for a decision, and not
/// behind one that waits on the same ticket (the order of one ticket's
/// writes is kept; other tickets do not wait).
fn next_sendable(entries: &[OutboxEntry]) -> Option<&OutboxEntry> {
    let mut held: HashSet<TicketId> = HashSet::new();
    for entry in entries {
        let ticket = entry.write.ticket();
        if entry.conflict.is_some() {
            if let Some(t) = ticket {
                held.insert(t);
            }
            continue;
        }
        if ticket.is_some_and(|t| held.contains(&t)) {
            continue;
        }
        return Some(entry);
    }
    None
}

fn describe(write: &Write) -> &'static str {
    match write {
        Write::Patch { .. } => "change not saved",
        Write::Delete { .. } => "ticket not deleted",
        Write::Create { .. } => "ticket not created",
        Write::AddNote { .. } => "note not saved",
        Write::SendMessage { .. } => "message not sent",
        Write::Escalate { .. } => "escalation not sent",
        Write::SetProfile { .. } => "profile not saved",
    }
}

async fn send(
    backend: &dyn Backend,
    cache: &Cache,
    events: &Events,
    landed: &mut Landed,
    entry: &OutboxEntry,
) -> Sent {
    let key = cache.idempotency_key(entry.op);
    let result = match &entry.write {
        Write::Patch {
            ticket,
            version,
            patch,
        } => match backend
            .patch_ticket(*ticket, &Version::from(*version), patch)
            .await
        {
            Ok(saved) => {
                landed.record(entry.op, *ticket, patch, *version, saved.version);
                follow_own_change(
                    cache,
                    entry,
                    *ticket,
                    patch,
                    Some((*version, saved.version)),
                )
                .await;
                cache_ticket(cache, &saved).await;
                events.send(SyncEvent::TicketChanged(saved));
                Ok(())
            }
            Err(e) => Err(e),
        },
        Write::Delete { ticket, version } => match backend
            .delete_ticket(*ticket, &Version::from(*version))
            .await
        {
            // Gone already (an earlier attempt landed, or someone else deleted it): done.
            Ok(()) | Err(BackendError::NotFound(_)) => {
                if let Err(e) = cache.remove_ticket(*ticket).await {
                    tracing::warn!("deleted ticket still cached: {e:#}");
                }
                events.send(SyncEvent::TicketDeleted(*ticket));
                Ok(())
            }
            Err(e) => Err(e),
        },
        Write::Create { ticket } => match backend.create_ticket(ticket, &key).await {
            Ok(created) => {
                cache_ticket(cache, &created).await;
                events.send(SyncEvent::TicketChanged(created));
                Ok(())
            }
            Err(e) => Err(e),
        },
        Write::AddNote { ticket, body } => {
            match backend
                .add_note(*ticket, &NewNote { body: body.clone() }, &key)
                .await
            {
                Ok(note) => {
                    if let Err(e) = cache.add_note(&note).await {
                        tracing::warn!("note not cached: {e:#}");
                    }
                    events.send(SyncEvent::NoteAdded(note));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Write::Escalate { ticket, to, note } => {
            let escalation = NewEscalation {
                to: to.clone(),
                note: note.clone(),
            };
            match backend.escalate(*ticket, &escalation, &key).await {
                Ok(queued) => {
                    events.send(SyncEvent::Notice(format!(
                        "escalation queued: the server e-mails it to {}",
                        queued.to.join(", ")
                    )));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Write::SetProfile {
            receive_ticket_emails,
        } => {
            let patch = MePatch {
                receive_ticket_emails: Some(*receive_ticket_emails),
            };
            match backend.set_profile(&patch).await {
                Ok(me) => {
                    if let Err(e) = cache.put_me(&me).await {
                        tracing::warn!("profile not cached: {e:#}");
                    }
                    events.send(SyncEvent::SignedIn(me));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        Write::SendMessage {
            contact,
            ticket,
            body,
        } => {
            let message = NewMessage {
                body: body.clone(),
                ticket_id: *ticket,
            };
            let conversation = match (backend.capabilities().conversations, ticket) {
                (Conversations::ByContact, _) => Ok(ConversationKey::Contact(*contact)),
                (Conversations::ByTicket, Some(t)) => Ok(ConversationKey::Ticket(*t)),
                (Conversations::ByTicket, None) => Err(BackendError::Invalid {
                    message: "this helpdesk keeps conversations per ticket: open a ticket first"
                        .into(),
                    fields: vec![],
                }),
            };
            let sent = match conversation {
                Ok(c) => backend.send_message(&c, &message, &key).await,
                Err(e) => Err(e),
            };
            match sent {
                Ok(sent) => {
                    let conversations = backend.capabilities().conversations;
                    if let Err(e) = cache.add_message(&sent, conversations).await {
                        tracing::warn!("message not cached: {e:#}");
                    }
                    events.send(SyncEvent::MessageAdded(sent));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => Sent::Done,
        Err(BackendError::Conflict { current }) => {
            on_conflict(backend, cache, events, entry, current.map(|b| *b)).await
        }
        Err(e) if e.is_transient() => Sent::Retry(format!("{}: {e}", describe(&entry.write))),
        // A revoked token may be fixed by an administrator: keep the work, keep trying.
        Err(e @ BackendError::Unauthorized(_)) => {
            Sent::Retry(format!("{}: {e}", describe(&entry.write)))
        }
        Err(e) => {
            let fields = match &e {
                BackendError::Invalid { fields, .. } => fields.clone(),
                _ => Vec::new(),
            };
            Sent::Refused(format!("{}: {e}", describe(&entry.write)), fields)
        }
    }
}

async fn cache_ticket(cache: &Cache, t: &Ticket) {
    if let Err(e) = cache.put_ticket(t).await {
        tracing::warn!("ticket {} not cached: {e:#}", t.id);
    }
}

/// One of our patches is on the server. The writes queued behind it for the
/// same ticket were made on top of it: their base gets its values, so our
/// own change is never mistaken for someone else's; and when we know the
/// version it produced from the version they were based on (`moved`), their
/// version moves along too. Nobody else's change is ever folded in here.
async fn follow_own_change(
    cache: &Cache,
    sent: &OutboxEntry,
    ticket: TicketId,
    patch: &TicketPatch,
    moved: Option<(i64, i64)>,
) {
    let Ok(entries) = cache.outbox().await else {
        return;
    };
    for mut later in entries
        .into_iter()
        .filter(|e| e.op > sent.op && e.write.ticket() == Some(ticket))
    {
        if bring_along(&mut later, patch, moved) {
            persist_rebase(cache, &later).await;
        }
    }
}

/// Puts our own landed `patch` under a later write of the same ticket; see
/// [`follow_own_change`]. Whether the write changed.
fn bring_along(later: &mut OutboxEntry, patch: &TicketPatch, moved: Option<(i64, i64)>) -> bool {
    let mut changed = false;
    if let (Write::Patch { version, .. } | Write::Delete { version, .. }, Some((from, to))) =
        (&mut later.write, moved)
        && *version == from
    {
        *version = to;
        changed = true;
    }
    if let Some(base) = &mut later.base {
        super::conflict::apply(patch, base);
        if let Some((from, to)) = moved
            && base.version == from
        {
            base.version = to;
        }
        changed = true;
    }
    changed
}

async fn persist_rebase(cache: &Cache, entry: &OutboxEntry) {
    if let Err(e) = cache.rewrite(entry).await {
        tracing::warn!("queued write {} not rebased: {e:#}", entry.op);
    }
}

/// Our own patches that landed in this session, per ticket, with the
/// version each moved from and to. A write made on top of one of them but
/// stored while it was in flight (too late for [`follow_own_change`] to see
/// it) still names the old version; it is brought along before it is sent,
/// rather than taken for someone else's conflicting change.
#[derive(Default)]
struct Landed(HashMap<TicketId, VecDeque<Own>>);

struct Own {
    op: OpId,
    from: i64,
    to: i64,
    patch: TicketPatch,
}

impl Landed {
    /// How many landed patches are remembered per ticket.
    const KEEP: usize = 8;

    fn record(&mut self, op: OpId, ticket: TicketId, patch: &TicketPatch, from: i64, to: i64) {
        let own = self.0.entry(ticket).or_default();
        if own.len() == Self::KEEP {
            own.pop_front();
        }
        own.push_back(Own {
            op,
            from,
            to,
            patch: patch.clone(),
        });
    }

    /// Brings `entry` along over every landed patch older than it whose
    /// version it still names; whether it changed.
    fn catch_up(&self, entry: &mut OutboxEntry) -> bool {
        let (Some(ticket), Write::Patch { version, .. } | Write::Delete { version, .. }) =
            (entry.write.ticket(), &entry.write)
        else {
            return false;
        };
        let Some(own) = self.0.get(&ticket) else {
            return false;
        };
        let mut at = *version;
        let op = entry.op;
        let mut changed = false;
        for o in own.iter().filter(|o| o.op < op) {
            if o.from == at {
                changed |= bring_along(entry, &o.patch, Some((o.from, o.to)));
                at = o.to;
            }
        }
        changed
    }
}

/// A write met a newer ticket on the server.
async fn on_conflict(
    backend: &dyn Backend,
    cache: &Cache,
    events: &Events,
    entry: &OutboxEntry,
    current: Option<Ticket>,
) -> Sent {
    let Some(ticket_id) = entry.write.ticket() else {
        return Sent::Refused(
            "the server reported a conflict on a new ticket".into(),
            Vec::new(),
        );
    };
    let theirs = match current {
        Some(t) => t,
        None => match backend.ticket(ticket_id).await {
            Ok(t) => t,
            Err(BackendError::NotFound(_)) => {
                events.send(SyncEvent::TicketDeleted(ticket_id));
                return Sent::Refused(
                    format!(
                        "{}: the ticket was deleted meanwhile",
                        describe(&entry.write)
                    ),
                    Vec::new(),
                );
            }
            Err(e) => return Sent::Retry(format!("{}: {e}", describe(&entry.write))),
        },
    };
    cache_ticket(cache, &theirs).await;
    events.send(SyncEvent::TicketChanged(theirs.clone()));
    let decision = match (&entry.write, &entry.base) {
        (Write::Patch { patch, .. }, base) => reconcile(base.as_ref(), &theirs, patch),
        // Deleting a ticket someone else just changed asks again.
        (Write::Delete { .. }, _) => Reconciled::Conflict(Vec::new()),
        _ => {
            return Sent::Refused(
                format!("{}: unexpected conflict", describe(&entry.write)),
                Vec::new(),
            );
        }
    };
    let mut rewritten = entry.clone();
    match decision {
        Reconciled::AlreadyThere => {
            // Most likely our own earlier attempt landed and its answer was lost.
            if let Write::Patch { patch, .. } = &entry.write {
                follow_own_change(cache, entry, ticket_id, patch, None).await;
            }
            Sent::Done
        }
        Reconciled::Resend(patch) => {
            rewritten.write = Write::Patch {
                ticket: ticket_id,
                version: theirs.version,
                patch,
            };
            rewritten.base = Some(theirs);
            match cache.rewrite(&rewritten).await {
                Ok(()) => {
                    events.send(SyncEvent::Merged(entry.op));
                    Sent::Again
                }
                Err(e) => Sent::Retry(format!("merge not saved: {e:#}")),
            }
        }
        Reconciled::Conflict(_) => {
            rewritten.conflict = Some(theirs.clone());
            match cache.rewrite(&rewritten).await {
                Ok(()) => {
                    events.send(SyncEvent::Conflict {
                        op: entry.op,
                        write: entry.write.clone(),
                        base: entry.base.clone(),
                        theirs,
                    });
                    Sent::Blocked
                }
                Err(e) => Sent::Retry(format!("conflict not saved: {e:#}")),
            }
        }
    }
}

/// Applies the operator's decision on a write in conflict.
pub(super) async fn resolve(
    cache: &Cache,
    events: &Events,
    op: OpId,
    resolution: Resolution,
) -> anyhow::Result<()> {
    let entries = cache.outbox().await?;
    let Some(entry) = entries.into_iter().find(|e| e.op == op) else {
        return Ok(());
    };
    let theirs = entry.conflict.clone();
    match resolution {
        Resolution::Drop => {
            cache.complete(op).await?;
            events.send(SyncEvent::WriteDone(op));
        }
        Resolution::Send(write) => {
            let empty_patch = matches!(&write, Write::Patch { patch, .. } if patch.is_empty());
            if empty_patch {
                cache.complete(op).await?;
                events.send(SyncEvent::WriteDone(op));
                return Ok(());
            }
            // The decision was made looking at their version: that is the new base.
            let write = match (write, &theirs) {
                (Write::Patch { ticket, patch, .. }, Some(t)) => Write::Patch {
                    ticket,
                    version: t.version,
                    patch,
                },
                (Write::Delete { ticket, .. }, Some(t)) => Write::Delete {
                    ticket,
                    version: t.version,
                },
                (other, _) => other,
            };
            let resolved = OutboxEntry {
                write,
                base: theirs.or(entry.base.clone()),
                conflict: None,
                ..entry
            };
            cache.rewrite(&resolved).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: OpId, write: Write, blocked: bool) -> OutboxEntry {
        let t = crate::sync::conflict::sample_ticket();
        OutboxEntry {
            op,
            write,
            base: None,
            conflict: blocked.then_some(t),
            attempts: 0,
            last_error: None,
        }
    }

    fn patch(ticket: TicketId) -> Write {
        Write::Patch {
            ticket,
            version: 1,
            patch: TicketPatch::default(),
        }
    }

    #[test]
    fn a_conflict_holds_back_its_ticket_only() {
        let entries = vec![
            entry(1, patch(7), true),
            entry(2, patch(7), false),
            entry(3, patch(8), false),
        ];
        assert_eq!(next_sendable(&entries).map(|e| e.op), Some(3));
        let note = Write::AddNote {
            ticket: 7,
            body: "x".into(),
        };
        let entries = vec![entry(1, patch(7), true), entry(2, note, false)];
        assert_eq!(next_sendable(&entries).map(|e| e.op), None);
        assert_eq!(
            next_sendable(&[entry(4, patch(1), false)]).map(|e| e.op),
            Some(4)
        );
    }

    #[test]
    fn a_write_stored_while_our_earlier_patch_was_in_flight_is_brought_along() {
        let title = |t: &str| TicketPatch {
            title: Some(t.into()),
            ..Default::default()
        };
        let mut later = entry(
            5,
            Write::Patch {
                ticket: 7,
                version: 1,
                patch: title("mine"),
            },
            false,
        );
        let mut base = crate::sync::conflict::sample_ticket();
        base.id = 7;
        base.version = 1;
        later.base = Some(base);
        let mut landed = Landed::default();
        // Our patches 3 (1 -> 2) and 4 (2 -> 3) landed; 6 came after and does not count.
        landed.record(3, 7, &title("first"), 1, 2);
        landed.record(
            4,
            7,
            &TicketPatch {
                important: Some(true),
                ..Default::default()
            },
            2,
            3,
        );
        landed.record(6, 7, &title("after"), 3, 4);
        landed.record(2, 8, &title("elsewhere"), 1, 9);
        assert!(landed.catch_up(&mut later));
        let Write::Patch { version, .. } = &later.write else {
            panic!("still a patch");
        };
        assert_eq!(*version, 3);
        let base = later.base.as_ref().expect("base kept");
        assert_eq!(
            (base.version, base.title.as_str(), base.important),
            (3, "first", true)
        );
        // Already at the newest version: nothing more to do.
        assert!(!landed.catch_up(&mut later));
    }
}
