//! The list's state: which tickets it lists and in which order (the view),
//! the sort and filters that made it, the selected row and the first row on
//! screen.
//!
//! It holds ids only; the tickets themselves are in [`Tickets`].

use deskterm_api::{Meta, Sort, TicketId};

use super::action::Action;
use super::tickets::Tickets;
use crate::query::{self, Filter};

/// The ticket list as the operator sees it.
#[derive(Debug, Clone)]
pub struct ListModel {
    /// Ids of the listed tickets, filtered and sorted.
    view: Vec<TicketId>,
    /// Row of the selected ticket in `view`.
    selected: usize,
    /// First row drawn.
    offset: usize,
    /// Active sort.
    pub sort: Sort,
    /// Active filters.
    pub filter: Filter,
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
            view: Vec::new(),
            selected: 0,
            offset: 0,
            sort: query::DEFAULT_SORT,
            filter: Filter::default(),
        }
    }

    /// Ids of the listed tickets, in order.
    pub fn view(&self) -> &[TicketId] {
        &self.view
    }

    /// Row of the selected ticket.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected ticket's id, when anything is listed.
    pub fn selected_id(&self) -> Option<TicketId> {
        self.view.get(self.selected).copied()
    }

    /// First row on screen.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Moves the selection for a motion action, `height` rows being on screen.
    pub fn move_selection(&mut self, action: Action, height: usize) {
        let page = height.max(1);
        let last = self.view.len().saturating_sub(1);
        self.selected = match action {
            Action::Down => (self.selected + 1).min(last),
            Action::Up => self.selected.saturating_sub(1),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageDown => (self.selected + page).min(last),
            Action::PageUp => self.selected.saturating_sub(page),
            _ => self.selected,
        };
        self.keep_visible(height);
    }

    /// Scrolls so that the selected row is among the `height` rows on screen.
    pub fn keep_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        let max_offset = self.view.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }

    /// Recomputes the view after tickets, sort or filters changed, keeping
    /// the same ticket selected when it is still listed.
    pub fn refresh(&mut self, tickets: &Tickets, meta: Option<&Meta>, height: usize) {
        let keep = self.selected_id();
        self.view = query::view(tickets.iter(), meta, &self.filter, self.sort);
        if let Some(id) = keep
            && let Some(row) = self.view.iter().position(|v| *v == id)
        {
            self.selected = row;
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
        self.keep_visible(height);
    }
}

#[cfg(test)]
mod tests {
    use deskterm_api::SortField;

    use super::*;
    use crate::tui::fixture;

    fn listed() -> (ListModel, Tickets) {
        let mut tickets = Tickets::new();
        tickets.replace_all(fixture::tickets(), Some(&fixture::meta()));
        let mut list = ListModel::new();
        list.refresh(&tickets, Some(&fixture::meta()), 3);
        (list, tickets)
    }

    #[test]
    fn motion_pages_and_scrolls_within_the_view() {
        let (mut list, _) = listed();
        assert_eq!(list.view(), [1, 2, 3, 4, 5]);
        list.move_selection(Action::PageDown, 3);
        assert_eq!((list.selected(), list.offset()), (3, 1));
        list.move_selection(Action::Bottom, 3);
        assert_eq!((list.selected_id(), list.offset()), (Some(5), 2));
        list.move_selection(Action::Down, 3);
        assert_eq!(list.selected_id(), Some(5), "stays on the last row");
        list.move_selection(Action::PageUp, 3);
        assert_eq!((list.selected(), list.offset()), (1, 1));
        // A taller screen shows everything from the top.
        list.keep_visible(10);
        assert_eq!(list.offset(), 0);
    }

    #[test]
    fn refreshing_keeps_the_selected_ticket_or_the_nearest_row() {
        let (mut list, mut tickets) = listed();
        let meta = fixture::meta();
        list.move_selection(Action::Down, 3);
        assert_eq!(list.selected_id(), Some(2));
        list.sort = Sort {
            field: SortField::Priority,
            descending: true,
        };
        list.refresh(&tickets, Some(&meta), 3);
        assert_eq!(list.view(), [1, 3, 2, 5, 4]);
        assert_eq!(list.selected_id(), Some(2), "the ticket, not the row");
        list.move_selection(Action::Bottom, 3);
        tickets.remove(4);
        list.refresh(&tickets, Some(&meta), 3);
        assert_eq!(list.selected_id(), Some(5), "the row above when it left");
        assert_eq!(list.offset(), 1);
    }
}
