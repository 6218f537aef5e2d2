//! The client's tickets: one owner, compact rows, views kept in order.
//!
//! A [`Store`] holds every ticket the list can show as a compact [`Row`] in a
//! slot. Slots are stable while a ticket exists, so a view is just slots in
//! order. Each change bumps the store's generation and is logged, so a view
//! computed at an older generation can be brought up to date by moving only
//! the tickets that changed (see [`order::View::catch_up`]).

mod column;
pub mod order;
pub mod row;
pub mod worker;

use std::collections::HashMap;

use deskterm_api::{Ticket, TicketId};

pub use order::{Order, View};
pub use row::{
    Indexed, Interner, Listed, Row, SearchText, Searched, Sym, accent_folds, ascii_bit, fold,
};

/// How to reach a contact besides their name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContactDetails {
    phone: Option<Box<str>>,
    email: Option<Box<str>>,
}

/// Index of a row in the store; stable while its ticket exists.
pub type Slot = u32;

/// How many changes the log remembers; a view older than that is recomputed.
const LOG_LIMIT: usize = 8192;

/// Ids below this are always found through [`Slots::dense`] (4 bytes each,
/// 8 MB at most); higher ones only while they are below eight times the
/// number of tickets.
const DENSE_IDS: usize = 1 << 21;

/// The slot of each ticket id. Server ids are small and dense, so most are
/// an index into a vector (4 bytes an id, against some 35 bytes a ticket in
/// a hash map at a million); negative ids (tickets being created) and ids
/// far beyond the number of tickets go to a map.
#[derive(Debug, Default)]
struct Slots {
    /// `dense[id]` is the slot of ticket `id`, or [`Slots::NONE`].
    dense: Vec<Slot>,
    /// Every other id.
    sparse: HashMap<TicketId, Slot>,
}

impl Slots {
    const NONE: Slot = Slot::MAX;

    fn get(&self, id: TicketId) -> Option<Slot> {
        let dense = usize::try_from(id)
            .ok()
            .and_then(|i| self.dense.get(i))
            .copied()
            .filter(|&s| s != Slots::NONE);
        dense.or_else(|| self.sparse.get(&id).copied())
    }

    /// Records a new ticket's slot; `live` is how many tickets there are.
    fn insert(&mut self, id: TicketId, slot: Slot, live: usize) {
        if let Ok(i) = usize::try_from(id)
            && (i < DENSE_IDS || i < live.saturating_mul(8))
            && slot != Slots::NONE
        {
            if i >= self.dense.len() {
                // Grow by at least half, as a vector would, but to the id.
                let len = (i + 1).max(self.dense.len() + self.dense.len() / 2);
                self.dense.resize(len, Slots::NONE);
            }
            self.dense[i] = slot;
            // An id once kept in the map (while it was out of range) is not
            // looked for there any more.
            self.sparse.remove(&id);
        } else {
            self.sparse.insert(id, slot);
        }
    }

    fn remove(&mut self, id: TicketId) -> Option<Slot> {
        if let Some(place) = usize::try_from(id).ok().and_then(|i| self.dense.get_mut(i))
            && *place != Slots::NONE
        {
            return Some(std::mem::replace(place, Slots::NONE));
        }
        self.sparse.remove(&id)
    }

    fn clear(&mut self) {
        self.dense = Vec::new();
        self.sparse = HashMap::new();
    }
}

/// Every ticket the client knows, as shown.
#[derive(Debug, Default)]
pub struct Store {
    names: Interner,
    rows: Vec<Option<Row>>,
    /// The search text of each slot.
    search: column::Column,
    slots: Slots,
    free: Vec<Slot>,
    live: usize,
    generation: u64,
    /// Phone and e-mail of each contact (the rows hold only the name).
    contacts: HashMap<deskterm_api::ContactId, ContactDetails>,
    /// (generation after the change, slot changed), oldest first.
    log: std::collections::VecDeque<(u64, Slot)>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The interned names.
    pub fn names(&self) -> &Interner {
        &self.names
    }

    /// Interns a name (for compiling a query against names not seen yet).
    pub fn intern(&mut self, name: &str) -> Sym {
        self.names.intern(name)
    }

    /// How many tickets.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when there are no tickets.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Counts every change; views remember the generation they were computed at.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// One past the highest slot in use.
    pub fn slot_count(&self) -> usize {
        self.rows.len()
    }

    /// The row in a slot.
    pub fn row(&self, slot: Slot) -> Option<&Row> {
        self.rows.get(slot as usize).and_then(Option::as_ref)
    }

