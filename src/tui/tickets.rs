//! Tickets as shown: the server's last word with the operator's unsent
//! writes on top.
//!
//! [`Tickets`] is the one holder of ticket state in the interface; panes and
//! popups read it through its methods and change it only by telling it what
//! the server said ([`Tickets::apply_server`], [`Tickets::remove`],
//! [`Tickets::replace_all`]) or what the operator wrote ([`Tickets::track`],
//! [`Tickets::settle`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactId, ContactRef, Meta, OperatorRef, Priority, Ticket, TicketId, TicketPatch,
};

use crate::sync::{OpId, Write};

/// A write the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The write.
    pub write: Write,
    /// When the operator made it.
    pub at: DateTime<Utc>,
    /// The operator who made it (for notes and messages shown while sending).
    pub author: Option<OperatorRef>,
    /// Waits for the operator to settle a conflict.
    pub conflict: bool,
    /// In the outbox on disk (survives a crash).
    pub stored: bool,
}

/// Tickets as shown = tickets as the server last confirmed them + pending writes.
#[derive(Debug, Default)]
pub struct Tickets {
    /// Tickets as the server last confirmed them.
    server: HashMap<TicketId, Ticket>,
    /// Tickets as shown: the server's with the pending writes applied.
    shown: HashMap<TicketId, Ticket>,
    /// Unconfirmed writes, in the order they were made.
    pending: BTreeMap<OpId, Pending>,
}

impl Tickets {
    /// No tickets, no writes.
    pub fn new() -> Tickets {
        Tickets::default()
    }

    /// A ticket as shown, with the pending writes applied.
    pub fn shown(&self, id: TicketId) -> Option<&Ticket> {
        self.shown.get(&id)
    }

    /// A ticket as the server last confirmed it.
    pub fn server(&self, id: TicketId) -> Option<&Ticket> {
        self.server.get(&id)
    }

    /// How many tickets are shown.
    pub fn len(&self) -> usize {
        self.shown.len()
    }

    /// True when no ticket is shown.
    pub fn is_empty(&self) -> bool {
        self.shown.is_empty()
    }

