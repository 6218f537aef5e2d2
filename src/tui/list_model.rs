//! The list's state: which tickets it lists and in which order (the view),
//! the sort and filters that made it, the selected row and the first row on
//! screen.
//!
//! The view is slots of the ticket [`Store`](crate::store::Store) in order.
//! A new sort or filter is a query: answered on the spot in tests and for
//! small sets, by the query worker in the console (the last view stays on
//! screen until the answer comes). A ticket that changes only moves itself:
//! the view catches up with the store's change log.

use std::collections::BTreeSet;
use std::sync::Arc;

use deskterm_api::{Meta, OperatorId, Sort, TicketId};

use super::action::Action;
use super::tickets::Tickets;
use crate::query::lang::{self, Compiled, Compiler, Context, FuzzyWord, Query, QueryError};
use crate::query::{self};
use crate::store::worker::{self, Answer, Engine, Predicate, Request, Typed, TypedWord, Worker};
use crate::store::{Order, Slot, View};

/// The query a view answers.
#[derive(Clone)]
struct Asked {
    id: u64,
    query: Query,
    me: Option<OperatorId>,
    filter: Arc<Compiled>,
    order: Order,
}

/// What a query is evaluated against besides the tickets.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Statuses, operators… of the backend.
    pub meta: Option<&'a Meta>,
    /// The signed-in operator (`op:me`).
    pub me: Option<OperatorId>,
    /// Now, Unix seconds (`updated<7d`, SLA states).
    pub now: i64,
    /// The operator's time zone, seconds east of UTC (dates).
    pub utc_offset: i32,
    /// Rows on screen.
    pub height: usize,
}

/// The ticket list as the operator sees it.
pub struct ListModel {
    /// Slots of the listed tickets, filtered and sorted.
    view: View,
    /// The query `view` answers.
    shown: Option<Asked>,
    /// The newest query, when its answer has not arrived yet.
    waiting: Option<Asked>,
    /// Row of the selected ticket in `view`.
    selected: usize,
    /// The selected ticket, kept across new views.
    selected_id: Option<TicketId>,
    /// First row drawn.
    offset: usize,
    /// Active sort.
    pub sort: Sort,
    /// The query: the search box, the filter pickers and the views all edit it.
    pub query: Query,
    /// Why the query cannot be used, if it cannot (the last view stays).
    pub query_error: Option<QueryError>,
    /// Tickets marked for a bulk change, kept across sorts and filters.
    marked: BTreeSet<TicketId>,
    /// Where a range mark starts: the ticket last marked or unmarked.
    anchor: Option<TicketId>,
    compiler: Compiler,
    next_id: u64,
    engine: Engine,
    worker: Option<Worker>,
}

impl std::fmt::Debug for ListModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListModel")
            .field("listed", &self.view.slots.len())
            .field("selected", &self.selected)
            .field("offset", &self.offset)
            .field("sort", &self.sort)
            .field("query", &self.query.to_string())
            .finish_non_exhaustive()
    }
}

impl Default for ListModel {
    fn default() -> Self {
        ListModel::new()
    }
}

impl ListModel {
    /// An empty list in the default order, without filters.
    pub fn new() -> ListModel {
        ListModel {
            view: View::default(),
            shown: None,
            waiting: None,
            selected: 0,
            selected_id: None,
            offset: 0,
            sort: query::DEFAULT_SORT,
            query: Query::default(),
            query_error: None,
            marked: BTreeSet::new(),
            anchor: None,
            compiler: Compiler::default(),
            next_id: 0,
            engine: Engine::default(),
            worker: None,
        }
    }

    /// From now on, queries are answered by `worker` (see [`ListModel::answer`]).
    pub fn use_worker(&mut self, worker: Worker) {
        self.worker = Some(worker);
    }

    /// How many tickets are listed.
    pub fn len(&self) -> usize {
        self.view.slots.len()
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.view.slots.is_empty()
    }

    /// True while a new sort or filter is being worked out.
    pub fn busy(&self) -> bool {
        self.waiting.is_some()
    }

    /// Ids of the listed tickets, in order.
    pub fn ids(&self, tickets: &Tickets) -> Vec<TicketId> {
        let store = worker::read(tickets.store());
        self.view
            .slots
            .iter()
            .filter_map(|s| store.row(*s).map(|r| r.id))
            .collect()
    }

