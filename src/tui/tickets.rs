//! Tickets as shown: the server's last word with the operator's unsent
//! writes on top.
//!
//! [`Tickets`] is the one holder of ticket state in the interface; panes and
//! popups read it through its methods and change it only by telling it what
//! the server said ([`Tickets::apply_server`], [`Tickets::remove`], a
//! snapshot) or what the operator wrote ([`Tickets::track`],
//! [`Tickets::settle`]).
//!
//! Every ticket as shown is one compact row in the [`Store`], shared with the
//! list's query worker. The server's version is kept whole only for tickets
//! with writes pending (to recompute them when a write settles) and for the
//! ticket on screen (its description comes from the cache).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactId, ContactRef, Meta, OperatorRef, Priority, Ticket, TicketId, TicketPatch,
};

use crate::store::Store;
use crate::store::worker::{self, Shared};
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
#[derive(Debug)]
pub struct Tickets {
    /// Every ticket as shown, compact; shared with the list's query worker.
    store: Shared,
    /// The server's version of the tickets that have writes pending.
    bases: HashMap<TicketId, Ticket>,
    /// The server's whole version of the ticket on screen.
    detail: Option<Ticket>,
    /// Unconfirmed writes, in the order they were made.
    pending: BTreeMap<OpId, Pending>,
    /// Tickets seen so far in a snapshot under way.
    arriving: Option<HashSet<TicketId>>,
}

impl Default for Tickets {
    fn default() -> Self {
        Tickets::new()
    }
}

impl Tickets {
    /// No tickets, no writes.
    pub fn new() -> Tickets {
        Tickets {
            store: Shared::default(),
            bases: HashMap::new(),
            detail: None,
            pending: BTreeMap::new(),
            arriving: None,
        }
    }

    /// The store of rows as shown (for the list and its worker).
    pub fn store(&self) -> &Shared {
        &self.store
    }