    /// Every ticket as shown, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Ticket> {
        self.shown.values()
    }

    /// Replaces every ticket with a full load from the server; pending
    /// writes stay on top.
    pub fn replace_all(&mut self, tickets: Vec<Ticket>, meta: Option<&Meta>) {
        self.server = tickets.into_iter().map(|t| (t.id, t)).collect();
        self.shown.clear();
        let ids: Vec<TicketId> = self.server.keys().copied().collect();
        for id in ids {
            self.recompute(id, meta);
        }
        let creates: Vec<OpId> = self
            .pending
            .iter()
            .filter(|(_, p)| matches!(p.write, Write::Create { .. }))
            .map(|(op, _)| *op)
            .collect();
        for op in creates {
            self.recompute(temp_id(op), meta);
        }
    }

    /// Takes the server's version of a ticket unless a newer one is known
    /// (feed and write answers can arrive in either order). True when it was
    /// taken.
    pub fn apply_server(&mut self, ticket: Ticket, meta: Option<&Meta>) -> bool {
        let newer = self
            .server
            .get(&ticket.id)
            .is_none_or(|known| known.version <= ticket.version);
        if newer {
            let id = ticket.id;
            self.server.insert(id, ticket);
            self.recompute(id, meta);
        }
        newer
    }

    /// Forgets a ticket the server deleted.
    pub fn remove(&mut self, id: TicketId) {
        self.server.remove(&id);
        self.shown.remove(&id);
    }

    /// Records a pending write under `op` and shows its effect on its ticket.
    /// A write that replaces one already stored in the outbox stays stored.
    pub fn track(&mut self, op: OpId, mut pending: Pending, meta: Option<&Meta>) {
        pending.stored |= self.pending.get(&op).is_some_and(|p| p.stored);
        let touched = pending.write.ticket();
        let created = matches!(pending.write, Write::Create { .. });
        self.pending.insert(op, pending);
        if let Some(id) = touched {
            self.recompute(id, meta);
        }
        if created {
            self.recompute(temp_id(op), meta);
        }
    }

    /// The write `op` is over (confirmed, refused or dropped): forgets it
    /// and shows its ticket without it.
    pub fn settle(&mut self, op: OpId, meta: Option<&Meta>) -> Option<Pending> {
        let removed = self.pending.remove(&op)?;
        if let Some(id) = removed.write.ticket() {
            self.recompute(id, meta);
        }
        if matches!(removed.write, Write::Create { .. }) {
            self.shown.remove(&temp_id(op));
        }
        Some(removed)
    }

    /// The write `op` is safe in the outbox on disk.
    pub fn mark_stored(&mut self, op: OpId) {
        if let Some(p) = self.pending.get_mut(&op) {
            p.stored = true;
        }
    }

    /// The write `op` met someone else's change: it waits for the operator,
    /// and a delete in conflict no longer hides its ticket.
    pub fn mark_conflict(&mut self, op: OpId, write: &Write, meta: Option<&Meta>) {
        if let Some(p) = self.pending.get_mut(&op) {
            p.conflict = true;
        }
        if let Some(id) = write.ticket() {
            self.recompute(id, meta);
        }
    }

    /// A pending write.
    pub fn pending_write(&self, op: OpId) -> Option<&Pending> {
        self.pending.get(&op)
    }

    /// Every pending write, oldest first.
    pub fn pending_writes(&self) -> impl Iterator<Item = (OpId, &Pending)> {
        self.pending.iter().map(|(op, p)| (*op, p))
    }

    /// How many writes are pending.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Whether any write is pending.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// How many pending writes wait for the operator to settle a conflict.
    pub fn conflict_count(&self) -> usize {
        self.pending.values().filter(|p| p.conflict).count()
    }

    /// How many pending writes are not yet safe on disk (conflicts aside).
    pub fn saving_count(&self) -> usize {
        self.pending
            .values()
            .filter(|p| !p.stored && !p.conflict)
            .count()
    }

    /// Whether a change to the fields of `ticket` is pending.
    pub fn has_pending_patch(&self, ticket: TicketId) -> bool {
        self.pending
            .values()
            .any(|p| matches!(&p.write, Write::Patch { ticket: t, .. } if *t == ticket))
    }

    /// Pending notes of a ticket, for showing while they are sent.
    pub fn pending_notes(&self, ticket: TicketId) -> impl Iterator<Item = &Pending> {
        self.pending
            .values()
            .filter(move |p| matches!(&p.write, Write::AddNote { ticket: t, .. } if *t == ticket))
    }

    /// Pending chat messages to a contact.
    pub fn pending_messages(&self, contact: ContactId) -> impl Iterator<Item = &Pending> {
        self.pending.values().filter(
            move |p| matches!(&p.write, Write::SendMessage { contact: c, .. } if *c == contact),
        )
    }

    /// Contacts the client knows of (from the server's tickets), by name.
    pub fn contacts(&self) -> Vec<ContactRef> {
        let mut seen = HashMap::new();
        for t in self.server.values() {
            seen.entry(t.contact.id)
                .or_insert_with(|| t.contact.clone());
        }
        let mut contacts: Vec<_> = seen.into_values().collect();
        contacts.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        contacts
    }

    /// Rebuilds the shown ticket from the server's plus the pending writes:
    /// patches applied in order, a pending delete hides it, a pending create
    /// shows a provisional ticket.
    fn recompute(&mut self, id: TicketId, meta: Option<&Meta>) {
        if id < 0 {
            let op = id.unsigned_abs();
            if let Some(Pending {
                write: Write::Create { ticket },
                at,
                ..
            }) = self.pending.get(&op)
            {
                let shown = self.provisional_ticket(id, ticket, *at, meta);
                self.shown.insert(id, shown);
            }
            return;
        }
        let Some(base) = self.server.get(&id) else {
            self.shown.remove(&id);
            return;
        };
        let mut shown = base.clone();
        for p in self.pending.values() {
            match &p.write {
                Write::Patch { ticket, patch, .. } if *ticket == id => {
                    apply_patch(&mut shown, patch, meta);
                }
                Write::Delete { ticket, .. } if *ticket == id && !p.conflict => {
                    self.shown.remove(&id);
                    return;
                }
                _ => {}
            }
        }
        self.shown.insert(id, shown);
    }

    /// How a ticket being created looks until the server answers.
    fn provisional_ticket(
        &self,
        id: TicketId,
        new: &deskterm_api::NewTicket,
        at: DateTime<Utc>,
        meta: Option<&Meta>,
    ) -> Ticket {
        let contact = self
            .server
            .values()
            .map(|t| &t.contact)
            .find(|c| c.id == new.contact_id)
            .cloned()
            .unwrap_or(ContactRef {
                id: new.contact_id,
                name: format!("contact {}", new.contact_id),
                phone: None,
                email: None,
            });
        let operator = new.operator_id.and_then(|id| {
            meta.and_then(|m| m.operators.iter().find(|o| o.id == id))
                .cloned()
        });
        Ticket {
            id,
            reference: new.reference.clone().unwrap_or_else(|| "(new)".into()),
            title: new.title.clone(),
            description: new.description.clone(),
            status: new.status.clone().unwrap_or_else(|| "new".into()),
            priority: new.priority.unwrap_or(Priority::Normal),
            category: new.category.clone(),
            tags: new.tags.clone(),
            important: new.important,
            contact,
            operator,
            channel: new.channel.clone().unwrap_or_else(|| "phone".into()),
            sla_due_at: new.sla_due_at,
            created_at: at,
            updated_at: at,
            closed_at: None,
            version: 0,
        }
    }
}