    /// The row in a slot with its search text, as filters see it.
    pub fn listed(&self, slot: Slot) -> Option<Listed<'_>> {
        self.row(slot).map(|row| self.search.listed(slot, row))
    }

    /// The search text of the ticket in a slot, without its row (a scan of
    /// search texts alone reads one buffer, in slot order).
    pub fn searched(&self, slot: Slot) -> Option<Searched<'_>> {
        self.search.searched(slot)
    }

    /// The case-folded title of the ticket in a slot.
    pub fn folded_title(&self, slot: Slot) -> &str {
        self.search.folded_title(slot)
    }

    /// The slot of a ticket.
    pub fn slot(&self, id: TicketId) -> Option<Slot> {
        self.slots.get(id)
    }

    /// The row of a ticket.
    pub fn get(&self, id: TicketId) -> Option<&Row> {
        self.slot(id).and_then(|s| self.row(s))
    }

    /// Every row with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Slot, &Row)> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i as Slot, r)))
    }

    /// Adds or replaces a ticket; returns its slot.
    pub fn put(&mut self, ticket: &Ticket) -> Slot {
        let c = &ticket.contact;
        if c.phone.is_some() || c.email.is_some() {
            let details = ContactDetails {
                phone: c.phone.as_deref().map(Into::into),
                email: c.email.as_deref().map(Into::into),
            };
            if self.contacts.get(&c.id) != Some(&details) {
                self.contacts.insert(c.id, details);
            }
        }
        let row = Row::new(ticket, &mut self.names);
        self.put_row(row, &SearchText::new(ticket))
    }

    /// The ticket in a row back whole, but for its description (which the
    /// row does not keep).
    pub fn ticket(&self, row: &Row) -> Ticket {
        let mut t = row.to_ticket(&self.names);
        if let Some(d) = self.contacts.get(&row.contact) {
            t.contact.phone = d.phone.as_deref().map(str::to_owned);
            t.contact.email = d.email.as_deref().map(str::to_owned);
        }
        t
    }

    /// Adds or replaces a compact row and its search text; returns its slot.
    pub fn put_row(&mut self, row: Row, search: &SearchText) -> Slot {
        let slot = match self.slots.get(row.id) {
            Some(slot) => slot,
            None => {
                let slot = match self.free.pop() {
                    Some(slot) => slot,
                    None => {
                        self.rows.push(None);
                        Slot::try_from(self.rows.len() - 1).unwrap_or(Slot::MAX)
                    }
                };
                self.live += 1;
                self.slots.insert(row.id, slot, self.live);
                slot
            }
        };
        let text_changed = self.search.set(slot, search);
        match self.rows.get_mut(slot as usize) {
            // The same ticket again (a resync): nothing changed, nothing to catch up.
            Some(Some(same)) if *same == row && !text_changed => return slot,
            Some(place) => *place = Some(row),
            None => {}
        }
        self.changed(slot);
        slot
    }

    /// Forgets a ticket; returns the slot it had.
    pub fn remove(&mut self, id: TicketId) -> Option<Slot> {
        let slot = self.slots.remove(id)?;
        if let Some(place) = self.rows.get_mut(slot as usize) {
            *place = None;
        }
        self.search.forget(slot);
        self.live -= 1;
        self.free.push(slot);
        self.changed(slot);
        Some(slot)
    }

    /// Forgets every ticket (before a full reload); names stay interned.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.search.clear();
        self.slots.clear();
        self.free.clear();
        self.live = 0;
        self.generation += 1;
        // Nothing older can be caught up with: every slot is gone.
        self.log.clear();
    }

    fn changed(&mut self, slot: Slot) {
        self.generation += 1;
        if self.log.len() == LOG_LIMIT {
            self.log.pop_front();
        }
        self.log.push_back((self.generation, slot));
    }

    /// The slots changed after generation `since`, each once; `None` when the
    /// log no longer reaches back that far (the caller recomputes instead).
    pub fn changed_since(&self, since: u64) -> Option<Vec<Slot>> {
        if since >= self.generation {
            return Some(Vec::new());
        }
        let oldest = self.log.front().map_or(self.generation + 1, |(g, _)| *g);
        if oldest > since + 1 {
            return None;
        }
        let mut slots: Vec<Slot> = self
            .log
            .iter()
            .filter(|(g, _)| *g > since)
            .map(|(_, s)| *s)
            .collect();
        slots.sort_unstable();
        slots.dedup();
        Some(slots)
    }
}

#[cfg(test)]
mod tests;
