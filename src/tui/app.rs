//! The state of the screen and the one place it changes: [`App::update`].
//!
//! `update` is pure: it takes a [`Msg`] (a key, a resize, an event from the
//! sync engine), changes the state and returns [`Effect`]s for the event loop
//! to carry out. No I/O happens here, so every behaviour is testable without
//! a terminal or a server.
//!
//! This file holds the dispatch. Each pane and popup keeps its state, its
//! actions and its drawing in its own file (`list`, `detail`, `chat`,
//! `picker`, `prompt`, `confirm`, `help`, `resolve`, `new_ticket`); the
//! tickets are in [`Tickets`], the list's order and selection in
//! [`ListModel`], and the operator's writes go through `writes`.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset, Utc};
use crossterm::event::KeyEvent;
use deskterm_api::{ContactId, Me, Meta, Ticket, TicketId};

use super::action::Action;
use super::chat::Chat;
use super::confirm::Confirm;
use super::contact::ContactChooser;
use super::detail::Detail;
use super::extras::Tab;
use super::keymap::{Context, Keymap};
use super::layout;
use super::list_model::ListModel;
use super::new_ticket::TicketForm;
use super::notify::Notify;
use super::palette::Palette;
use super::picker::{Picker, PickerKind};
use super::prompt::{Input, InputKind};
use super::resolve::ConflictView;
use super::stats::StatsView;
use super::statuses::StatusesView;
use super::tickets::Tickets;
use super::views::{ListState, SavedView};
use crate::query::lang::{self, Query};
use crate::store::worker::Answer;
use crate::sync::{Command, Connection, OpId, SyncEvent};

/// How many tickets one server search brings at most.
const SERVER_SEARCH_LIMIT: u32 = 200;

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
    /// The query worker's answer to a new sort or filter.
    View(Answer),
    /// The text back from `$EDITOR`, or why there is none.
    Edited(Result<String, String>),
}

