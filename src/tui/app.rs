//! The state of the screen and the one place it changes: [`App::update`].
//!
//! `update` is pure: it takes a [`Msg`] (a key, a resize, an event from the
//! sync engine), changes the state and returns [`Effect`]s for the event loop
//! to carry out. No I/O happens here, so every behaviour is testable without
//! a terminal or a server.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::KeyEvent;
use deskterm_api::{
    ChatMessage, ContactId, Me, Meta, Note, OperatorId, Priority, Sort, SortField, Ticket,
    TicketId, TicketPatch,
};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::keymap::{Context, Keymap};
use super::layout;
use super::new_ticket::TicketForm;
use super::resolve::ConflictView;
use crate::query::{self, Filter};
use crate::sync::{Command, Connection, OpId, SyncEvent, Write};

/// Something that happened, for [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// A named action (from the keymap or a test).
    Action(Action),
    /// Text pasted into the terminal.
    Paste(String),
    /// The terminal has a new size.
    Resize(u16, u16),
    /// News from the sync engine.
    Sync(SyncEvent),
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Hand a command to the sync engine.
    Sync(Command),
    /// Leave: restore the terminal and exit.
    Exit,
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Ticket list.
    List,
    /// Ticket detail and notes.
    Detail,
    /// Chat with the contact.
    Chat,
}

/// How serious a status-bar message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Confirmation.
    Info,
    /// Something failed.
    Error,
}

/// What a picker is choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    /// Sort column.
    Sort,
    /// Status filter (several).
    FilterStatus,
    /// Priority filter (several).
    FilterPriority,
    /// Operator filter (several).
    FilterOperator,
    /// New status of the ticket.
    EditStatus,
    /// New priority.
    EditPriority,
    /// New operator.
    EditOperator,
}

impl PickerKind {
    fn multi(self) -> bool {
        matches!(
            self,
            PickerKind::FilterStatus | PickerKind::FilterPriority | PickerKind::FilterOperator
        )
    }

    /// Popup title.
    pub fn title(self) -> &'static str {
        match self {
            PickerKind::Sort => "Sort by",
            PickerKind::FilterStatus => "Show statuses",
            PickerKind::FilterPriority => "Show priorities",
            PickerKind::FilterOperator => "Show operators",
            PickerKind::EditStatus => "Status",
            PickerKind::EditPriority => "Priority",
            PickerKind::EditOperator => "Assign to",
        }
    }
}

/// The value behind a picker row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickValue {
    /// A sort column.
    Sort(SortField),
    /// A status key.
    Status(String),
    /// A priority.
    Priority(Priority),
    /// An operator, or nobody.
    Operator(Option<OperatorId>),
}

/// A choice popup.
#[derive(Debug, Clone)]
pub struct Picker {
    /// What it chooses.
    pub kind: PickerKind,
    /// Rows: label and value.
    pub items: Vec<(String, PickValue)>,
    /// Highlighted row.
    pub cursor: usize,
    /// Ticked rows, for filters.
    pub chosen: BTreeSet<usize>,
}

/// What a text field edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Ticket title.
    Title,
    /// Ticket category.
    Category,
    /// A new internal note.
    Note,
    /// The search filter.
    Search,
}

impl InputKind {
    /// Popup title.
    pub fn title(self) -> &'static str {
        match self {
            InputKind::Title => "Title",
            InputKind::Category => "Category (tab completes; a new name creates it)",
            InputKind::Note => "Internal note (only operators see it)",
            InputKind::Search => "Search",
        }
    }

    fn multi_line(self) -> bool {
        self == InputKind::Note
    }
}

/// A popup text field.
#[derive(Debug, Clone)]
pub struct Input {
    /// What it edits.
    pub kind: InputKind,
    /// The text being typed.
    pub text: TextArea<'static>,
    /// The ticket it was opened for.
    pub ticket: Option<TicketId>,
    /// The text when it was opened (what cancelling a search returns to).
    pub original: String,
}

/// What floats over the panes.
#[derive(Debug, Clone)]
pub enum Modal {
    /// The generated key help.
    Help {
        /// First line shown.
        scroll: u16,
    },
    /// A choice.
    Picker(Picker),
    /// A text field.
    Input(Input),
    /// A yes/no question.
    Confirm(Confirm),
    /// A conflict to settle.
    Conflict(ConflictView),
    /// The form of a new ticket.
    NewTicket(Box<TicketForm>),
}

/// What a confirmation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Delete this ticket?
    Delete(TicketId),
    /// Quit with writes still unsent: wait for them, or keep them for next start?
    Quit,
}

/// A write the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The write.
    pub write: Write,
    /// When the operator made it.
    pub at: DateTime<Utc>,
    /// The operator who made it (for notes and messages shown while sending).
    pub author: Option<deskterm_api::OperatorRef>,
    /// Waits for the operator to settle a conflict.
    pub conflict: bool,
    /// In the outbox on disk (survives a crash).
    pub stored: bool,
}

/// The status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Connection state.
    pub connection: Connection,
    /// The last message for the operator.
    pub message: Option<(Level, String)>,
    /// When the backend last answered.
    pub last_sync: Option<DateTime<Utc>>,
}

