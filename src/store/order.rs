//! The order of a list and a view kept in that order.
//!
//! Keys are read from the compact rows (integer times, ranks, folded text
//! computed once per ticket version), never recomputed per comparison.

use std::cmp::Ordering;
use std::sync::Arc;

use deskterm_api::{Meta, Sort, SortField};

use super::{Listed, Row, Slot, Store, Sym};

/// A sort column and direction, with what comparing on it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Column and direction.
    pub sort: Sort,
    /// Rank of each status symbol in the backend's status order (for
    /// sorting by status); symbols not listed sort last.
    status_rank: Vec<u32>,
}

impl Order {
    /// The order of `sort`, with status ranks taken from `meta`.
    pub fn new(sort: Sort, store: &mut Store, meta: Option<&Meta>) -> Order {
        let mut status_rank = Vec::new();
        if let Some(meta) = meta {
            for (rank, status) in meta.statuses.iter().enumerate() {
                let sym = store.intern(&status.key) as usize;
                if status_rank.len() <= sym {
                    status_rank.resize(sym + 1, u32::MAX);
                }
                status_rank[sym] = rank as u32;
            }
        }
        Order { sort, status_rank }
    }

    fn rank(&self, status: Sym) -> u32 {
        self.status_rank
            .get(status as usize)
            .copied()
            .unwrap_or(u32::MAX)
    }

    /// Compares two rows: the column (reversed when descending), then the
    /// ticket id ascending, so the order is total and stable.
    pub fn cmp(&self, store: &Store, (sa, a): (Slot, &Row), (sb, b): (Slot, &Row)) -> Ordering {
        let ord = self.cmp_column(store, (sa, a), (sb, b));
        let ord = if self.sort.descending {
            ord.reverse()
        } else {
            ord
        };
        ord.then(a.id.cmp(&b.id))
    }

