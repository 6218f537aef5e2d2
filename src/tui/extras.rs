//! The detail pane's other tabs: the ticket's change history and the
//! customer's previous tickets, read from the backend while they are on
//! screen and read again when the ticket changes.

use deskterm_api::{ActorKind, ContactId, HistoryEntry, HistoryKind, Ticket, TicketId};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value;

use super::action::Action;
use super::app::{App, Effect, Pane};
use super::render::when;
use super::theme;
use super::wrap::push_wrapped;
use crate::backend::Feature;
use crate::sync::{CONTACT_TICKETS, Command, Extra, ExtraAnswer};

/// What the detail pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Tab {
    /// The ticket's fields and internal notes.
    #[default]
    Fields,
    /// Who changed what, newest first.
    History,
    /// The customer's other tickets, newest first; one opens with `enter`.
    Previous,
}

/// Something read from the backend, as far as it has come.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded<T> {
    /// Asked, not answered yet.
    Loading,
    /// The answer.
    Ready(T),
    /// Why there is no answer, for the operator.
    Failed(String),
}

/// The state of the history and previous-tickets tabs.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The history last read, by ticket (oldest first).
    pub history: Option<(TicketId, Loaded<Vec<HistoryEntry>>)>,
    /// The customer's tickets last read, by contact (newest first).
    pub contact_tickets: Option<(ContactId, Loaded<Vec<Ticket>>)>,
    /// The row chosen among the previous tickets.
    pub chosen: usize,
    /// What was last asked for, and the state of the ticket then: asked
    /// again when the ticket, its notes or its chat change.
    asked: Option<(Extra, Stamp)>,
}

/// What makes a history out of date: the ticket's version, and how many
/// notes and chat messages the console holds for it.
pub type Stamp = (i64, usize, usize);

impl Extras {
    /// The read the tab needs for `ticket` in the state `stamp`, unless it
    /// was asked for already.
    pub fn wanted(&mut self, tab: Tab, ticket: &Ticket, stamp: Stamp) -> Option<Extra> {
        let extra = match tab {
            Tab::Fields => return None,
            Tab::History => Extra::History(ticket.id),
            // A customer's list changes rarely: read once per customer shown.
            Tab::Previous => Extra::ContactTickets(ticket.contact.id),
        };
        let stamp = if tab == Tab::History {
            stamp
        } else {
            (0, 0, 0)
        };
        if self.asked == Some((extra, stamp)) {
            return None;
        }
        self.asked = Some((extra, stamp));
        match extra {
            Extra::History(id) => {
                // Keep what is shown while the newer history loads.
                if self.history.as_ref().is_none_or(|(t, _)| *t != id) {
                    self.history = Some((id, Loaded::Loading));
                }
            }
            Extra::ContactTickets(contact) => {
                if self
                    .contact_tickets
                    .as_ref()
                    .is_none_or(|(c, _)| *c != contact)
                {
                    self.contact_tickets = Some((contact, Loaded::Loading));
                    self.chosen = 0;
                }
            }
        }
        Some(extra)
    }

    /// Forgets what was asked, so the tab reads again when shown.
    pub fn forget(&mut self) {
        self.asked = None;
    }

    /// The backend answered.
    pub fn answered(&mut self, answer: ExtraAnswer) {
        match answer {
            ExtraAnswer::History(id, result) => {
                if self.history.as_ref().is_some_and(|(t, _)| *t == id) {
                    self.history = Some((id, loaded(result)));
                }
            }
            ExtraAnswer::ContactTickets(contact, result) => {
                if self
                    .contact_tickets
                    .as_ref()
                    .is_some_and(|(c, _)| *c == contact)
                {
                    self.contact_tickets = Some((contact, loaded(result)));
                }
            }
        }
    }