/// The id a ticket being created is shown under until the server gives it one.
pub fn temp_id(op: OpId) -> TicketId {
    -(op.min(i64::MAX as u64) as i64)
}

/// Applies a patch to a ticket as the server would, for showing it at once;
/// a newly assigned operator gets their name from the metadata.
fn apply_patch(t: &mut Ticket, patch: &TicketPatch, meta: Option<&Meta>) {
    crate::sync::conflict::apply(patch, t);
    if let Some(op) = &mut t.operator
        && op.name.is_empty()
    {
        op.name = meta
            .and_then(|m| m.operators.iter().find(|o| o.id == op.id))
            .map(|o| o.name.clone())
            .unwrap_or_else(|| format!("operator {}", op.id));
    }
}

#[cfg(test)]
mod tests {
    use deskterm_api::{NewTicket, Priority, TicketPatch};

    use super::*;
    use crate::tui::fixture;

    fn loaded() -> Tickets {
        let mut tickets = Tickets::new();
        tickets.replace_all(fixture::tickets(), Some(&fixture::meta()));
        tickets
    }

    fn pending(write: Write) -> Pending {
        Pending {
            write,
            at: fixture::now(),
            author: Some(fixture::lucia()),
            conflict: false,
            stored: false,
        }
    }

    fn patch(ticket: TicketId, patch: TicketPatch) -> Write {
        Write::Patch {
            ticket,
            version: 3,
            patch,
        }
    }