/// Everything the screen shows.
#[derive(Debug)]
pub struct App {
    /// Key bindings.
    pub keymap: Keymap,
    /// The signed-in operator.
    pub me: Option<Me>,
    /// Statuses, operators… of the backend.
    pub meta: Option<Meta>,
    /// Whether the first full load arrived.
    pub loaded: bool,
    /// Tickets as the server last confirmed them.
    server: HashMap<TicketId, Ticket>,
    /// Tickets as shown: the server's with the operator's unsent changes on top.
    pub tickets: HashMap<TicketId, Ticket>,
    /// Unconfirmed writes, in the order they were made.
    pub pending: BTreeMap<OpId, Pending>,
    next_op: OpId,
    /// Ids of the listed tickets, filtered and sorted.
    pub view: Vec<TicketId>,
    /// Active sort.
    pub sort: Sort,
    /// Active filters.
    pub filter: Filter,
    /// Row of the selected ticket in `view`.
    pub selected: usize,
    /// First row drawn.
    pub list_offset: usize,
    /// The ticket whose notes and chat were last requested.
    viewing: Option<(TicketId, ContactId)>,
    /// Notes by ticket, oldest first.
    pub notes: HashMap<TicketId, Vec<Note>>,
    /// Chats by contact, oldest first.
    pub messages: HashMap<ContactId, Vec<ChatMessage>>,
    /// Focused pane.
    pub focus: Pane,
    /// Popup, if any.
    pub modal: Option<Modal>,
    /// The chat composer (kept between uses, so a draft survives).
    pub composer: TextArea<'static>,
    /// True while the composer has the keyboard.
    pub composing: bool,
    /// Lines scrolled in the detail pane.
    pub detail_scroll: u16,
    /// Lines scrolled up from the bottom of the chat.
    pub chat_scroll: u16,
    /// Status bar.
    pub status: Status,
    /// Terminal size.
    pub size: (u16, u16),
    /// Waiting for writes to finish before exiting.
    pub quitting: bool,
    /// A quit was refused once because of an unsent draft; the next one leaves.
    quit_armed: bool,
    /// The time used for SLA indicators; refreshed by the event loop.
    pub now: DateTime<Utc>,
    /// Offset of the operator's time zone, for showing times.
    pub tz: FixedOffset,
    /// Conflicts waiting for the operator, oldest first.
    pub conflicts: VecDeque<ConflictView>,
    /// Tickets of a snapshot still arriving.
    incoming: Vec<Ticket>,
}

impl App {
    /// An empty screen waiting for the first load.
    ///
    /// `first_op` numbers this session's writes; it must be above every
    /// earlier session's (the event loop uses the clock in microseconds).
    pub fn new(keymap: Keymap, now: DateTime<Utc>, tz: FixedOffset, first_op: OpId) -> App {
        App {
            keymap,
            me: None,
            meta: None,
            loaded: false,
            server: HashMap::new(),
            tickets: HashMap::new(),
            pending: BTreeMap::new(),
            next_op: first_op,
            view: Vec::new(),
            sort: query::DEFAULT_SORT,
            filter: Filter::default(),
            selected: 0,
            list_offset: 0,
            viewing: None,
            notes: HashMap::new(),
            messages: HashMap::new(),
            focus: Pane::List,
            modal: None,
            composer: new_composer(),
            composing: false,
            detail_scroll: 0,
            chat_scroll: 0,
            status: Status {
                connection: Connection::Connecting,
                message: None,
                last_sync: None,
            },
            size: (80, 24),
            quitting: false,
            quit_armed: false,
            now,
            tz,
            conflicts: VecDeque::new(),
            incoming: Vec::new(),
        }
    }

    /// The selected ticket, as shown.
    pub fn selected_ticket(&self) -> Option<&Ticket> {
        self.view
            .get(self.selected)
            .and_then(|id| self.tickets.get(id))
    }

    /// How many tickets the backend has (as far as this client knows).
    pub fn total(&self) -> usize {
        self.tickets.len()
    }

    /// The context keys are looked up in right now.
    pub fn context(&self) -> Context {
        match &self.modal {
            Some(Modal::Help { .. }) => Context::Help,
            Some(Modal::Picker(_)) => Context::Picker,
            Some(Modal::Input(_)) => Context::Input,
            Some(Modal::Confirm(_)) => Context::Confirm,
            Some(Modal::Conflict(view)) if view.editing.is_some() => Context::Input,
            Some(Modal::Conflict(_)) => Context::Conflict,
            Some(Modal::NewTicket(_)) => Context::Form,
            None if self.composing => Context::Composer,
            None => match self.focus {
                Pane::List => Context::List,
                Pane::Detail => Context::Detail,
                Pane::Chat => Context::Chat,
            },
        }
    }