    /// The customer's tickets other than `current`, newest first, at most
    /// 25 (`None` while they load or when they could not be read).
    pub fn previous(&self, contact: ContactId, current: TicketId) -> Option<Vec<&Ticket>> {
        match &self.contact_tickets {
            Some((c, Loaded::Ready(tickets))) if *c == contact => Some(
                tickets
                    .iter()
                    .filter(|t| t.id != current)
                    .take(CONTACT_TICKETS as usize - 1)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Moves the chosen previous ticket by `delta` rows within `count`.
    pub fn choose(&mut self, delta: isize, count: usize) {
        let last = count.saturating_sub(1);
        self.chosen = self.chosen.saturating_add_signed(delta).min(last);
    }
}

impl App {
    /// Asks the engine for what the detail pane's tab shows, when it is
    /// not what was asked for last.
    pub(super) fn request_extra(&mut self, effects: &mut Vec<Effect>) {
        if self.detail.tab == Tab::Fields || !self.offers_tab(self.detail.tab) {
            return;
        }
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let conversation = self.capabilities.conversations.key(t.id, t.contact.id);
        let stamp = (
            t.version,
            self.detail.notes.get(&t.id).map_or(0, Vec::len),
            self.chat.messages.get(&conversation).map_or(0, Vec::len),
        );
        if let Some(extra) = self.detail.extras.wanted(self.detail.tab, &t, stamp) {
            effects.push(Effect::Sync(Command::Read(extra)));
        }
    }

    /// Whether the backend can fill `tab`.
    fn offers_tab(&self, tab: Tab) -> bool {
        tab != Tab::History || self.offers(Feature::History)
    }

    /// Moves the choice among the previous tickets.
    pub(super) fn choose_previous(&mut self, action: Action) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let count = self
            .detail
            .extras
            .previous(t.contact.id, t.id)
            .map_or(0, |p| p.len());
        let page = isize::try_from(self.size.1 / 2).unwrap_or(10).max(1);
        let delta = match action {
            Action::Down => 1,
            Action::Up => -1,
            Action::PageDown => page,
            Action::PageUp => -page,
            Action::Top => isize::MIN / 2,
            Action::Bottom => isize::MAX / 2,
            _ => 0,
        };
        self.detail.extras.choose(delta, count);
    }

    /// Opens the chosen previous ticket: selected in the list when the list
    /// holds it, else found by its reference (on the server too when older
    /// tickets stay there).
    pub(super) fn open_previous(&mut self) {
        let Some(t) = self.selected_ticket() else {
            return;
        };
        let chosen = self.detail.extras.chosen;
        let Some((id, reference)) = self
            .detail
            .extras
            .previous(t.contact.id, t.id)
            .and_then(|p| p.get(chosen).map(|p| (p.id, p.reference.clone())))
        else {
            return;
        };
        self.detail.show(Tab::Fields);
        let height = self.list_height();
        if !self.list.select(&self.tickets, id, height) {
            self.list.prefer(id);
            self.search_typed(&format!("ref:{reference}"));
            self.say_info(format!(
                "{reference} is not in this view: searching for it (x clears)"
            ));
        }
    }
}

fn loaded<T>(result: Result<T, String>) -> Loaded<T> {
    match result {
        Ok(value) => Loaded::Ready(value),
        Err(e) => Loaded::Failed(e),
    }
}

/// The title of the detail pane for a tab other than the fields.
pub fn title(tab: Tab) -> &'static str {
    match tab {
        Tab::Fields => "",
        Tab::History => "history",
        Tab::Previous => "previous tickets",
    }
}

/// Draws the history of `ticket`, newest first, scrolled by the detail's scroll.
pub fn draw_history(app: &App, ticket: &Ticket, frame: &mut Frame<'_>, area: Rect) {
    let width = usize::from(area.width.max(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    match &app.detail.extras.history {
        _ if !app.offers(Feature::History) => {
            lines.push(Line::styled("this helpdesk keeps no history", theme::dim()));
        }
        Some((id, Loaded::Ready(entries))) if *id == ticket.id => {
            if entries.is_empty() {
                lines.push(Line::styled("no change recorded", theme::dim()));
            }
            for entry in entries.iter().rev() {
                lines.push(Line::from(vec![
                    Span::styled(when(app, entry.at), theme::dim()),
                    Span::raw("  "),
                    Span::styled(actor(entry), theme::outbound()),
                ]));
                push_wrapped(&mut lines, &change(app, entry), width, Style::new());
            }
        }
        Some((id, Loaded::Failed(e))) if *id == ticket.id => {
            lines.push(Line::styled(e.clone(), theme::error()));
        }
        _ => lines.push(Line::styled("loading…", theme::dim())),
    }
    frame.render_widget(Paragraph::new(lines).scroll((app.detail.scroll, 0)), area);
}

/// Draws the customer's previous tickets, the chosen one highlighted.
pub fn draw_previous(app: &App, ticket: &Ticket, frame: &mut Frame<'_>, area: Rect) {
    let mut lines: Vec<Line<'static>> = Vec::new();
    match app.detail.extras.previous(ticket.contact.id, ticket.id) {
        Some(previous) if previous.is_empty() => {
            lines.push(Line::styled(
                format!("{} has no other ticket", ticket.contact.name),
                theme::dim(),
            ));
        }
        Some(previous) => {
            let chosen = app.detail.extras.chosen.min(previous.len() - 1);
            let focused = app.focus == Pane::Detail && app.modal.is_none();
            for (i, fetched) in previous.into_iter().enumerate() {
                // The console's own copy is newer than the answer when it changed since.
                let t = app.tickets.shown(fetched.id);
                let t = t.as_ref().unwrap_or(fetched);
                let macro_status = app
                    .meta
                    .as_ref()
                    .and_then(|m| m.statuses.iter().find(|s| s.key == t.status))
                    .map(|s| s.macro_status);
                let mut spans = vec![Span::styled(
                    format!("{:<10} ", t.reference),
                    theme::label(),
                )];
                if area.width >= 60 {
                    spans.push(Span::styled(
                        t.created_at
                            .with_timezone(&app.tz)
                            .format("%Y-%m-%d ")
                            .to_string(),
                        theme::dim(),
                    ));
                }
                spans.extend([
                    Span::styled(
                        format!("{:<12} ", app.status_label(&t.status)),
                        theme::status(macro_status),
                    ),
                    Span::raw(t.title.clone()),
                ]);
                let mut line = Line::from(spans);
                if i == chosen && focused {
                    line = line.style(Style::new().add_modifier(Modifier::REVERSED));
                } else if i == chosen {
                    line = line.style(Style::new().add_modifier(Modifier::BOLD));
                }
                lines.push(line);
            }
        }
        None => match &app.detail.extras.contact_tickets {
            Some((c, Loaded::Failed(e))) if *c == ticket.contact.id => {
                lines.push(Line::styled(e.clone(), theme::error()));
            }
            _ => lines.push(Line::styled("loading…", theme::dim())),
        },
    }
    let height = usize::from(area.height.max(1));
    let start = app.detail.extras.chosen.saturating_sub(height - 1);
    let shown: Vec<Line<'static>> = lines.into_iter().skip(start).collect();
    frame.render_widget(Paragraph::new(shown), area);
}

/// Who made a change, for one history line.
fn actor(entry: &HistoryEntry) -> String {
    let name = &entry.actor.name;
    match entry.actor.kind {
        ActorKind::Operator => name.clone(),
        ActorKind::Channel => format!("{name} (channel)"),
        ActorKind::Automation => format!("automation {name}"),
        ActorKind::System => "system".to_owned(),
    }
}

/// What changed, for one history line.
fn change(app: &App, entry: &HistoryEntry) -> String {
    match entry.kind {
        HistoryKind::Created => {
            let new = entry.new.as_ref();
            let field = |k: &str| new.and_then(|v| v.get(k)).map(|v| value(app, k, v));
            format!(
                "created {} “{}” ({}, {})",
                field("reference").unwrap_or_default(),
                field("title").unwrap_or_default(),
                field("status").unwrap_or_default(),
                field("priority").unwrap_or_default(),
            )
        }
        HistoryKind::FieldChanged => {
            let name = entry.field.as_deref().unwrap_or("?");
            let show = |v: &Option<Value>| {
                v.as_ref()
                    .map_or_else(|| "—".to_owned(), |v| value(app, name, v))
            };
            format!("{name}: {} → {}", show(&entry.old), show(&entry.new))
        }
        HistoryKind::NoteAdded => format!("note: {}", body(entry.new.as_ref())),
        HistoryKind::MessageAdded => {
            let inbound = entry
                .new
                .as_ref()
                .and_then(|v| v.get("direction"))
                .and_then(Value::as_str)
                == Some("inbound");
            let who = if inbound {
                "the customer wrote"
            } else {
                "reply"
            };
            format!("{who}: {}", body(entry.new.as_ref()))
        }
        HistoryKind::Deleted => "deleted the ticket".to_owned(),
        HistoryKind::Escalated => {
            let new = entry.new.as_ref();
            let to = new
                .and_then(|v| v.get("to"))
                .map(|v| value(app, "to", v))
                .unwrap_or_default();
            match new.and_then(|v| v.get("note")).and_then(Value::as_str) {
                Some(note) => format!("escalated by e-mail to {to}: {note}"),
                None => format!("escalated by e-mail to {to}"),
            }
        }
    }
}

/// The body of a note or message entry.
fn body(new: Option<&Value>) -> String {
    new.and_then(|v| v.get("body"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A recorded value as the console shows it: statuses by label, operators
/// and categories by name, lists joined, nothing as a dash.
fn value(app: &App, field: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) if field == "status" => app.status_label(s).to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| value(app, field, i))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => map
            .get("name")
            .or_else(|| map.get("title"))
            .map_or_else(|| v.to_string(), |n| value(app, field, n)),
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::backend::Capabilities;
    use crate::sync::SyncEvent;
    use crate::tui::app::Msg;
    use crate::tui::fixture::{self, loaded_app};

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn reads(effects: &[Effect]) -> Vec<Extra> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Sync(Command::Read(extra)) => Some(*extra),
                _ => None,
            })
            .collect()
    }

    fn selected(app: &App) -> TicketId {
        app.selected_ticket().map_or(-1, |t| t.id)
    }

    #[test]
    fn the_history_key_reads_the_history_once_and_again_after_a_change() {
        let mut app = loaded_app(120, 40);
        let effects = press(&mut app, KeyCode::Char('H'));
        assert_eq!(app.detail.tab, Tab::History);
        assert_eq!(reads(&effects), vec![Extra::History(1)]);
        app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::History(
            1,
            Ok(fixture::history()),
        ))));
        assert!(matches!(
            &app.detail.extras.history,
            Some((1, Loaded::Ready(h))) if h.len() == 6
        ));
        // Nothing changed: nothing read.
        let effects = press(&mut app, KeyCode::Char('?'));
        assert!(reads(&effects).is_empty());
        press(&mut app, KeyCode::Esc);
        // The ticket changes (here or elsewhere): its history is read again,
        // and the one shown stays until the new one comes.
        let mut changed = fixture::tickets()[0].clone();
        changed.status = "pending".into();
        changed.version += 1;
        let effects = app.update(Msg::Sync(SyncEvent::TicketChanged(changed)));
        assert_eq!(reads(&effects), vec![Extra::History(1)]);
        assert!(matches!(
            &app.detail.extras.history,
            Some((1, Loaded::Ready(_)))
        ));
        // So does a note.
        let mut note = fixture::notes()[0].clone();
        note.id = 99;
        let effects = app.update(Msg::Sync(SyncEvent::NoteAdded(note)));
        assert_eq!(reads(&effects), vec![Extra::History(1)]);
        // Again: back to the fields, nothing read.
        let effects = press(&mut app, KeyCode::Char('H'));
        assert_eq!(app.detail.tab, Tab::Fields);
        assert!(reads(&effects).is_empty());
    }

    #[test]
    fn moving_through_the_list_reads_each_tickets_history_and_drops_late_answers() {
        let mut app = loaded_app(120, 40);
        press(&mut app, KeyCode::Char('H'));
        let effects = press(&mut app, KeyCode::Char('j'));
        assert_eq!(reads(&effects), vec![Extra::History(2)]);
        assert!(matches!(
            &app.detail.extras.history,
            Some((2, Loaded::Loading))
        ));
        // The answer for the ticket left behind arrives late: it is not shown.
        app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::History(
            1,
            Ok(fixture::history()),
        ))));
        assert!(matches!(
            &app.detail.extras.history,
            Some((2, Loaded::Loading))
        ));
        app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::History(
            2,
            Err("the history could not be read: timeout".into()),
        ))));
        assert!(matches!(
            &app.detail.extras.history,
            Some((2, Loaded::Failed(e))) if e.contains("timeout")
        ));
    }

    #[test]
    fn without_history_on_the_backend_the_key_does_nothing() {
        let mut app = loaded_app(120, 40);
        app.update(Msg::Sync(SyncEvent::Capabilities(Capabilities {
            history: false,
            ..Capabilities::FULL
        })));
        let effects = press(&mut app, KeyCode::Char('H'));
        assert_eq!(app.detail.tab, Tab::Fields);
        assert!(reads(&effects).is_empty());
    }

    #[test]
    fn previous_tickets_leave_out_the_one_in_view_and_enter_opens_the_chosen_one() {
        let mut app = loaded_app(120, 40);
        let effects = press(&mut app, KeyCode::Char('T'));
        assert_eq!(reads(&effects), vec![Extra::ContactTickets(1)]);
        let all = fixture::tickets();
        app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::ContactTickets(
            1,
            Ok(vec![all[4].clone(), all[0].clone()]),
        ))));
        let previous: Vec<TicketId> = app
            .detail
            .extras
            .previous(1, 1)
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(previous, vec![5]);
        // From the list, enter focuses the detail; there, enter opens the chosen ticket.
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.context(), crate::tui::keymap::Context::Previous);
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(app.detail.extras.chosen, 0, "one ticket: the choice stays");
        press(&mut app, KeyCode::Enter);
        assert_eq!(selected(&app), 5);
        assert_eq!(app.detail.tab, Tab::Fields);
    }

    #[test]
    fn a_previous_ticket_the_view_leaves_out_is_searched_for_by_its_reference() {
        let mut app = loaded_app(120, 40);
        app.search_typed("status:open");
        assert_eq!(app.list.ids(&app.tickets), vec![1]);
        press(&mut app, KeyCode::Char('T'));
        let all = fixture::tickets();
        app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::ContactTickets(
            1,
            Ok(vec![all[4].clone(), all[0].clone()]),
        ))));
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Enter);
        assert_eq!(
            app.list.query.to_string(),
            format!("ref:{}", all[4].reference)
        );
        assert_eq!(selected(&app), 5);
    }
}