    #[test]
    fn a_pending_patch_shows_on_top_of_the_servers_ticket_until_it_is_settled() {
        let meta = fixture::meta();
        let mut tickets = loaded();
        let low = TicketPatch {
            priority: Some(Priority::Low),
            operator_id: Some(Some(fixture::marco().id)),
            ..Default::default()
        };
        tickets.track(7, pending(patch(1, low)), Some(&meta));
        let shown = tickets.shown(1).unwrap();
        assert_eq!(shown.priority, Priority::Low);
        assert_eq!(shown.operator.as_ref().unwrap().name, fixture::marco().name);
        assert_eq!(tickets.server(1).unwrap().priority, Priority::Urgent);
        assert!(tickets.has_pending_patch(1));
        assert!(!tickets.has_pending_patch(2));

        // Someone else's newer version: theirs underneath, mine still on top.
        let mut theirs = fixture::tickets()[0].clone();
        theirs.version = 4;
        theirs.title = "Otro".into();
        assert!(tickets.apply_server(theirs, Some(&meta)));
        assert_eq!(tickets.shown(1).unwrap().title, "Otro");
        assert_eq!(tickets.shown(1).unwrap().priority, Priority::Low);
        // An older copy is not taken.
        assert!(!tickets.apply_server(fixture::tickets()[0].clone(), Some(&meta)));
        assert_eq!(tickets.server(1).unwrap().version, 4);

        // A full load keeps the pending write on top too.
        tickets.replace_all(fixture::tickets(), Some(&meta));
        assert_eq!(tickets.shown(1).unwrap().priority, Priority::Low);

        let settled = tickets.settle(7, Some(&meta)).unwrap();
        assert!(matches!(settled.write, Write::Patch { ticket: 1, .. }));
        assert_eq!(tickets.shown(1).unwrap().priority, Priority::Urgent);
        assert_eq!(tickets.pending_count(), 0);
        assert!(tickets.settle(7, Some(&meta)).is_none());
    }

    #[test]
    fn a_ticket_being_created_shows_under_a_temporary_id() {
        let mut tickets = loaded();
        let new = NewTicket {
            title: "Nueva".into(),
            description: String::new(),
            status: None,
            priority: None,
            category: None,
            tags: Vec::new(),
            important: false,
            contact_id: 2,
            operator_id: Some(1),
            channel: None,
            reference: None,
            sla_due_at: None,
        };
        tickets.track(
            9,
            pending(Write::Create { ticket: new }),
            Some(&fixture::meta()),
        );
        let shown = tickets.shown(temp_id(9)).unwrap();
        assert_eq!(shown.title, "Nueva");
        assert_eq!(
            shown.contact.name, "Giulia Romano",
            "known from its tickets"
        );
        assert_eq!(shown.operator.as_ref().unwrap().name, fixture::lucia().name);
        assert_eq!(tickets.len(), 6);
        tickets.settle(9, None);
        assert!(tickets.shown(temp_id(9)).is_none());
        assert_eq!(tickets.len(), 5);
    }

    #[test]
    fn a_pending_delete_hides_its_ticket_unless_it_is_in_conflict() {
        let mut tickets = loaded();
        let delete = Write::Delete {
            ticket: 2,
            version: 3,
        };
        tickets.track(3, pending(delete.clone()), None);
        assert!(tickets.shown(2).is_none());
        assert!(tickets.server(2).is_some());
        tickets.mark_conflict(3, &delete, None);
        assert!(tickets.shown(2).is_some());
        assert_eq!(tickets.conflict_count(), 1);
        tickets.remove(2);
        assert!(tickets.shown(2).is_none() && tickets.server(2).is_none());
    }

    #[test]
    fn pending_writes_are_counted_and_found_by_what_they_touch() {
        let mut tickets = loaded();
        let note = Write::AddNote {
            ticket: 1,
            body: "nota".into(),
        };
        let message = Write::SendMessage {
            contact: 2,
            ticket: Some(2),
            body: "hola".into(),
        };
        tickets.track(1, pending(note), None);
        tickets.track(2, pending(message.clone()), None);
        tickets.mark_stored(2);
        // Replacing a stored write keeps it stored.
        tickets.track(2, pending(message), None);
        assert_eq!(tickets.pending_count(), 2);
        assert_eq!(tickets.saving_count(), 1);
        assert!(tickets.pending_write(2).unwrap().stored);
        assert_eq!(tickets.pending_notes(1).count(), 1);
        assert_eq!(tickets.pending_notes(2).count(), 0);
        assert_eq!(tickets.pending_messages(2).count(), 1);
        let ops: Vec<OpId> = tickets.pending_writes().map(|(op, _)| op).collect();
        assert_eq!(ops, vec![1, 2]);
    }

    #[test]
    fn contacts_are_listed_once_by_name() {
        let names: Vec<String> = loaded().contacts().into_iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["Giulia Romano", "Núria Puig", "Tom Becker"]);
    }
}