    /// Label of a status key.
    pub fn status_label<'a>(&'a self, key: &'a str) -> &'a str {
        self.meta
            .as_ref()
            .and_then(|m| m.statuses.iter().find(|s| s.key == key))
            .map(|s| s.label.as_str())
            .unwrap_or(key)
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

    /// The one place state changes.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut effects = Vec::new();
        match msg {
            Msg::Key(key) => self.on_key(key, &mut effects),
            Msg::Action(action) => self.on_action(action, &mut effects),
            Msg::Paste(text) => self.on_paste(&text),
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.keep_selection_visible();
            }
            Msg::Sync(event) => self.on_sync(event, &mut effects),
        }
        self.request_view(&mut effects);
        if self.quitting && self.pending.is_empty() {
            effects.push(Effect::Exit);
        }
        effects
    }

    fn on_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        use crossterm::event::KeyEventKind;
        if key.kind == KeyEventKind::Release {
            return;
        }
        let context = self.context();
        if let Some(action) = self.keymap.action(context, &key) {
            self.on_action(action, effects);
            return;
        }
        // Unbound keys are text inside a text field.
        match context {
            Context::Input => match &mut self.modal {
                Some(Modal::Input(input)) => {
                    input.text.input(key);
                    if input.kind == InputKind::Search {
                        self.filter.text = input.text.lines().join(" ");
                        self.refresh_view();
                    }
                }
                Some(Modal::Conflict(view)) => view.type_key(key),
                _ => {}
            },
            Context::Form => {
                if let Some(Modal::NewTicket(form)) = &mut self.modal {
                    form.type_key(key);
                }
            }
            Context::Composer => {
                self.composer.input(key);
            }
            _ => {}
        }
    }

    fn on_paste(&mut self, text: &str) {
        // Pasted text is the operator's own, but it may carry escape sequences all the same.
        let text = crate::sanitize::text(text);
        match &mut self.modal {
            Some(Modal::Input(input)) => {
                let text = if input.kind.multi_line() {
                    text
                } else {
                    text.replace('\n', " ")
                };
                input.text.insert_str(text);
            }
            None if self.composing => {
                self.composer.insert_str(text);
            }
            _ => {}
        }
    }

    fn on_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        if action == Action::Quit {
            // Quitting works from anywhere, a half-typed note or reply included.
            self.quit(effects);
            return;
        }
        self.quit_armed = false;
        match self.context() {
            Context::Help => self.help_action(action),
            Context::Picker => self.picker_action(action, effects),
            Context::Input if matches!(self.modal, Some(Modal::Conflict(_))) => {
                self.conflict_action(action, effects)
            }
            Context::Input => self.input_action(action, effects),
            Context::Confirm => self.confirm_action(action, effects),
            Context::Conflict => self.conflict_action(action, effects),
            Context::Form => self.form_action(action, effects),
            Context::Composer => self.composer_action(action, effects),
            _ => self.pane_action(action, effects),
        }
    }

    fn help_action(&mut self, action: Action) {
        let Some(Modal::Help { scroll }) = &mut self.modal else {
            return;
        };
        match action {
            Action::Down => *scroll = scroll.saturating_add(1),
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::PageDown => *scroll = scroll.saturating_add(10),
            Action::PageUp => *scroll = scroll.saturating_sub(10),
            Action::Cancel | Action::Help => self.modal = None,
            _ => {}
        }
    }

    fn pane_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Quit => {}
            Action::Help => self.modal = Some(Modal::Help { scroll: 0 }),
            Action::FocusNext => {
                self.focus = match self.focus {
                    Pane::List => Pane::Detail,
                    Pane::Detail => Pane::Chat,
                    Pane::Chat => Pane::List,
                }
            }
            Action::FocusPrev => {
                self.focus = match self.focus {
                    Pane::List => Pane::Chat,
                    Pane::Detail => Pane::List,
                    Pane::Chat => Pane::Detail,
                }
            }
            Action::FocusList => self.focus = Pane::List,
            Action::FocusDetail => self.focus = Pane::Detail,
            Action::FocusChat => self.focus = Pane::Chat,
            Action::Down | Action::Up | Action::Top | Action::Bottom => self.motion(action),
            Action::PageDown | Action::PageUp => self.motion(action),
            Action::Sort => self.open_picker(PickerKind::Sort),
            Action::SortReverse => {
                self.sort.descending = !self.sort.descending;
                self.refresh_view();
            }
            Action::FilterStatus => self.open_picker(PickerKind::FilterStatus),
            Action::FilterPriority => self.open_picker(PickerKind::FilterPriority),
            Action::FilterOperator => self.open_picker(PickerKind::FilterOperator),
            Action::Search => {
                let mut text = single_line_area(&self.filter.text);
                text.set_placeholder_text("words in reference, title or contact");
                self.modal = Some(Modal::Input(Input {
                    kind: InputKind::Search,
                    text,
                    ticket: None,
                    original: self.filter.text.clone(),
                }));
            }
            Action::ClearFilters => {
                self.filter = Filter::default();
                self.refresh_view();
                self.say(Level::Info, "filters cleared");
            }
            Action::EditStatus => self.open_ticket_picker(PickerKind::EditStatus),
            Action::EditPriority => self.open_ticket_picker(PickerKind::EditPriority),
            Action::EditOperator => self.open_ticket_picker(PickerKind::EditOperator),
            Action::AssignToMe => {
                if let (Some(t), Some(me)) = (self.selected_ticket(), &self.me)
                    && t.operator.as_ref().map(|o| o.id) != Some(me.id)
                {
                    let patch = TicketPatch {
                        operator_id: Some(Some(me.id)),
                        ..Default::default()
                    };
                    self.write_patch(t.id, patch, effects);
                }
            }
            Action::EditCategory => self.open_input(InputKind::Category),
            Action::EditTitle => self.open_input(InputKind::Title),
            Action::AddNote => self.open_input(InputKind::Note),
            Action::Compose => {
                if self.selected_ticket().is_some() {
                    self.focus = Pane::Chat;
                    self.composing = true;
                    self.chat_scroll = 0;
                }
            }
            Action::Refresh => {
                effects.push(Effect::Sync(Command::Reload));
                self.say(Level::Info, "reloading…");
            }
            Action::NewTicket => self.open_ticket_form(),
            Action::DeleteTicket => match self.selected_ticket() {
                Some(t) if t.id > 0 => self.modal = Some(Modal::Confirm(Confirm::Delete(t.id))),
                Some(_) => self.say(Level::Error, "this ticket is still being created"),
                None => self.say(Level::Error, "no ticket selected"),
            },
            Action::Conflicts => {
                if !self.show_next_conflict() {
                    self.say(Level::Info, "no conflicts to settle");
                }
            }
            Action::Confirm
            | Action::Cancel
            | Action::Toggle
            | Action::Newline
            | Action::Complete
            | Action::TakeMine
            | Action::TakeTheirs
            | Action::EditValue
            | Action::QuitWait
            | Action::QuitKeep => {}
        }
    }

    fn quit(&mut self, effects: &mut Vec<Effect>) {
        let draft = !self.composer.is_empty()
            || matches!(&self.modal, Some(Modal::Input(i)) if i.kind != InputKind::Search && !i.text.is_empty());
        if self.quitting || (!draft && self.pending.is_empty()) {
            // Quitting again while waiting leaves: the outbox keeps the rest for next start.
            effects.push(Effect::Exit);
        } else if draft && !self.quit_armed {
            self.quit_armed = true;
            self.say(
                Level::Error,
                "there is an unsent draft: quit again to discard it",
            );
        } else if self.pending.is_empty() {
            effects.push(Effect::Exit);
        } else {
            self.modal = Some(Modal::Confirm(Confirm::Quit));
        }
    }

    fn confirm_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Confirm(question)) = self.modal else {
            return;
        };
        match (question, action) {
            (_, Action::Cancel) => self.modal = None,
            (Confirm::Delete(id), Action::Confirm) => {
                self.modal = None;
                if let Some(version) = self.server.get(&id).map(|t| t.version) {
                    self.write(
                        Write::Delete {
                            ticket: id,
                            version,
                        },
                        effects,
                    );
                }
            }
            (Confirm::Quit, Action::QuitWait | Action::Confirm) => {
                self.modal = None;
                self.quitting = true;
                let n = self.pending.len();
                self.say(
                    Level::Info,
                    format!("sending {n} change(s), then quitting…"),
                );
            }
            (Confirm::Quit, Action::QuitKeep) => {
                self.modal = None;
                effects.push(Effect::Exit);
            }
            _ => {}
        }
    }

    fn motion(&mut self, action: Action) {
        let page = self.list_height().max(1);
        match self.focus {
            Pane::List => {
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
                self.on_selection_moved();
            }
            Pane::Detail => {
                self.detail_scroll = scroll(self.detail_scroll, action, false);
            }
            Pane::Chat => {
                // The chat is anchored at its newest line: "up" goes back in time.
                self.chat_scroll = scroll(self.chat_scroll, action, true);
            }
        }
    }

    fn on_selection_moved(&mut self) {
        self.detail_scroll = 0;
        self.chat_scroll = 0;
        self.keep_selection_visible();
    }

    fn list_height(&self) -> usize {
        layout::list_rows(self.size.0, self.size.1)
    }

    fn keep_selection_visible(&mut self) {
        let height = self.list_height().max(1);
        if self.selected < self.list_offset {
            self.list_offset = self.selected;
        } else if self.selected >= self.list_offset + height {
            self.list_offset = self.selected + 1 - height;
        }
        let max_offset = self.view.len().saturating_sub(height);
        self.list_offset = self.list_offset.min(max_offset);
    }

    /// Recomputes the list after tickets, sort or filters changed, keeping the
    /// same ticket selected when it is still listed.
    fn refresh_view(&mut self) {
        let keep = self.view.get(self.selected).copied();
        self.view = query::view(
            self.tickets.values(),
            self.meta.as_ref(),
            &self.filter,
            self.sort,
        );
        if let Some(id) = keep
            && let Some(row) = self.view.iter().position(|v| *v == id)
        {
            self.selected = row;
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
        self.keep_selection_visible();
    }

    /// Asks the engine for notes and chat when the selected ticket changed.
    fn request_view(&mut self, effects: &mut Vec<Effect>) {
        let wanted = self.selected_ticket().map(|t| (t.id, t.contact.id));
        if wanted != self.viewing {
            self.viewing = wanted;
            if let Some((ticket, contact)) = wanted {
                effects.push(Effect::Sync(Command::View { ticket, contact }));
            }
        }
    }

    fn open_picker(&mut self, kind: PickerKind) {
        let Some(meta) = &self.meta else {
            self.say(Level::Error, "still loading statuses and operators");
            return;
        };
        let current = self.selected_ticket();
        let mut items: Vec<(String, PickValue)> = Vec::new();
        let mut chosen = BTreeSet::new();
        let mut cursor = 0;
        match kind {
            PickerKind::Sort => {
                for field in SortField::ALL {
                    if field == self.sort.field {
                        cursor = items.len();
                    }
                    items.push((column_title(field).to_owned(), PickValue::Sort(field)));
                }
            }
            PickerKind::FilterStatus | PickerKind::EditStatus => {
                for s in &meta.statuses {
                    let macro_label = match s.macro_status {
                        deskterm_api::MacroStatus::InProgress => "in progress",
                        deskterm_api::MacroStatus::Closed => "closed",
                    };
                    let i = items.len();
                    if self.filter.statuses.contains(&s.key) {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditStatus && current.is_some_and(|t| t.status == s.key)
                    {
                        cursor = i;
                    }
                    items.push((
                        format!("{}  ({macro_label})", s.label),
                        PickValue::Status(s.key.clone()),
                    ));
                }
            }
            PickerKind::FilterPriority | PickerKind::EditPriority => {
                for p in Priority::ALL.into_iter().rev() {
                    let i = items.len();
                    if self.filter.priorities.contains(&p) {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditPriority && current.is_some_and(|t| t.priority == p)
                    {
                        cursor = i;
                    }
                    items.push((p.as_str().to_owned(), PickValue::Priority(p)));
                }
            }
            PickerKind::FilterOperator | PickerKind::EditOperator => {
                let assigned = current.map(|t| t.operator.as_ref().map(|o| o.id));
                let options = std::iter::once((None, "(unassigned)".to_owned()))
                    .chain(meta.operators.iter().map(|o| (Some(o.id), o.name.clone())));
                for (id, name) in options {
                    let i = items.len();
                    if self.filter.operators.contains(&id) {
                        chosen.insert(i);
                    }
                    if kind == PickerKind::EditOperator && assigned == Some(id) {
                        cursor = i;
                    }
                    let me = self.me.as_ref().is_some_and(|m| Some(m.id) == id);
                    let label = if me { format!("{name} (me)") } else { name };
                    items.push((label, PickValue::Operator(id)));
                }
            }
        }
        if !kind.multi() {
            chosen.clear();
        }
        self.modal = Some(Modal::Picker(Picker {
            kind,
            items,
            cursor,
            chosen,
        }));
    }

    fn open_ticket_picker(&mut self, kind: PickerKind) {
        if self.selected_ticket().is_none() {
            self.say(Level::Error, "no ticket selected");
            return;
        }
        self.open_picker(kind);
    }

    fn picker_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Picker(picker)) = &mut self.modal else {
            return;
        };
        let last = picker.items.len().saturating_sub(1);
        match action {
            Action::Down => picker.cursor = (picker.cursor + 1).min(last),
            Action::Up => picker.cursor = picker.cursor.saturating_sub(1),
            Action::Top => picker.cursor = 0,
            Action::Bottom => picker.cursor = last,
            Action::Toggle if picker.kind.multi() && !picker.chosen.remove(&picker.cursor) => {
                picker.chosen.insert(picker.cursor);
            }
            Action::Cancel => self.modal = None,
            Action::Confirm => {
                let Some(Modal::Picker(picker)) = self.modal.take() else {
                    return;
                };
                self.apply_pick(picker, effects);
            }
            _ => {}
        }
    }

    fn apply_pick(&mut self, picker: Picker, effects: &mut Vec<Effect>) {
        let Some((_, value)) = picker.items.get(picker.cursor).cloned() else {
            return;
        };
        // Enter on a filter with nothing ticked picks the highlighted row alone.
        let chosen: Vec<PickValue> = if picker.chosen.is_empty() {
            vec![value.clone()]
        } else {
            picker
                .chosen
                .iter()
                .filter_map(|i| picker.items.get(*i).map(|(_, v)| v.clone()))
                .collect()
        };
        match picker.kind {
            PickerKind::Sort => {
                if let PickValue::Sort(field) = value {
                    if field == self.sort.field {
                        self.sort.descending = !self.sort.descending;
                    } else {
                        // Newest, most urgent first is what an operator wants on a first pick.
                        let descending = matches!(
                            field,
                            SortField::Priority | SortField::Updated | SortField::Created
                        );
                        self.sort = Sort { field, descending };
                    }
                    self.refresh_view();
                }
            }
            PickerKind::FilterStatus => {
                self.filter.statuses = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Status(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                self.refresh_view();
            }
            PickerKind::FilterPriority => {
                self.filter.priorities = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Priority(p) => Some(p),
                        _ => None,
                    })
                    .collect();
                self.refresh_view();
            }
            PickerKind::FilterOperator => {
                self.filter.operators = chosen
                    .into_iter()
                    .filter_map(|v| match v {
                        PickValue::Operator(o) => Some(o),
                        _ => None,
                    })
                    .collect();
                self.refresh_view();
            }
            PickerKind::EditStatus | PickerKind::EditPriority | PickerKind::EditOperator => {
                let Some(ticket) = self.selected_ticket() else {
                    return;
                };
                let id = ticket.id;
                let patch = match value {
                    PickValue::Status(s) if s != ticket.status => TicketPatch {
                        status: Some(s),
                        ..Default::default()
                    },
                    PickValue::Priority(p) if p != ticket.priority => TicketPatch {
                        priority: Some(p),
                        ..Default::default()
                    },
                    PickValue::Operator(o) if o != ticket.operator.as_ref().map(|x| x.id) => {
                        TicketPatch {
                            operator_id: Some(o),
                            ..Default::default()
                        }
                    }
                    _ => return,
                };
                self.write_patch(id, patch, effects);
            }
        }
    }

    fn open_input(&mut self, kind: InputKind) {
        let Some(ticket) = self.selected_ticket() else {
            self.say(Level::Error, "no ticket selected");
            return;
        };
        let text = match kind {
            InputKind::Title => single_line_area(&ticket.title),
            InputKind::Category => single_line_area(ticket.category.as_deref().unwrap_or("")),
            InputKind::Note | InputKind::Search => {
                let mut t = TextArea::default();
                t.set_placeholder_text("alt-enter: new line · enter: save · esc: cancel");
                t
            }
        };
        let original = text.lines().join("\n");
        self.modal = Some(Modal::Input(Input {
            kind,
            text,
            ticket: Some(ticket.id),
            original,
        }));
    }

    fn input_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Input(input)) = &mut self.modal else {
            return;
        };
        match action {
            Action::Cancel => {
                if input.kind == InputKind::Search {
                    // The list narrowed while typing; cancelling puts the search back as it was.
                    self.filter.text = input.original.clone();
                    self.refresh_view();
                }
                self.modal = None;
            }
            Action::Newline if input.kind.multi_line() => input.text.insert_newline(),
            Action::Complete if input.kind == InputKind::Category => {
                let typed = input.text.lines().join("");
                if let Some(name) = complete_category(self.meta.as_ref(), &typed) {
                    input.text = single_line_area(&name);
                }
            }
            Action::Confirm => {
                let Some(Modal::Input(input)) = self.modal.take() else {
                    return;
                };
                self.submit_input(input, effects);
            }
            _ => {}
        }
    }

    fn submit_input(&mut self, input: Input, effects: &mut Vec<Effect>) {
        let text = input.text.lines().join("\n");
        let trimmed = text.trim();
        if input.kind == InputKind::Search {
            self.filter.text = trimmed.to_owned();
            self.refresh_view();
            return;
        }
        let Some(id) = input.ticket else {
            return;
        };
        let Some(ticket) = self.tickets.get(&id) else {
            self.say(Level::Error, "that ticket is gone");
            return;
        };
        match input.kind {
            InputKind::Title => {
                if trimmed.is_empty() {
                    self.say(Level::Error, "a title cannot be empty");
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if trimmed.chars().count() > deskterm_api::TITLE_MAX_CHARS {
                    self.say(
                        Level::Error,
                        format!(
                            "a title has at most {} characters",
                            deskterm_api::TITLE_MAX_CHARS
                        ),
                    );
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if trimmed != ticket.title {
                    let patch = TicketPatch {
                        title: Some(trimmed.to_owned()),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Category => {
                let new = (!trimmed.is_empty()).then(|| trimmed.to_owned());
                if new != ticket.category {
                    let patch = TicketPatch {
                        category: Some(new),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Note => {
                if trimmed.is_empty() {
                    self.say(Level::Info, "empty note not added");
                    return;
                }
                self.write(
                    Write::AddNote {
                        ticket: id,
                        body: trimmed.to_owned(),
                    },
                    effects,
                );
            }
            InputKind::Search => {}
        }
    }

    fn composer_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Cancel => self.composing = false,
            Action::Newline => self.composer.insert_newline(),
            Action::Confirm => {
                let body = self.composer.lines().join("\n");
                let body = body.trim();
                if body.is_empty() {
                    return;
                }
                let Some(ticket) = self.selected_ticket() else {
                    self.say(Level::Error, "no ticket selected");
                    return;
                };
                let write = Write::SendMessage {
                    contact: ticket.contact.id,
                    ticket: Some(ticket.id),
                    body: body.to_owned(),
                };
                self.composer = new_composer();
                self.write(write, effects);
            }
            _ => {}
        }
    }

    fn write_patch(&mut self, ticket: TicketId, patch: TicketPatch, effects: &mut Vec<Effect>) {
        let Some(version) = self.server.get(&ticket).map(|t| t.version) else {
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

    /// Shows a write at once and hands it to the engine (which stores it
    /// in the outbox before sending it).
    pub(crate) fn write(&mut self, write: Write, effects: &mut Vec<Effect>) {
        let op = self.next_op;
        self.next_op += 1;
        let base = write.ticket().and_then(|id| self.server.get(&id)).cloned();
        let base = match write {
            Write::Patch { .. } | Write::Delete { .. } => base,
            _ => None,
        };
        self.track(op, write.clone(), false);
        self.refresh_view();
        effects.push(Effect::Sync(Command::Write { op, write, base }));
    }

    /// Records a pending write and shows its effect on its ticket; the
    /// caller refreshes the list once, however many writes it tracked.
    fn track(&mut self, op: OpId, write: Write, conflict: bool) {
        let stored = self.pending.get(&op).is_some_and(|p| p.stored);
        let touched = write.ticket();
        let created = matches!(write, Write::Create { .. });
        self.pending.insert(
            op,
            Pending {
                write,
                at: self.now,
                author: self.me.as_ref().map(|m| deskterm_api::OperatorRef {
                    id: m.id,
                    name: m.name.clone(),
                }),
                conflict,
                stored,
            },
        );
        if let Some(id) = touched {
            self.recompute(id);
        }
        if created {
            self.recompute(temp_id(op));
        }
    }

    /// Forgets a pending write and shows the ticket without it (the caller
    /// refreshes the list).
    fn untrack(&mut self, op: OpId) -> Option<Pending> {
        let removed = self.pending.remove(&op)?;
        if let Some(id) = removed.write.ticket() {
            self.recompute(id);
        }
        if matches!(removed.write, Write::Create { .. }) {
            self.tickets.remove(&temp_id(op));
        }
        Some(removed)
    }

    /// Rebuilds the shown ticket from the server's plus the pending writes:
    /// patches applied in order, a pending delete hides it, a pending create
    /// shows a provisional ticket.
    fn recompute(&mut self, id: TicketId) {
        if id < 0 {
            let op = id.unsigned_abs();
            if let Some(Pending {
                write: Write::Create { ticket },
                at,
                ..
            }) = self.pending.get(&op)
            {
                let shown = provisional_ticket(id, ticket, *at, self);
                self.tickets.insert(id, shown);
            }
            return;
        }
        let Some(base) = self.server.get(&id) else {
            self.tickets.remove(&id);
            return;
        };
        let mut shown = base.clone();
        for p in self.pending.values() {
            match &p.write {
                Write::Patch { ticket, patch, .. } if *ticket == id => {
                    apply_patch(&mut shown, patch, self.meta.as_ref());
                }
                Write::Delete { ticket, .. } if *ticket == id && !p.conflict => {
                    self.tickets.remove(&id);
                    return;
                }
                _ => {}
            }
        }
        self.tickets.insert(id, shown);
    }

    /// Contacts the client knows of (from tickets), by name.
    pub fn known_contacts(&self) -> Vec<deskterm_api::ContactRef> {
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

    /// Opens the next conflict, if any and if nothing else is open.
    fn show_next_conflict(&mut self) -> bool {
        if self.modal.is_some() {
            return false;
        }
        match self.conflicts.pop_front() {
            Some(view) => {
                self.modal = Some(Modal::Conflict(view));
                true
            }
            None => false,
        }
    }

    fn on_sync(&mut self, event: SyncEvent, _effects: &mut Vec<Effect>) {
        match event {
            SyncEvent::Connection(c) => {
                if c == Connection::Connected
                    && !matches!(self.status.connection, Connection::Connected)
                {
                    self.status.message = None;
                }
                self.status.connection = c;
            }
            SyncEvent::Synced => self.status.last_sync = Some(self.now),
            SyncEvent::SignedIn(me) => self.me = Some(me),
            SyncEvent::Meta(meta) => {
                self.meta = Some(meta);
                self.refresh_view();
            }
            SyncEvent::SnapshotBegin { .. } => self.incoming.clear(),
            SyncEvent::SnapshotBatch(batch) => self.incoming.extend(batch.tickets),
            SyncEvent::Detail(_) => {}
            SyncEvent::SnapshotEnd => {
                let tickets = std::mem::take(&mut self.incoming);
                self.on_sync(SyncEvent::Snapshot(tickets), _effects);
            }
            SyncEvent::Snapshot(tickets) => {
                self.server = tickets.into_iter().map(|t| (t.id, t)).collect();
                self.tickets.clear();
                let ids: Vec<TicketId> = self.server.keys().copied().collect();
                for id in ids {
                    self.recompute(id);
                }
                let creates: Vec<OpId> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| matches!(p.write, Write::Create { .. }))
                    .map(|(op, _)| *op)
                    .collect();
                for op in creates {
                    self.recompute(temp_id(op));
                }
                self.loaded = true;
                self.refresh_view();
            }
            SyncEvent::TicketChanged(t) => {
                // Feed and write answers can arrive in either order: keep the newest.
                let newer = self
                    .server
                    .get(&t.id)
                    .is_none_or(|known| known.version <= t.version);
                if newer {
                    let id = t.id;
                    self.server.insert(id, t);
                    self.recompute(id);
                    self.refresh_view();
                }
            }
            SyncEvent::TicketDeleted(id) => {
                self.server.remove(&id);
                self.tickets.remove(&id);
                self.notes.remove(&id);
                self.refresh_view();
            }
            SyncEvent::Notes(ticket, notes) => {
                self.notes.insert(ticket, notes);
            }
            SyncEvent::NoteAdded(note) => {
                let list = self.notes.entry(note.ticket_id).or_default();
                if !list.iter().any(|n| n.id == note.id) {
                    list.push(note);
                    list.sort_by_key(|n| (n.created_at, n.id));
                }
            }
            SyncEvent::Messages(contact, messages) => {
                self.messages.insert(contact, messages);
            }
            SyncEvent::MessageAdded(message) => {
                let list = self.messages.entry(message.contact_id).or_default();
                if !list.iter().any(|m| m.id == message.id) {
                    list.push(message);
                    list.sort_by_key(|m| m.id);
                }
            }
            SyncEvent::Outbox(entries) => {
                for entry in entries {
                    self.next_op = self.next_op.max(entry.op + 1);
                    let conflict = entry.conflict.clone();
                    self.track(entry.op, entry.write.clone(), conflict.is_some());
                    if let Some(p) = self.pending.get_mut(&entry.op) {
                        p.stored = true;
                    }
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
                let n = self.pending.len();
                self.say(
                    Level::Info,
                    format!("{n} change(s) from last time are being sent"),
                );
                self.show_next_conflict();
            }
            SyncEvent::Stored(op) => {
                if let Some(p) = self.pending.get_mut(&op) {
                    p.stored = true;
                }
            }
            SyncEvent::WriteDone(op) => {
                self.untrack(op);
                self.refresh_view();
            }
            SyncEvent::WriteRetrying { error, .. } => {
                self.say(Level::Error, format!("{error} — kept, will retry"));
            }
            SyncEvent::Merged(op) => {
                if let Some(p) = self.pending.get(&op) {
                    let what = p
                        .write
                        .ticket()
                        .and_then(|id| self.server.get(&id))
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
            SyncEvent::Conflict {
                op,
                write,
                base,
                theirs,
            } => {
                if let Some(p) = self.pending.get_mut(&op) {
                    p.conflict = true;
                }
                if let Some(id) = write.ticket() {
                    self.recompute(id);
                    self.refresh_view();
                }
                let view = ConflictView::new(op, write, base, theirs, self);
                self.conflicts.push_back(view);
                if !self.show_next_conflict() {
                    self.say(
                        Level::Error,
                        "a change is in conflict with someone else's: X to settle it",
                    );
                }
            }
            SyncEvent::WriteFailed { op, write, error } => {
                self.untrack(op);
                self.refresh_view();
                self.give_back(write);
                self.say(Level::Error, error);
            }
            SyncEvent::Notice(text) => self.say(Level::Info, text),
            SyncEvent::Error(e) => self.say(Level::Error, e),
            SyncEvent::Stopped => {}
        }
    }

    /// A refused note or message is the operator's work: put its text back
    /// where it can be fixed and sent again.
    fn give_back(&mut self, write: Write) {
        match write {
            Write::SendMessage { body, .. } => {
                if !self.composer.is_empty() {
                    self.composer.insert_newline();
                }
                self.composer.insert_str(body);
            }
            Write::AddNote { ticket, body } if self.modal.is_none() => {
                let mut text = TextArea::new(body.lines().map(str::to_owned).collect());
                text.move_cursor(ratatui_textarea::CursorMove::Bottom);
                text.move_cursor(ratatui_textarea::CursorMove::End);
                self.modal = Some(Modal::Input(Input {
                    kind: InputKind::Note,
                    text,
                    ticket: Some(ticket),
                    original: String::new(),
                }));
            }
            _ => {}
        }
    }

    /// Number of writes waiting for the operator's decision.
    pub fn conflict_count(&self) -> usize {
        self.pending.values().filter(|p| p.conflict).count()
    }

    /// Sets the status-bar message.
    pub(crate) fn say_info(&mut self, text: impl Into<String>) {
        self.say(Level::Info, text);
    }

    /// Sets the status-bar error.
    pub(crate) fn say_error(&mut self, text: impl Into<String>) {
        self.say(Level::Error, text);
    }

    /// The server's version of a ticket.
    pub(crate) fn server_ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.server.get(&id)
    }

    /// Replaces a pending write after the operator settled its conflict.
    pub(crate) fn settle(&mut self, op: OpId, write: Option<Write>) {
        match write {
            Some(write) => self.track(op, write, false),
            None => {
                self.untrack(op);
            }
        }
        self.refresh_view();
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status.message = Some((level, text.into()));
    }
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

/// The id a ticket being created is shown under until the server gives it one.
pub fn temp_id(op: OpId) -> TicketId {
    -(op.min(i64::MAX as u64) as i64)
}

/// How a ticket being created looks until the server answers.
fn provisional_ticket(
    id: TicketId,
    new: &deskterm_api::NewTicket,
    at: DateTime<Utc>,
    app: &App,
) -> Ticket {
    let contact = app
        .server
        .values()
        .map(|t| &t.contact)
        .find(|c| c.id == new.contact_id)
        .cloned()
        .unwrap_or(deskterm_api::ContactRef {
            id: new.contact_id,
            name: format!("contact {}", new.contact_id),
            phone: None,
            email: None,
        });
    let operator = new.operator_id.and_then(|id| {
        app.meta
            .as_ref()
            .and_then(|m| m.operators.iter().find(|o| o.id == id))
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

/// The first known category starting with what was typed (case-insensitively).
fn complete_category(meta: Option<&Meta>, typed: &str) -> Option<String> {
    let typed = typed.trim().to_lowercase();
    meta?
        .categories
        .iter()
        .find(|c| c.name.to_lowercase().starts_with(&typed))
        .map(|c| c.name.clone())
}

fn scroll(current: u16, action: Action, inverted: bool) -> u16 {
    let (down, up) = match action {
        Action::Down => (1, 0),
        Action::Up => (0, 1),
        Action::PageDown => (10, 0),
        Action::PageUp => (0, 10),
        Action::Top if inverted => (0, u16::MAX),
        Action::Top => return 0,
        Action::Bottom if inverted => return 0,
        Action::Bottom => (u16::MAX, 0),
        _ => (0, 0),
    };
    let (forward, back) = if inverted { (up, down) } else { (down, up) };
    current.saturating_add(forward).saturating_sub(back)
}

fn single_line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.replace('\n', " ")]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

fn new_composer() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("reply to the customer…");
    t
}

/// The column header of a sort field.
pub fn column_title(field: SortField) -> &'static str {
    match field {
        SortField::Reference => "Reference",
        SortField::Title => "Title",
        SortField::Status => "Status",
        SortField::Priority => "Priority",
        SortField::Category => "Category",
        SortField::Operator => "Operator",
        SortField::Contact => "Contact",
        SortField::Created => "Created",
        SortField::Updated => "Updated",
    }
}