    fn write_store(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// A ticket as shown, with the pending writes applied. Whole (with its
    /// description) when it is the ticket on screen or has writes pending.
    pub fn shown(&self, id: TicketId) -> Option<Ticket> {
        let store = worker::read(&self.store);
        let row = store.get(id)?;
        let base = self.bases.get(&id).or(self
            .detail
            .as_ref()
            .filter(|d| d.id == id && d.version == row.version));
        match base {
            Some(base) => {
                let mut whole = base.clone();
                // The row already has the pending writes; the whole ticket
                // takes them from it, and keeps what the row does not hold.
                let compact = store.ticket(row);
                whole.description = self.patched_description(id).unwrap_or(whole.description);
                let pending_until = self
                    .patched_pending_until(id)
                    .unwrap_or(whole.pending_until);
                Some(Ticket {
                    description: whole.description,
                    pending_until,
                    contact: ContactRef {
                        phone: whole.contact.phone,
                        email: whole.contact.email,
                        ..compact.contact
                    },
                    ..compact
                })
            }
            None => Some(store.ticket(row)),
        }
    }

    /// The description as the last pending patch of `id` sets it, if any.
    fn patched_description(&self, id: TicketId) -> Option<String> {
        self.pending.values().rev().find_map(|p| match &p.write {
            Write::Patch { ticket, patch, .. } if *ticket == id => patch.description.clone(),
            _ => None,
        })
    }

    /// The waiting time as the last pending patch of `id` sets it, if any.
    fn patched_pending_until(&self, id: TicketId) -> Option<Option<DateTime<Utc>>> {
        self.pending.values().rev().find_map(|p| match &p.write {
            Write::Patch { ticket, patch, .. } if *ticket == id => patch.pending_until,
            _ => None,
        })
    }

    /// A ticket as the server last confirmed it.
    pub fn server(&self, id: TicketId) -> Option<Ticket> {
        if let Some(base) = self.bases.get(&id) {
            return Some(base.clone());
        }
        if id < 0 {
            return None;
        }
        self.shown(id)
    }

    /// The whole ticket on screen arrived (from the cache or the server).
    pub fn set_detail(&mut self, ticket: Ticket) {
        let known = worker::read(&self.store).get(ticket.id).map(|r| r.version);
        let base = self.bases.get(&ticket.id).map(|b| b.version);
        if known.is_some_and(|v| v <= ticket.version) || base.is_some_and(|v| v <= ticket.version) {
            self.detail = Some(ticket);
        }
    }

    /// How many tickets are shown.
    pub fn len(&self) -> usize {
        worker::read(&self.store).len()
    }

    /// True when no ticket is shown.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces every ticket with a full load from the server; pending
    /// writes stay on top.
    pub fn replace_all(&mut self, tickets: Vec<Ticket>, meta: Option<&Meta>) {
        self.begin_snapshot();
        self.put_batch(tickets, meta);
        self.end_snapshot(meta);
    }

    /// A full load begins; tickets already shown stay until it ends.
    pub fn begin_snapshot(&mut self) {
        self.arriving = Some(HashSet::new());
    }

    /// The full load broke off: what came stays, nothing is removed.
    pub fn abandon_snapshot(&mut self) {
        self.arriving = None;
    }

    /// Tickets of a full load (or of the cache at start).
    pub fn put_batch(&mut self, tickets: Vec<Ticket>, meta: Option<&Meta>) {
        let mut touched = Vec::new();
        {
            let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
            for t in tickets {
                if let Some(seen) = &mut self.arriving {
                    seen.insert(t.id);
                }
                if self.detail.as_ref().is_some_and(|d| d.id == t.id) {
                    self.detail = Some(t.clone());
                }
                match self.bases.get_mut(&t.id) {
                    Some(base) => {
                        touched.push(t.id);
                        *base = t;
                    }
                    None => {
                        store.put(&t);
                    }
                }
            }
        }
        for id in touched {
            self.recompute(id, meta);
        }
    }

    /// The full load is complete: tickets it did not contain are gone
    /// (tickets being created here stay).
    pub fn end_snapshot(&mut self, meta: Option<&Meta>) {
        let Some(seen) = self.arriving.take() else {
            return;
        };
        let gone: Vec<TicketId> = worker::read(&self.store)
            .iter()
            .map(|(_, r)| r.id)
            .filter(|id| *id >= 0 && !seen.contains(id))
            .collect();
        let based: Vec<TicketId> = self
            .bases
            .keys()
            .copied()
            .filter(|id| !seen.contains(id))
            .collect();
        for id in gone.into_iter().chain(based) {
            self.remove(id);
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
        let known = match self.bases.get(&ticket.id) {
            Some(base) => Some(base.version),
            None => worker::read(&self.store).get(ticket.id).map(|r| r.version),
        };
        if known.is_some_and(|v| v > ticket.version) {
            return false;
        }
        if let Some(seen) = &mut self.arriving {
            seen.insert(ticket.id);
        }
        let id = ticket.id;
        if self.detail.as_ref().is_some_and(|d| d.id == id) {
            self.detail = Some(ticket.clone());
        }
        match self.bases.get_mut(&id) {
            Some(base) => {
                *base = ticket;
                self.recompute(id, meta);
            }
            None => {
                self.write_store().put(&ticket);
            }
        }
        true
    }

    /// Forgets a ticket the server deleted.
    pub fn remove(&mut self, id: TicketId) {
        self.bases.remove(&id);
        if self.detail.as_ref().is_some_and(|d| d.id == id) {
            self.detail = None;
        }
        self.write_store().remove(id);
    }

    /// Records a pending write under `op` and shows its effect on its ticket.
    /// A write that replaces one already stored in the outbox stays stored.
    pub fn track(&mut self, op: OpId, mut pending: Pending, meta: Option<&Meta>) {
        pending.stored |= self.pending.get(&op).is_some_and(|p| p.stored);
        let changes_ticket = matches!(pending.write, Write::Patch { .. } | Write::Delete { .. });
        let touched = pending.write.ticket();
        let created = matches!(pending.write, Write::Create { .. });
        if changes_ticket
            && let Some(id) = touched
            && !self.bases.contains_key(&id)
            && let Some(server) = self.server(id)
        {
            // Until now the row was the server's version: keep it whole to
            // come back to when the write settles.
            self.bases.insert(id, server);
        }
        self.pending.insert(op, pending);
        if changes_ticket && let Some(id) = touched {
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
            self.write_store().remove(temp_id(op));
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

    /// The ticket with this reference, in any case, if the client holds it.
    pub fn by_reference(&self, reference: &str) -> Option<TicketId> {
        let store = worker::read(&self.store);
        store
            .iter()
            .find(|(_, row)| row.reference().eq_ignore_ascii_case(reference))
            .map(|(_, row)| row.id)
    }

    /// Contacts the client knows of (from the tickets), by name.
    pub fn contacts(&self) -> Vec<ContactRef> {
        let store = worker::read(&self.store);
        let mut seen = HashMap::new();
        for (_, row) in store.iter() {
            seen.entry(row.contact).or_insert(row);
        }
        let mut contacts: Vec<ContactRef> = seen
            .into_values()
            .map(|row| store.ticket(row).contact)
            .collect();
        contacts.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        contacts
    }

    /// Rebuilds the shown row from the server's ticket plus the pending
    /// writes: patches applied in order, a pending delete hides it, a pending
    /// create shows a provisional ticket. A ticket left with no write pending
    /// goes back to being the server's row alone.
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
                self.write_store().put(&shown);
            }
            return;
        }
        let Some(base) = self.bases.get(&id) else {
            return;
        };
        let mut shown = base.clone();
        let mut writes = 0;
        let mut deleted = false;
        for p in self.pending.values() {
            match &p.write {
                Write::Patch { ticket, patch, .. } if *ticket == id => {
                    writes += 1;
                    apply_patch(&mut shown, patch, meta);
                }
                Write::Delete { ticket, .. } if *ticket == id => {
                    writes += 1;
                    deleted |= !p.conflict;
                }
                _ => {}
            }
        }
        let mut store = self.write_store();
        if deleted {
            store.remove(id);
        } else {
            store.put(&shown);
        }
        drop(store);
        if writes == 0 {
            self.bases.remove(&id);
        }
    }

    /// How a ticket being created looks until the server answers.
    fn provisional_ticket(
        &self,
        id: TicketId,
        new: &deskterm_api::NewTicket,
        at: DateTime<Utc>,
        meta: Option<&Meta>,
    ) -> Ticket {
        let typed = new.new_contact.as_ref().map(|c| ContactRef {
            id: 0,
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
        });
        let contact = typed
            .or_else(|| {
                let store = worker::read(&self.store);
                store
                    .iter()
                    .find(|(_, r)| r.contact == new.contact_id)
                    .map(|(_, r)| ContactRef {
                        id: r.contact,
                        ..store.ticket(r).contact
                    })
            })
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
            sla_state: None,
            pending_until: new.pending_until,
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
            new_contact: None,
            operator_id: Some(1),
            channel: None,
            reference: None,
            sla_due_at: None,
            pending_until: None,
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
