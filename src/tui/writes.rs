//! The operator's writes: shown at once, handed to the engine (which stores
//! them in the outbox before sending them), and what becomes of them —
//! confirmed, merged, refused, or in conflict.

use deskterm_api::{OperatorRef, Ticket, TicketId, TicketPatch};

use super::app::{App, Effect, Level, Modal};
use super::command::TicketOp;
use super::prompt::Input;
use super::resolve::ConflictView;
use super::tickets::Pending;
use crate::sync::cache::OutboxEntry;
use crate::sync::{Command, OpId, Queued, Write};

impl App {
    /// Shows a write at once and hands it to the engine.
    pub(super) fn write(&mut self, write: Write, effects: &mut Vec<Effect>) {
        let op = self.next_op;
        self.next_op += 1;
        let base = self.base_of(&write);
        self.track(op, write.clone(), false, false);
        self.refresh_view();
        effects.push(Effect::Sync(Command::Write { op, write, base }));
    }

    /// The ticket as the operator saw it, for a write that changes one.
    fn base_of(&self, write: &Write) -> Option<Ticket> {
        match write {
            Write::Patch { ticket, .. } | Write::Delete { ticket, .. } => {
                self.tickets.server(*ticket)
            }
            _ => None,
        }
    }

    /// Shows several writes of one command at once and hands them to the
    /// engine together: they reach the outbox in one transaction.
    pub(super) fn write_all(&mut self, writes: Vec<Write>, effects: &mut Vec<Effect>) {
        if writes.len() <= 1 {
            for write in writes {
                self.write(write, effects);
            }
            return;
        }
        let mut queued = Vec::with_capacity(writes.len());
        for write in writes {
            let op = self.next_op;
            self.next_op += 1;
            let base = self.base_of(&write);
            self.track(op, write.clone(), false, false);
            queued.push(Queued { op, write, base });
        }
        self.refresh_view();
        effects.push(Effect::Sync(Command::WriteAll(queued)));
    }

    /// Changes fields of a ticket the server knows.
    /// Marks the selected ticket important, or not any more.
    pub(super) fn toggle_important(&mut self, effects: &mut Vec<Effect>) {
        let Some(t) = self.selected_ticket() else {
            self.say(Level::Error, "no ticket selected");
            return;
        };
        let patch = TicketPatch {
            important: Some(!t.important),
            ..Default::default()
        };
        self.write_patch(t.id, patch, effects);
        self.say_info(if t.important {
            format!("{} is not important any more", t.reference)
        } else {
            format!("{} is important", t.reference)
        });
    }

    pub(super) fn write_patch(
        &mut self,
        ticket: TicketId,
        patch: TicketPatch,
        effects: &mut Vec<Effect>,
    ) {
        let Some(version) = self.tickets.server(ticket).map(|t| t.version) else {
            self.say(
                Level::Error,
                "this ticket is still being created; change it in a moment",
            );
            return;
        };
        self.write(
            Write::Patch {
                ticket,
                version,
                patch,
            },
            effects,
        );
    }

    /// Assigns the targeted tickets to the signed-in operator.
    pub(super) fn assign_to_me(&mut self, effects: &mut Vec<Effect>) {
        match self.me.as_ref().map(|m| m.id) {
            Some(me) => self.change_tickets(TicketOp::Operator(Some(me)), effects),
            None => self.say(Level::Error, "not signed in yet"),
        }
    }

    /// Records a pending write made now by the signed-in operator; the
    /// caller refreshes the list once, however many writes it tracked.
    fn track(&mut self, op: OpId, write: Write, conflict: bool, stored: bool) {
        let pending = Pending {
            write,
            at: self.now,
            author: self.me.as_ref().map(|m| OperatorRef {
                id: m.id,
                name: m.name.clone(),
            }),
            conflict,
            stored,
        };
        self.tickets.track(op, pending, self.meta.as_ref());
    }

    /// Replaces a pending write after the operator settled its conflict, or
    /// drops it (`None`).
    pub(super) fn resolve(&mut self, op: OpId, write: Option<Write>) {
        match write {
            Some(write) => self.track(op, write, false, false),
            None => {
                self.tickets.settle(op, self.meta.as_ref());
            }
        }
        self.refresh_view();
    }

    /// Writes left in the outbox by an earlier run: shown as pending again,
    /// their conflicts queued for the operator.
    pub(super) fn restore_outbox(&mut self, entries: Vec<OutboxEntry>) {
        for entry in entries {
            self.next_op = self.next_op.max(entry.op + 1);
            let conflict = entry.conflict.clone();
            self.track(entry.op, entry.write.clone(), conflict.is_some(), true);
            if let Some(theirs) = conflict {
                self.conflicts.push_back(ConflictView::new(
                    entry.op,
                    entry.write,
                    entry.base,
                    theirs,
                    self,
                ));
            }
        }
        self.refresh_view();
        let n = self.tickets.pending_count();
        self.say(
            Level::Info,
            format!("{n} change(s) from last time are being sent"),
        );
        self.show_next_conflict();
    }

    /// The server took the write.
    pub(super) fn write_done(&mut self, op: OpId) {
        if self
            .tickets
            .pending_write(op)
            .is_some_and(|p| matches!(p.write, Write::Escalate { .. }))
        {
            // An escalation is in the history without changing the ticket:
            // the history pane reads it again.
            self.detail.extras.forget();
        }
        self.tickets.settle(op, self.meta.as_ref());
        self.refresh_view();
    }

    /// The server took the write after merging it with someone else's change.
    pub(super) fn write_merged(&mut self, op: OpId) {
        if let Some(p) = self.tickets.pending_write(op) {
            let what = p
                .write
                .ticket()
                .and_then(|id| self.tickets.server(id))
                .map(|t| t.reference.clone());
            self.say(
                Level::Info,
                format!(
                    "{} was changed by someone else meanwhile; your change was merged with theirs",
                    what.unwrap_or_else(|| "the ticket".into())
                ),
            );
        }
    }

    /// The server refused the write for good: the ticket goes back to the
    /// server's state and the operator's text comes back to be fixed.
    pub(super) fn write_failed(
        &mut self,
        op: OpId,
        write: Write,
        error: String,
        fields: Vec<(String, String)>,
    ) {
        self.tickets.settle(op, self.meta.as_ref());
        self.refresh_view();
        self.give_back(write, &fields, &error);
        self.say(Level::Error, error);
    }

    /// A refused note, message or new ticket is the operator's work: put it
    /// back where it can be fixed and sent again.
    fn give_back(&mut self, write: Write, fields: &[(String, String)], error: &str) {
        match write {
            Write::Create { ticket } if self.modal.is_none() => {
                self.reopen_ticket_form(&ticket, fields, error);
            }
            Write::SendMessage { body, .. } => self.chat.give_back(body),
            Write::AddNote { ticket, body } if self.modal.is_none() => {
                self.modal = Some(Modal::Input(Input::note(ticket, &body)));
            }
            Write::Escalate { ticket, to, note } if self.modal.is_none() => {
                self.modal = Some(Modal::Input(Input::escalation(
                    ticket,
                    &to,
                    note.as_deref(),
                )));
            }
            Write::SetProfile {
                receive_ticket_emails,
            } => {
                // The switch goes back to what the server still has.
                if let Some(me) = &mut self.me {
                    me.receive_ticket_emails = !receive_ticket_emails;
                }
            }
            _ => {}
        }
    }
}