    /// Ids of the listed tickets from row `from`, at most `count`.
    pub fn ids_at(&self, tickets: &Tickets, from: usize, count: usize) -> Vec<TicketId> {
        let store = worker::read(tickets.store());
        let end = (from + count).min(self.view.slots.len());
        self.view.slots[from.min(end)..end]
            .iter()
            .filter_map(|s| store.row(*s).map(|r| r.id))
            .collect()
    }

    /// Row of the selected ticket.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected ticket's id, when anything is listed.
    pub fn selected_id(&self) -> Option<TicketId> {
        self.selected_id
    }

    /// First row on screen.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Moves the selection for a motion action, `height` rows being on screen.
    pub fn move_selection(&mut self, tickets: &Tickets, action: Action, height: usize) {
        let page = height.max(1);
        let last = self.len().saturating_sub(1);
        self.selected = match action {
            Action::Down => (self.selected + 1).min(last),
            Action::Up => self.selected.saturating_sub(1),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageDown => (self.selected + page).min(last),
            Action::PageUp => self.selected.saturating_sub(page),
            _ => self.selected,
        };
        self.selected_id = self.id_of_row(tickets, self.selected);
        self.keep_visible(height);
    }

    fn id_of_row(&self, tickets: &Tickets, row: usize) -> Option<TicketId> {
        let slot = *self.view.slots.get(row)?;
        worker::read(tickets.store()).row(slot).map(|r| r.id)
    }

    /// Tickets marked for a bulk change.
    pub fn marked(&self) -> &BTreeSet<TicketId> {
        &self.marked
    }

    /// Whether `id` is marked.
    pub fn is_marked(&self, id: TicketId) -> bool {
        self.marked.contains(&id)
    }

