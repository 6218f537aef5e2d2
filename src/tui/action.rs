//! Every command an operator can give, by name. The names appear verbatim in
//! the keymap file and in the help screen.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($($variant:ident = $name:literal : $about:literal,)*) => {
        /// A named command. Keys are bound to these in `assets/keymap.toml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(
                #[doc = $about]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name used in the keymap.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// One line for the help screen.
            pub fn about(self) -> &'static str {
                match self { $(Action::$variant => $about,)* }
            }
        }
    };
}

actions! {
    Quit = "quit": "quit (waits for changes still being sent)",
    Help = "help": "show or hide this help",
    FocusNext = "focus_next": "focus the next pane",
    FocusPrev = "focus_prev": "focus the previous pane",
    FocusList = "focus_list": "focus the ticket list",
    FocusDetail = "focus_detail": "focus the ticket detail",
    FocusChat = "focus_chat": "focus the chat",
    Down = "down": "next row / scroll down",
    Up = "up": "previous row / scroll up",
    Top = "top": "first row / top",
    Bottom = "bottom": "last row / bottom",
    PageDown = "page_down": "one page down",
    PageUp = "page_up": "one page up",
    Sort = "sort": "choose the sort column (again on the same column reverses)",
    SortReverse = "sort_reverse": "reverse the sort direction",
    FilterStatus = "filter_status": "filter by status",
    FilterPriority = "filter_priority": "filter by priority",
    FilterOperator = "filter_operator": "filter by operator",
    Search = "search": "search reference, title and contact",
    ClearFilters = "clear_filters": "clear every filter and the search",
    EditStatus = "edit_status": "change the status (of the marked tickets, or the selected one)",
    EditPriority = "edit_priority": "change the priority (marked tickets, or the selected one)",
    EditOperator = "edit_operator": "assign an operator (marked tickets, or the selected one)",
    AssignToMe = "assign_to_me": "assign to me (marked tickets, or the selected one)",
    EditCategory = "edit_category": "change the category (marked tickets, or the selected one)",
    EditTitle = "edit_title": "change the title",
    EditDescription = "edit_description": "change the description (ctrl-e there: in $EDITOR)",
    EditTags = "edit_tags": "change the tags (tab completes a known tag)",
    ToggleImportant = "toggle_important": "mark the ticket important, or not any more",
    EditReference = "edit_reference": "change the reference (unique)",
    EditContact = "edit_contact": "change the ticket's customer (or enter a new one)",
    EditPendingUntil = "wait_until": "wait until a time (2d, 4h, 2026-12-01 09:00; empty: no time); the server acts when it passes",
    AddNote = "add_note": "add an internal note",
    Compose = "compose": "write to the customer in the chat",
    NewTicket = "new_ticket": "open a new ticket (for the selected ticket's contact)",
    DeleteTicket = "delete_ticket": "delete the ticket (asks first)",
    History = "history": "show the ticket's change history in the detail pane (again: its fields)",
    PreviousTickets = "past_tickets": "show the customer's previous tickets in the detail pane (again: the fields)",
    OpenTicket = "open_ticket": "open the chosen one of the customer's previous tickets",
    Stats = "stats": "statistics: open per status, priority and category, time to close, per day",
    Statuses = "statuses": "list the statuses, and add a custom one (administrators)",
    Escalate = "escalate": "e-mail the ticket, its customer and the chat to someone outside the helpdesk",
    Profile = "profile": "your profile: turn the ticket e-mails on or off",
    Conflicts = "conflicts": "settle the next change in conflict with someone else's",
    Refresh = "refresh": "reload everything from the server",
    Views = "views": "choose a saved view",
    Palette = "palette": "type a command (with its arguments, completed)",
    Mark = "mark": "mark or unmark the ticket for a change to several at once",
    MarkRange = "mark_range": "mark every ticket from the last marked one to this one",
    MarkAll = "mark_all": "mark every listed ticket (again: unmark them)",
    ClearMarks = "clear_marks": "unmark every ticket",
    View1 = "view_1": "switch to saved view 1",
    View2 = "view_2": "switch to saved view 2",
    View3 = "view_3": "switch to saved view 3",
    View4 = "view_4": "switch to saved view 4",
    View5 = "view_5": "switch to saved view 5",
    View6 = "view_6": "switch to saved view 6",
    View7 = "view_7": "switch to saved view 7",
    View8 = "view_8": "switch to saved view 8",
    View9 = "view_9": "switch to saved view 9",
    Confirm = "confirm": "accept / send",
    Cancel = "cancel": "close without changing anything",
    Toggle = "toggle": "select or unselect (filters)",
    Newline = "newline": "new line in a text",
    Complete = "complete": "complete the category or tag name",
    ExternalEditor = "external_editor": "edit the text in $EDITOR (or $VISUAL)",
    TakeMine = "take_mine": "keep my value for this field",
    TakeTheirs = "take_theirs": "keep their value for this field",
    EditValue = "edit_value": "type a new value for this field",
    QuitWait = "quit_wait": "send the unsent changes, then quit",
    QuitKeep = "quit_keep": "quit now; unsent changes are sent at next start",
}

impl Action {
    /// Whether the action only means something inside a popup (a picker, a
    /// field, a question, a conflict).
    pub fn popup_only(self) -> bool {
        matches!(
            self,
            Action::Confirm
                | Action::Cancel
                | Action::Toggle
                | Action::Newline
                | Action::Complete
                | Action::ExternalEditor
                | Action::TakeMine
                | Action::TakeTheirs
                | Action::EditValue
                | Action::QuitWait
                | Action::QuitKeep
        )
    }

    /// The saved view a `view_N` action switches to (0-based).
    pub fn view_index(self) -> Option<usize> {
        const VIEWS: [Action; 9] = [
            Action::View1,
            Action::View2,
            Action::View3,
            Action::View4,
            Action::View5,
            Action::View6,
            Action::View7,
            Action::View8,
            Action::View9,
        ];
        VIEWS.iter().position(|a| *a == self)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown action {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.name()), "duplicate name {}", a.name());
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
        }
        assert!("launch_rockets".parse::<Action>().is_err());
    }
}