/// How far a full load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loading {
    /// Tickets received.
    pub done: u64,
    /// Tickets expected, when known.
    pub total: Option<u64>,
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Hand a command to the sync engine.
    Sync(Command),
    /// Leave: restore the terminal and exit.
    Exit,
    /// Keep the list's view, sort and query for the next start.
    SaveState(ListState),
    /// Edit this text in `$VISUAL` / `$EDITOR`; the result comes back as
    /// [`Msg::Edited`].
    Editor(String),
    /// Tell the operator (bell or desktop notification, as configured).
    Notify(String),
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
    /// The command palette.
    Palette(Palette),
    /// A yes/no question.
    Confirm(Confirm),
    /// A conflict to settle.
    Conflict(ConflictView),
    /// The form of a new ticket.
    NewTicket(Box<TicketForm>),
    /// Choosing another customer for a ticket.
    Contact(ContactChooser),
    /// The statuses, and adding one.
    Statuses(StatusesView),
    /// The statistics.
    Stats(Box<StatsView>),
    /// The signed-in operator's profile.
    Profile,
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
    /// What the backend offers; what it lacks is hidden.
    pub capabilities: crate::backend::Capabilities,
    /// Statuses, operators… of the backend.
    pub meta: Option<Meta>,
    /// Whether the first full load arrived.
    pub loaded: bool,
    /// Tickets as shown: the server's with the operator's unsent writes on top.
    pub tickets: Tickets,
    /// Number of the next write.
    pub(super) next_op: OpId,
    /// The ticket list: view, selection, sort and filters.
    pub list: ListModel,
    /// The ticket whose notes and chat were last requested.
    viewing: Option<(TicketId, ContactId)>,
    /// The detail pane: notes and scrolling.
    pub detail: Detail,
    /// The chat pane: conversations, composer and scrolling.
    pub chat: Chat,
    /// Focused pane.
    pub focus: Pane,
    /// Popup, if any.
    pub modal: Option<Modal>,
    /// Conflicts waiting for the operator, oldest first.
    pub conflicts: VecDeque<ConflictView>,
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
    /// A full load under way.
    pub loading: Option<Loading>,
    /// Saved views, in number-key order.
    pub views: Vec<SavedView>,
    /// The view last switched to.
    pub current_view: Option<String>,
    /// The list state last handed out to be saved.
    saved: Option<ListState>,
    /// Older closed tickets are not replicated (the sync scope): a query
    /// that may match them is also asked of the server.
    pub search_server: bool,
    /// What the operator is told of, and how (`[notify]`).
    pub notify: Notify,
    /// The query last asked of the server.
    server_asked: Option<Query>,
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
            capabilities: crate::backend::Capabilities::FULL,
            meta: None,
            loaded: false,
            tickets: Tickets::new(),
            next_op: first_op,
            list: ListModel::new(),
            viewing: None,
            detail: Detail::default(),
            chat: Chat::new(),
            focus: Pane::List,
            modal: None,
            conflicts: VecDeque::new(),
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
            loading: None,
            views: Vec::new(),
            current_view: None,
            saved: None,
            search_server: false,
            notify: Notify::default(),
            server_asked: None,
        }
    }

    /// The selected ticket, as shown.
    pub fn selected_ticket(&self) -> Option<Ticket> {
        self.list
            .selected_id()
            .and_then(|id| self.tickets.shown(id))
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
            Some(Modal::Palette(_)) => Context::Palette,
            Some(Modal::Confirm(_)) => Context::Confirm,
            Some(Modal::Conflict(view)) if view.editing.is_some() => Context::Input,
            Some(Modal::Conflict(_)) => Context::Conflict,
            Some(Modal::NewTicket(_)) => Context::Form,
            Some(Modal::Contact(_)) => Context::Input,
            Some(Modal::Statuses(_)) => Context::Input,
            Some(Modal::Stats(_)) | Some(Modal::Profile) => Context::Picker,
            None if self.chat.composing => Context::Composer,
            None => match self.focus {
                Pane::List => Context::List,
                Pane::Detail if self.detail.tab == Tab::Previous => Context::Previous,
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

    /// Number of writes waiting for the operator's decision.
    pub fn conflict_count(&self) -> usize {
        self.tickets.conflict_count()
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
            Msg::Edited(result) => self.edited(result),
            Msg::View(answer) => {
                let height = layout::list_rows(self.size.0, self.size.1);
                self.list.answer(&self.tickets, answer, height);
            }
        }
        self.request_view(&mut effects);
        self.ask_server(&mut effects);
        let state = self.list_state();
        if self.saved.as_ref() != Some(&state) {
            // The first state is the one just restored or the default: nothing to save.
            if self.saved.is_some() {
                effects.push(Effect::SaveState(state.clone()));
            }
            self.saved = Some(state);
        }
        if self.quitting && !self.tickets.has_pending() {
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
        let bound = self.keymap.action(context, &key);
        if let Some(action) = bound.filter(|a| self.offers_action(*a)) {
            self.on_action(action, effects);
            return;
        }
        // Unbound keys are text inside a text field.
        match context {
            Context::Input => match &mut self.modal {
                Some(Modal::Input(_)) => self.prompt_key(key),
                Some(Modal::Contact(chooser)) => chooser.search.type_key(key),
                Some(Modal::Statuses(view)) => {
                    view.label.input(key);
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
                self.chat.composer.input(key);
            }
            Context::Palette => self.palette_key(key),
            _ => {}
        }
    }

    fn on_paste(&mut self, text: &str) {
        // Pasted text is the operator's own, but it may carry escape sequences all the same.
        let text = crate::sanitize::text(text);
        match &mut self.modal {
            Some(Modal::Input(input)) => input.paste(text),
            Some(Modal::Palette(palette)) => palette.paste(text),
            Some(Modal::Contact(chooser)) => chooser.search.paste(&text),
            Some(Modal::Statuses(view)) => {
                view.label.insert_str(text.replace('\n', " "));
            }
            Some(Modal::NewTicket(form)) => form.paste(&text),
            None if self.chat.composing => {
                self.chat.composer.insert_str(text);
            }
            _ => {}
        }
    }

    pub(super) fn on_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        if action == Action::Quit {
            // Quitting works from anywhere, a half-typed note or reply included.
            self.quit(effects);
            return;
        }
        self.quit_armed = false;
        if !self.offers_action(action) {
            // From the palette or a test: a feature this backend lacks does nothing.
            return;
        }
        match self.context() {
            Context::Help => self.help_action(action),
            Context::Picker if matches!(self.modal, Some(Modal::Stats(_))) => {
                self.stats_action(action, effects)
            }
            Context::Picker if matches!(self.modal, Some(Modal::Profile)) => {
                self.profile_action(action, effects)
            }
            Context::Picker => self.picker_action(action, effects),
            Context::Input if matches!(self.modal, Some(Modal::Conflict(_))) => {
                self.conflict_action(action, effects)
            }
            Context::Input if matches!(self.modal, Some(Modal::Contact(_))) => {
                self.contact_action(action, effects)
            }
            Context::Input if matches!(self.modal, Some(Modal::Statuses(_))) => {
                self.statuses_action(action, effects)
            }
            Context::Input => self.input_action(action, effects),
            Context::Palette => self.palette_action(action, effects),
            Context::Confirm => self.confirm_action(action, effects),
            Context::Conflict => self.conflict_action(action, effects),
            Context::Form => self.form_action(action, effects),
            Context::Composer => self.composer_action(action, effects),
            _ => self.pane_action(action, effects),
        }
    }

    /// Actions outside popups: each goes to the pane or popup it concerns.
    fn pane_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Quit => {}
            Action::Help => self.modal = Some(Modal::Help { scroll: 0 }),
            Action::FocusNext => {
                self.focus = match self.focus {
                    Pane::List => Pane::Detail,
                    Pane::Detail => Pane::Chat,
                    Pane::Chat => Pane::List,
                };
                if !self.offers_pane(self.focus) {
                    self.focus = Pane::List;
                }
            }
            Action::FocusPrev => {
                self.focus = match self.focus {
                    Pane::List => Pane::Chat,
                    Pane::Detail => Pane::List,
                    Pane::Chat => Pane::Detail,
                };
                if !self.offers_pane(self.focus) {
                    self.focus = Pane::Detail;
                }
            }
            Action::FocusList => self.focus = Pane::List,
            Action::FocusDetail => self.focus = Pane::Detail,
            Action::FocusChat => self.focus = Pane::Chat,
            Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp => match self.focus {
                Pane::List => self.list_motion(action),
                Pane::Detail if self.detail.tab == Tab::Previous => self.choose_previous(action),
                Pane::Detail => self.detail.scroll_by(action),
                Pane::Chat => self.chat.scroll_by(action),
            },
            Action::Sort => self.open_picker(PickerKind::Sort),
            Action::SortReverse => self.reverse_sort(),
            Action::FilterStatus => self.open_picker(PickerKind::FilterStatus),
            Action::FilterPriority => self.open_picker(PickerKind::FilterPriority),
            Action::FilterOperator => self.open_picker(PickerKind::FilterOperator),
            Action::Search => self.open_search(),
            Action::ClearFilters => self.clear_filters(),
            Action::EditStatus => self.open_ticket_picker(PickerKind::EditStatus),
            Action::EditPriority => self.open_ticket_picker(PickerKind::EditPriority),
            Action::EditOperator => self.open_ticket_picker(PickerKind::EditOperator),
            Action::AssignToMe => self.assign_to_me(effects),
            Action::EditCategory => self.open_input(InputKind::Category),
            Action::EditTitle => self.open_input(InputKind::Title),
            Action::AddNote => self.open_input(InputKind::Note),
            Action::EditDescription => self.open_input(InputKind::Description),
            Action::EditTags => self.open_input(InputKind::Tags),
            Action::EditReference => self.open_input(InputKind::Reference),
            Action::EditPendingUntil => self.open_input(InputKind::PendingUntil),
            Action::ToggleImportant => self.toggle_important(effects),
            Action::EditContact => self.open_contact_picker(),
            Action::Compose => self.compose(),
            Action::Refresh => {
                effects.push(Effect::Sync(Command::Reload));
                self.say(Level::Info, "reloading…");
            }
            Action::Views => self.open_picker(PickerKind::View),
            Action::Palette => self.open_palette(),
            Action::Mark => {
                self.list.toggle_mark();
                // Marking walks down the list, as in a mail reader.
                self.list_motion(Action::Down);
            }
            Action::MarkRange => {
                self.list.mark_range(&self.tickets);
            }
            Action::MarkAll => self.list.mark_all(&self.tickets),
            Action::ClearMarks => {
                if self.list.clear_marks() {
                    self.say(Level::Info, "marks cleared");
                }
            }
            Action::View1
            | Action::View2
            | Action::View3
            | Action::View4
            | Action::View5
            | Action::View6
            | Action::View7
            | Action::View8
            | Action::View9 => {
                if let Some(i) = action.view_index() {
                    self.switch_view(i);
                }
            }
            Action::NewTicket => self.open_ticket_form(),
            Action::DeleteTicket => self.ask_delete(),
            Action::History => self.detail.toggle(Tab::History),
            Action::PreviousTickets => self.detail.toggle(Tab::Previous),
            Action::OpenTicket => self.open_previous(),
            Action::Statuses => self.open_statuses(),
            Action::Stats => self.open_stats(effects),
            Action::Profile => self.open_profile(),
            Action::Escalate => self.open_input(InputKind::Escalate),
            Action::Conflicts => {
                if !self.show_next_conflict() {
                    self.say(Level::Info, "no conflicts to settle");
                }
            }
            // Keys of popups mean nothing here.
            other => debug_assert!(other.popup_only(), "{other} is not handled"),
        }
    }

    fn quit(&mut self, effects: &mut Vec<Effect>) {
        let draft = !self.chat.composer.is_empty()
            || matches!(&self.modal, Some(Modal::Input(i)) if i.holds_draft());
        let pending = self.tickets.has_pending();
        if self.quitting || (!draft && !pending) {
            // Quitting again while waiting leaves: the outbox keeps the rest for next start.
            effects.push(Effect::Exit);
        } else if draft && !self.quit_armed {
            self.quit_armed = true;
            self.say(
                Level::Error,
                "there is an unsent draft: quit again to discard it",
            );
        } else if !pending {
            effects.push(Effect::Exit);
        } else {
            self.modal = Some(Modal::Confirm(Confirm::Quit));
        }
    }

    /// Asks the server for what the query may match beyond the sync scope,
    /// once per query, when it is settled (not while it is being typed).
    fn ask_server(&mut self, effects: &mut Vec<Effect>) {
        let typing = matches!(&self.modal, Some(Modal::Input(i)) if i.kind == InputKind::Search);
        if !self.search_server || !self.loaded || typing || self.list.query_error.is_some() {
            return;
        }
        if self.server_asked.as_ref() == Some(&self.list.query) {
            return;
        }
        let query = self.list.query.clone();
        self.server_asked = Some(query.clone());
        if query.terms.is_empty() || lang::in_progress_only(&query, self.meta.as_ref()) {
            return;
        }
        let me = self.me.as_ref().map(|m| m.id);
        let listing = lang::listing(&query, self.meta.as_ref(), me, SERVER_SEARCH_LIMIT);
        effects.push(Effect::Sync(Command::Search(listing)));
        self.say(Level::Info, "also searching the server for older tickets…");
    }

    /// The server's answer to [`App::ask_server`]: tickets not held here join the list.
    fn found(&mut self, tickets: Vec<Ticket>, total: u64) {
        let mut new = 0;
        for t in tickets {
            if self.tickets.server(t.id).is_none() {
                new += 1;
            }
            self.tickets.apply_server(t, self.meta.as_ref());
        }
        self.refresh_view();
        let more = if total > u64::from(SERVER_SEARCH_LIMIT) {
            format!(" (the newest {SERVER_SEARCH_LIMIT} of {total}: narrow the query for the rest)")
        } else {
            String::new()
        };
        self.say(
            Level::Info,
            match new {
                0 => "no older tickets on the server match".to_owned(),
                n => format!("{n} older ticket(s) found on the server{more}"),
            },
        );
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
        self.request_extra(effects);
    }

    fn on_sync(&mut self, event: SyncEvent, effects: &mut Vec<Effect>) {
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
            SyncEvent::Capabilities(c) => self.capabilities = c,
            SyncEvent::SignedIn(me) => self.me = Some(me),
            SyncEvent::Meta(meta) => {
                self.meta = Some(meta);
                self.refresh_view();
            }
            SyncEvent::SnapshotBegin { total } => {
                self.tickets.begin_snapshot();
                self.loading = Some(Loading { done: 0, total });
            }
            SyncEvent::SnapshotBatch(batch) => {
                if let Some(loading) = &mut self.loading {
                    loading.done += batch.tickets.len() as u64;
                }
                self.tickets.put_batch(batch.tickets, self.meta.as_ref());
                // The list is usable from the first batch on.
                self.loaded = true;
                self.refresh_view();
            }
            SyncEvent::SnapshotEnd => {
                self.tickets.end_snapshot(self.meta.as_ref());
                self.loading = None;
                self.loaded = true;
                self.refresh_view();
            }
            SyncEvent::SnapshotFailed => {
                self.tickets.abandon_snapshot();
                self.loading = None;
            }
            SyncEvent::Detail(ticket) => self.tickets.set_detail(ticket),
            SyncEvent::Extra(answer) => self.detail.extras.answered(answer),
            SyncEvent::StatusAdded(result) => self.status_added(result),
            SyncEvent::Stats(query, answer) => self.stats_answered(query, answer),
            SyncEvent::Found { tickets, total, .. } => self.found(tickets, total),
            SyncEvent::Snapshot(tickets) => {
                self.tickets.replace_all(tickets, self.meta.as_ref());
                self.loaded = true;
                self.refresh_view();
            }
            SyncEvent::TicketChanged(t) => {
                let before = self.tickets.server(t.id);
                self.notify_assignment(before.as_ref(), &t, effects);
                if self.tickets.apply_server(t, self.meta.as_ref()) {
                    self.refresh_view();
                }
            }
            SyncEvent::TicketDeleted(id) => {
                self.tickets.remove(id);
                self.list.unmark(id);
                self.detail.notes.remove(&id);
                self.refresh_view();
            }
            SyncEvent::Notes(ticket, notes) => {
                self.detail.notes.insert(ticket, notes);
            }
            SyncEvent::NoteAdded(note) => self.detail.note_added(note),
            SyncEvent::Messages(conversation, messages) => {
                self.chat.messages.insert(conversation, messages);
            }
            SyncEvent::MessageAdded(message) => {
                self.notify_message(&message, effects);
                let conversations = self.capabilities.conversations;
                self.chat.message_added(message, conversations)
            }
            SyncEvent::Outbox(entries) => self.restore_outbox(entries),
            SyncEvent::Stored(op) => self.tickets.mark_stored(op),
            SyncEvent::WriteDone(op) => self.write_done(op),
            SyncEvent::WriteRetrying { error, .. } => {
                self.say(Level::Error, format!("{error} — kept, will retry"));
            }
            SyncEvent::Merged(op) => self.write_merged(op),
            SyncEvent::Conflict {
                op,
                write,
                base,
                theirs,
            } => self.write_in_conflict(op, write, base, theirs),
            SyncEvent::WriteFailed {
                op,
                write,
                error,
                fields,
            } => self.write_failed(op, write, error, fields),
            SyncEvent::Notice(text) => self.say(Level::Info, text),
            SyncEvent::Error(e) => self.say(Level::Error, e),
            SyncEvent::Stopped => {}
        }
    }

    /// Sets the status-bar message.
    pub(super) fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status.message = Some((level, text.into()));
    }

    /// Sets the status-bar message, for a confirmation.
    pub(super) fn say_info(&mut self, text: impl Into<String>) {
        self.say(Level::Info, text);
    }

    /// Sets the status-bar message, for a failure.
    pub(super) fn say_error(&mut self, text: impl Into<String>) {
        self.say(Level::Error, text);
    }
}