    /// Marks the selected ticket, or unmarks it when it was marked; it
    /// becomes the start of the next range.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_id {
            if !self.marked.remove(&id) {
                self.marked.insert(id);
            }
            self.anchor = Some(id);
        }
    }

    /// Marks every listed ticket from the start of the range to the selected
    /// row. Without a start, or when it is no longer listed, marks the
    /// selected ticket alone. Returns how many were newly marked.
    pub fn mark_range(&mut self, tickets: &Tickets) -> usize {
        let Some(selected) = self.selected_id else {
            return 0;
        };
        let from = self
            .anchor
            .and_then(|a| self.row_of(tickets, a))
            .unwrap_or(self.selected);
        let (start, end) = (from.min(self.selected), from.max(self.selected));
        let before = self.marked.len();
        self.marked
            .extend(self.ids_at(tickets, start, end + 1 - start));
        self.anchor = Some(selected);
        self.marked.len() - before
    }

    /// Marks every listed ticket; when all were marked already, unmarks them.
    pub fn mark_all(&mut self, tickets: &Tickets) {
        let ids = self.ids(tickets);
        if ids.iter().all(|id| self.marked.contains(id)) {
            for id in &ids {
                self.marked.remove(id);
            }
        } else {
            self.marked.extend(ids);
        }
    }

    /// Unmarks everything; whether anything was marked.
    pub fn clear_marks(&mut self) -> bool {
        self.anchor = None;
        let had = !self.marked.is_empty();
        self.marked.clear();
        had
    }

    /// Forgets marks on tickets that no longer exist.
    pub fn unmark(&mut self, id: TicketId) {
        self.marked.remove(&id);
        if self.anchor == Some(id) {
            self.anchor = None;
        }
    }

    fn row_of(&self, tickets: &Tickets, id: TicketId) -> Option<usize> {
        let store = worker::read(tickets.store());
        self.view
            .slots
            .iter()
            .position(|s| store.row(*s).is_some_and(|r| r.id == id))
    }

    /// Scrolls so that the selected row is among the `height` rows on screen.
    pub fn keep_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    /// Brings the list up to date after tickets, sort or query changed,
    /// keeping the same ticket selected when it is still listed. A changed
    /// sort or query is a new question for the worker; changed tickets only
    /// move themselves. A query that does not compile (an unknown status,
    /// say) leaves the last view and says why in [`ListModel::query_error`].
    pub fn refresh(&mut self, tickets: &Tickets, scope: Scope<'_>) {
        let (compiled, order) = {
            let mut store = tickets.store().write().unwrap_or_else(|e| e.into_inner());
            let order = Order::new(self.sort, &mut store, scope.meta);
            let mut ctx = Context::new(store.names(), scope.meta, scope.me, scope.now);
            ctx.utc_offset = scope.utc_offset;
            let compiled = self.compiler.compile(&self.query, &ctx);
            (compiled, order)
        };
        let compiled = match compiled {
            Ok(c) => {
                self.query_error = None;
                c
            }
            Err(e) => {
                let spans = lang::parse_spanned(&self.query.to_string())
                    .map(|(_, spans)| spans)
                    .unwrap_or_default();
                self.query_error = Some(e.locate(&spans));
                self.catch_up(tickets, scope);
                return;
            }
        };
        let newest = self.waiting.as_ref().or(self.shown.as_ref());
        let same =
            newest.is_some_and(|a| a.query == self.query && a.me == scope.me && a.order == order);
        let compiled = Arc::new(compiled);
        if same {
            // Names interned since the last compile (a new contact) are
            // known to the fresh compile: tickets that change from now on
            // are tested with it.
            if let Some(shown) = &mut self.shown {
                shown.filter = compiled;
            }
        } else {
            self.ask(tickets, compiled, order, scope);
        }
        self.catch_up(tickets, scope);
    }

    /// Moves the tickets that changed since the view was made.
    fn catch_up(&mut self, tickets: &Tickets, scope: Scope<'_>) {
        if let Some(shown) = self.shown.clone() {
            let store = worker::read(tickets.store());
            let mut keep = shown.filter.matcher();
            let caught_up = self.view.catch_up(&store, &shown.order, &mut *keep);
            drop(keep);
            drop(store);
            if !caught_up {
                // Too much changed at once: work the view out again.
                self.shown = None;
                self.ask(tickets, shown.filter, shown.order, scope);
            }
        }
        self.reselect(tickets, scope.height);
    }

    fn ask(&mut self, tickets: &Tickets, filter: Arc<Compiled>, order: Order, scope: Scope<'_>) {
        self.next_id += 1;
        let before = self.waiting.as_ref().or(self.shown.as_ref());
        let comparable = before.filter(|b| b.order == order && b.me == scope.me);
        let narrows = comparable.is_some_and(|b| lang::narrows(&b.query, &self.query));
        let typed = comparable
            .filter(|_| narrows)
            .and_then(|b| lang::typed_word(&b.query, &self.query))
            .map(|(term, word)| Typed {
                term,
                word: Arc::new(FuzzyWord::new(word)) as Arc<dyn TypedWord>,
            });
        let asked = Asked {
            id: self.next_id,
            query: self.query.clone(),
            me: scope.me,
            filter,
            order,
        };
        let request = Request {
            id: asked.id,
            predicate: asked.filter.clone() as Arc<dyn Predicate>,
            order: asked.order.clone(),
            narrows,
            typed,
            // What the compiled query tests, names resolved: the same text
            // with another signed-in operator or other statuses differs.
            // A query of relative times is never reused (its clock moves).
            key: (!asked.filter.uses_now()).then(|| format!("{:?}", asked.filter)),
        };
        match &self.worker {
            Some(worker) => {
                self.waiting = Some(asked);
                worker.ask(request);
            }
            None => {
                let view = worker::evaluate(tickets.store(), &mut self.engine, &request);
                self.install(tickets, asked, view, scope.height);
            }
        }
    }

    /// The worker answered; true when the answer is the newest query's and
    /// is now on screen (older answers are dropped).
    pub fn answer(&mut self, tickets: &Tickets, answer: Answer, height: usize) -> bool {
        match self.waiting.take() {
            Some(asked) if asked.id == answer.id => {
                self.install(tickets, asked, answer.view, height);
                true
            }
            other => {
                self.waiting = other;
                false
            }
        }
    }

    fn install(&mut self, tickets: &Tickets, asked: Asked, mut view: View, height: usize) {
        {
            let store = worker::read(tickets.store());
            let mut keep = asked.filter.matcher();
            if !view.catch_up(&store, &asked.order, &mut *keep) {
                drop(keep);
                view = View {
                    slots: asked.order.select(&store, asked.filter.as_ref()).into(),
                    generation: store.generation(),
                };
            }
        }
        self.view = view;
        self.shown = Some(asked);
        self.reselect(tickets, height);
    }

    /// Selects the ticket `id` when it is listed; false when the query
    /// leaves it out (or it is not held).
    pub fn select(&mut self, tickets: &Tickets, id: TicketId, height: usize) -> bool {
        let store = worker::read(tickets.store());
        let Some(slot) = store.slot(id) else {
            return false;
        };
        let Some(row) = self.view.slots.iter().position(|s| *s == slot) else {
            return false;
        };
        drop(store);
        self.selected = row;
        self.selected_id = Some(id);
        self.keep_visible(height);
        true
    }

    /// Makes `id` the ticket to select once a view lists it (after a new
    /// query is answered).
    pub fn prefer(&mut self, id: TicketId) {
        self.selected_id = Some(id);
    }

    /// Finds the selected ticket in the view again, or stays on the same row.
    fn reselect(&mut self, tickets: &Tickets, height: usize) {
        let store = worker::read(tickets.store());
        let at = self.selected_id.and_then(|id| {
            let slot = store.slot(id)?;
            self.view.slots.iter().position(|s| *s == slot)
        });
        if let Some(row) = at {
            self.selected = row;
        }
        self.selected = self.selected.min(self.view.slots.len().saturating_sub(1));
        let slot: Option<Slot> = self.view.slots.get(self.selected).copied();
        self.selected_id = slot.and_then(|s| store.row(s)).map(|r| r.id);
        drop(store);
        self.keep_visible(height);
    }
}