    /// Compares on the column alone, ascending. Empty values (no category,
    /// nobody assigned) sort after every name.
    pub fn cmp_column(
        &self,
        store: &Store,
        (sa, a): (Slot, &Row),
        (sb, b): (Slot, &Row),
    ) -> Ordering {
        let names = store.names();
        let text = |x: Sym, y: Sym| {
            if x == y {
                return Ordering::Equal;
            }
            names
                .folded(x)
                .cmp(names.folded(y))
                .then_with(|| names.name(x).cmp(names.name(y)))
        };
        let optional = |x: Option<Sym>, y: Option<Sym>| match (x, y) {
            (Some(x), Some(y)) => text(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        match self.sort.field {
            SortField::Reference => a.reference().cmp(b.reference()),
            SortField::Title => store
                .folded_title(sa)
                .cmp(store.folded_title(sb))
                .then_with(|| a.title().cmp(b.title())),
            SortField::Status => self
                .rank(a.status)
                .cmp(&self.rank(b.status))
                .then_with(|| names.name(a.status).cmp(names.name(b.status))),
            SortField::Priority => a.priority.cmp(&b.priority),
            SortField::Category => optional(a.category(), b.category()),
            SortField::Operator => optional(a.operator_name(), b.operator_name()),
            SortField::Contact => text(a.contact_name, b.contact_name),
            SortField::Created => a.created_at.cmp(&b.created_at),
            SortField::Updated => a.updated_at.cmp(&b.updated_at),
        }
    }

    /// Compares two slots of the store; a missing row sorts last.
    pub fn cmp_slots(&self, store: &Store, a: Slot, b: Slot) -> Ordering {
        match (store.row(a), store.row(b)) {
            (Some(x), Some(y)) => self.cmp(store, (a, x), (b, y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.cmp(&b),
        }
    }

    /// The slots of the rows `keep` passes, in this order: a view worked
    /// out from scratch, on the calling thread.
    pub fn select(&self, store: &Store, keep: &dyn super::worker::Predicate) -> Vec<Slot> {
        let mut m = keep.matcher();
        let mut slots: Vec<Slot> = store
            .iter()
            .filter(|&(s, _)| store.listed(s).is_some_and(&mut *m))
            .map(|(s, _)| s)
            .collect();
        drop(m);
        self.sort_slots(store, &mut slots);
        slots
    }

    /// Every slot of the store in this order.
    pub fn sort_all(&self, store: &Store) -> Vec<Slot> {
        let mut slots: Vec<Slot> = Vec::with_capacity(store.len());
        slots.extend(store.iter().map(|(s, _)| s));
        self.sort_slots(store, &mut slots);
        slots
    }

    /// Sorts slots in this order. Times and ranks are compared through a
    /// precomputed integer key first, so most comparisons touch no text.
    pub fn sort_slots(&self, store: &Store, slots: &mut [Slot]) {
        match self.integer_key() {
            Some(key) => {
                // Ties go by ticket id. Ids that fit in 32 bits (all of them,
                // in practice) make the array two thirds the size: 16 bytes a
                // ticket, 16 MB for a million.
                let descending = self.sort.descending;
                if !sort_keyed(store, slots, &*key, descending, |r| {
                    i32::try_from(r.id).ok()
                }) {
                    sort_keyed(store, slots, &*key, descending, |r| Some(r.id));
                }
            }
            None => slots.sort_unstable_by(|&a, &b| self.cmp_slots(store, a, b)),
        }
    }

    /// For columns whose order is an integer: the key.
    #[allow(clippy::type_complexity)]
    fn integer_key(&self) -> Option<Box<dyn Fn(&Row) -> i64 + '_>> {
        match self.sort.field {
            SortField::Created => Some(Box::new(|r: &Row| r.created_at)),
            SortField::Updated => Some(Box::new(|r: &Row| r.updated_at)),
            SortField::Priority => Some(Box::new(|r: &Row| i64::from(r.priority.rank()))),
            SortField::Status => Some(Box::new(|r: &Row| {
                // Rank first; statuses of equal rank (unknown ones) are rare,
                // the symbol keeps them apart deterministically.
                (i64::from(self.rank(r.status)) << 32) | i64::from(r.status)
            })),
            _ => None,
        }
    }

    /// Where `slot` belongs in `slots` (sorted in this order).
    pub fn position(&self, store: &Store, slots: &[Slot], slot: Slot) -> usize {
        slots.partition_point(|&s| self.cmp_slots(store, s, slot) == Ordering::Less)
    }
}

/// Above this many changed tickets, a catch-up merges instead of inserting.
const MERGE_ABOVE: usize = 32;

/// Merges two lists sorted in `order`: each of `b` (the few) is placed by
/// a binary search in what is left of `a` (the many), and the runs of `a`
/// between are copied whole. A load's batch of older tickets all goes after
/// a view in newest-first order: a few thousand comparisons, not one per
/// ticket listed.
fn merge(store: &Store, order: &Order, a: Vec<Slot>, b: Vec<Slot>) -> Vec<Slot> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut rest = &a[..];
    for &s in &b {
        let before = rest.partition_point(|&x| order.cmp_slots(store, s, x) != Ordering::Less);
        out.extend_from_slice(&rest[..before]);
        rest = &rest[before..];
        out.push(s);
    }
    out.extend_from_slice(rest);
    out
}

/// Sorts `slots` by an integer key, ties by `tie` (ascending), through one
/// temporary array of (key, tie, slot); every slot is expected to hold a
/// row. False, with `slots` untouched, when `tie` has no value for a row.
fn sort_keyed<T: Ord + Copy>(
    store: &Store,
    slots: &mut [Slot],
    key: &dyn Fn(&Row) -> i64,
    descending: bool,
    tie: impl Fn(&Row) -> Option<T>,
) -> bool {
    let mut keyed: Vec<(i64, T, Slot)> = Vec::with_capacity(slots.len());
    for &s in slots.iter() {
        if let Some(r) = store.row(s) {
            let Some(t) = tie(r) else {
                return false;
            };
            keyed.push((key(r), t, s));
        }
    }
    if descending {
        keyed.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    } else {
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    for (place, (_, _, s)) in slots.iter_mut().zip(keyed) {
        *place = s;
    }
    true
}

/// Slots in order, as of a generation of the store. Cloning one is cheap:
/// the worker's kept orders and answers and the list on screen share the
/// slots (four bytes a ticket) until one of them changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// The listed slots, in order.
    pub slots: Arc<Vec<Slot>>,
    /// The store generation the slots reflect.
    pub generation: u64,
}

impl View {
    /// Brings the view up to the store's generation by moving only the
    /// tickets that changed since: each is taken out and, if it still passes
    /// `keep`, put back where it now belongs. Returns false when the store's
    /// log does not reach back far enough (the caller recomputes).
    pub fn catch_up(
        &mut self,
        store: &Store,
        order: &Order,
        mut keep: impl FnMut(Listed<'_>) -> bool,
    ) -> bool {
        let Some(changed) = store.changed_since(self.generation) else {
            return false;
        };
        if !changed.is_empty() {
            // Take every changed slot out in one pass, then put back those that pass.
            let mut is_changed = vec![false; store.slot_count().max(1)];
            for &s in &changed {
                if let Some(flag) = is_changed.get_mut(s as usize) {
                    *flag = true;
                }
            }
            let unchanged = |s: &Slot| !is_changed.get(*s as usize).copied().unwrap_or(false);
            // Shared slots are copied in the same pass that takes the changed out.
            match Arc::get_mut(&mut self.slots) {
                Some(slots) => slots.retain(unchanged),
                None => {
                    self.slots = Arc::new(self.slots.iter().copied().filter(unchanged).collect())
                }
            }
            let slots = Arc::make_mut(&mut self.slots);
            let mut back: Vec<Slot> = changed
                .into_iter()
                .filter(|&s| store.listed(s).is_some_and(&mut keep))
                .collect();
            if back.len() <= MERGE_ABOVE {
                if slots.capacity() - slots.len() < back.len() {
                    // Views are kept: a little room, not twice the size.
                    slots.reserve_exact(back.len() + slots.len() / 64 + 16);
                }
                for s in back {
                    let at = order.position(store, slots, s);
                    slots.insert(at, s);
                }
            } else {
                // Many at once (a batch of a load): one merge instead of a
                // shift of the whole view per ticket.
                order.sort_slots(store, &mut back);
                let old = std::mem::take(slots);
                *slots = merge(store, order, old, back);
            }
        }
        self.generation = store.generation();
        true
    }
}