#[cfg(test)]
mod tests {
    use deskterm_api::SortField;

    use super::*;
    use crate::tui::fixture;

    fn scope(meta: &Meta) -> Scope<'_> {
        Scope {
            meta: Some(meta),
            me: None,
            now: fixture::now().timestamp(),
            utc_offset: 0,
            height: 3,
        }
    }

    fn listed() -> (ListModel, Tickets) {
        let mut tickets = Tickets::new();
        tickets.replace_all(fixture::tickets(), Some(&fixture::meta()));
        let mut list = ListModel::new();
        list.refresh(&tickets, scope(&fixture::meta()));
        (list, tickets)
    }

    #[test]
    fn motion_pages_and_scrolls_within_the_view() {
        let (mut list, tickets) = listed();
        assert_eq!(list.ids(&tickets), [1, 2, 3, 4, 5]);
        list.move_selection(&tickets, Action::PageDown, 3);
        assert_eq!((list.selected(), list.offset()), (3, 1));
        list.move_selection(&tickets, Action::Bottom, 3);
        assert_eq!((list.selected_id(), list.offset()), (Some(5), 2));
        list.move_selection(&tickets, Action::Down, 3);
        assert_eq!(list.selected_id(), Some(5), "stays on the last row");
        list.move_selection(&tickets, Action::PageUp, 3);
        assert_eq!((list.selected(), list.offset()), (1, 1));
        // A taller screen shows everything from the top.
        list.keep_visible(10);
        assert_eq!(list.offset(), 0);
    }

    #[test]
    fn marks_follow_tickets_by_toggle_range_and_all() {
        let (mut list, tickets) = listed();
        list.move_selection(&tickets, Action::Down, 3);
        list.toggle_mark();
        assert_eq!(list.marked().iter().copied().collect::<Vec<_>>(), [2]);
        // A range runs from the last toggled ticket to the selection, either way.
        list.move_selection(&tickets, Action::Bottom, 3);
        assert_eq!(list.mark_range(&tickets), 3);
        assert_eq!(
            list.marked().iter().copied().collect::<Vec<_>>(),
            [2, 3, 4, 5]
        );
        list.move_selection(&tickets, Action::Top, 3);
        assert_eq!(
            list.mark_range(&tickets),
            1,
            "from 5 up to 1: only 1 is new"
        );
        list.toggle_mark();
        assert!(!list.is_marked(1));
        list.mark_all(&tickets);
        assert_eq!(list.marked().len(), 5);
        list.mark_all(&tickets);
        assert!(
            list.marked().is_empty(),
            "all marked: the second time unmarks"
        );
        list.toggle_mark();
        assert!(list.clear_marks());
        assert!(!list.clear_marks());
    }

    #[test]
    fn refreshing_keeps_the_selected_ticket_or_the_nearest_row() {
        let (mut list, mut tickets) = listed();
        let meta = fixture::meta();
        list.move_selection(&tickets, Action::Down, 3);
        assert_eq!(list.selected_id(), Some(2));
        list.sort = Sort {
            field: SortField::Priority,
            descending: true,
        };
        list.refresh(&tickets, scope(&meta));
        assert_eq!(list.ids(&tickets), [1, 3, 2, 5, 4]);
        assert_eq!(list.selected_id(), Some(2), "the ticket, not the row");
        list.move_selection(&tickets, Action::Bottom, 3);
        tickets.remove(4);
        list.refresh(&tickets, scope(&meta));
        assert_eq!(list.selected_id(), Some(5), "the row above when it left");
        assert_eq!(list.offset(), 1);
    }
}
