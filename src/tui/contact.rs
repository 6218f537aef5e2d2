//! Finding a customer by typing: the contact field of the new-ticket form,
//! and the chooser that gives a ticket another customer. What matches no
//! customer's name can be a new customer: `name, phone, e-mail` (phone and
//! e-mail optional, in either order), made with the write that uses it.

use crossterm::event::{KeyCode, KeyEvent};
use deskterm_api::{ContactRef, NewContact, TicketId, TicketPatch};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::popup::centered;
use super::theme;

/// Contacts matching what was typed: every typed word is found in the
/// name, phone or e-mail, in any case.
#[derive(Debug, Clone)]
pub struct ContactSearch {
    /// What was typed.
    pub query: TextArea<'static>,
    /// The contacts to choose from.
    contacts: Vec<ContactRef>,
    /// Contacts matching the query, at most `shown`.
    pub matches: Vec<ContactRef>,
    /// Highlighted match (the new customer's row comes after the matches).
    pub cursor: usize,
    shown: usize,
    /// Whether what was typed is offered as a new customer.
    new_row: bool,
    /// Whether the operator moved onto that row (never by typing alone:
    /// a search that finds nobody is not a new customer until chosen).
    on_new: bool,
}

/// A new customer from what was typed: `name, phone, e-mail`, the phone
/// and the e-mail optional and in either order; an error says what is wrong.
pub fn typed_contact(text: &str) -> Result<NewContact, String> {
    let mut parts = text.split(',').map(str::trim);
    let name = parts.next().unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err("type the new customer's name first".to_owned());
    }
    let (mut phone, mut email) = (None, None);
    for part in parts.filter(|p| !p.is_empty()) {
        if part.contains('@') {
            let shaped = part.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !domain.contains(' ')
            });
            if !shaped || email.is_some() {
                return Err(format!("“{part}” is not one e-mail address"));
            }
            email = Some(part.to_owned());
        } else if part.chars().any(|c| c.is_ascii_digit())
            && part
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            && phone.is_none()
        {
            phone = Some(part.to_owned());
        } else {
            return Err(format!(
                "“{part}” is neither a phone number nor an e-mail address"
            ));
        }
    }
    Ok(NewContact {
        name,
        phone,
        email,
        channel: None,
    })
}

impl ContactSearch {
    /// A search over `contacts` listing `shown` matches, starting on `current`.
    pub fn new(current: Option<&ContactRef>, contacts: Vec<ContactRef>, shown: usize) -> Self {
        let mut query = TextArea::new(vec![current.map(|c| c.name.clone()).unwrap_or_default()]);
        query.move_cursor(ratatui_textarea::CursorMove::End);
        let mut search = ContactSearch {
            query,
            contacts,
            matches: Vec::new(),
            cursor: 0,
            shown,
            new_row: false,
            on_new: false,
        };
        search.refresh();
        if let Some(c) = current
            && let Some(i) = search.matches.iter().position(|m| m.id == c.id)
        {
            search.cursor = i;
        }
        search
    }

    /// A search holding `typed` (a new customer the server refused, to fix).
    pub fn typed(typed: &str, contacts: Vec<ContactRef>, shown: usize) -> Self {
        let mut search = ContactSearch::new(None, contacts, shown);
        search.query = TextArea::new(vec![typed.to_owned()]);
        search.query.move_cursor(ratatui_textarea::CursorMove::End);
        search.refresh();
        search.cursor = search.matches.len();
        search.on_new = search.new_row;
        search
    }

    fn refresh(&mut self) {
        let typed = self.query.lines().join(" ");
        let name = typed
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        // Commas separate a new customer's phone and e-mail: the name finds.
        let query = crate::store::row::fold(&name);
        let words: Vec<&str> = query.split_whitespace().collect();
        self.matches = self
            .contacts
            .iter()
            .filter(|c| {
                let hay = crate::store::row::fold(&format!(
                    "{} {} {}",
                    c.name,
                    c.phone.as_deref().unwrap_or(""),
                    c.email.as_deref().unwrap_or("")
                ));
                words.iter().all(|w| hay.contains(w))
            })
            .take(self.shown)
            .cloned()
            .collect();
        self.new_row = !name.is_empty()
            && !self
                .contacts
                .iter()
                .any(|c| c.name.trim().eq_ignore_ascii_case(&name));
        self.cursor = self.cursor.min(self.rows().saturating_sub(1));
        self.on_new = self.on_new && self.new_row && self.cursor == self.matches.len();
    }

    /// Rows to choose from: the matches, and the new customer's.
    fn rows(&self) -> usize {
        self.matches.len() + usize::from(self.new_row)
    }

    /// The highlighted contact.
    pub fn chosen(&self) -> Option<&ContactRef> {
        self.matches.get(self.cursor)
    }

    /// The new customer, when their row is highlighted (or why what was
    /// typed is not one).
    pub fn new_contact(&self) -> Option<Result<NewContact, String>> {
        (self.on_new && self.new_row && self.cursor == self.matches.len())
            .then(|| typed_contact(&self.query.lines().join(" ")))
    }

    /// Moves the highlight.
    pub fn step(&mut self, down: bool) {
        let last = self.rows().saturating_sub(1);
        self.cursor = if down && self.matches.is_empty() {
            0
        } else if down {
            (self.cursor + 1).min(last)
        } else {
            self.cursor.saturating_sub(1)
        };
        self.on_new = self.new_row && self.cursor == self.matches.len() && (down || self.on_new);
    }

    /// A key typed into the search (arrows move the highlight).
    pub fn type_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Down => self.step(true),
            KeyCode::Up => self.step(false),
            _ => {
                self.query.input(key);
                self.cursor = 0;
                self.on_new = false;
                self.refresh();
            }
        }
    }

    /// Inserts pasted text (one line).
    pub fn paste(&mut self, text: &str) {
        self.query.insert_str(text.replace('\n', " "));
        self.cursor = 0;
        self.on_new = false;
        self.refresh();
    }

    /// The matches as lines, the highlighted one marked.
    pub fn lines(&self) -> Vec<Line<'static>> {
        if self.rows() == 0 {
            return vec![Line::styled("  no customer matches", theme::error())];
        }
        let mut lines: Vec<Line<'static>> = self
            .matches
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let extra = c.phone.as_deref().or(c.email.as_deref()).unwrap_or("");
                let text = format!("  {} {extra}", c.name);
                if i == self.cursor {
                    Line::styled(text, theme::selected_row())
                } else {
                    Line::styled(text, theme::dim())
                }
            })
            .collect();
        if self.new_row {
            let highlighted = self.on_new && self.cursor == self.matches.len();
            let line = match typed_contact(&self.query.lines().join(" ")) {
                Ok(c) => {
                    let mut text = format!("  + new: {}", c.name);
                    for extra in [c.phone, c.email].into_iter().flatten() {
                        text.push_str(&format!(" · {extra}"));
                    }
                    text.push_str(if highlighted {
                        "  ← enter"
                    } else {
                        "  (↓; name, phone, e-mail)"
                    });
                    Line::styled(
                        text,
                        if highlighted {
                            theme::selected_row()
                        } else {
                            theme::dim()
                        },
                    )
                }
                Err(e) => Line::styled(format!("  + new: {e}"), theme::error()),
            };
            lines.push(line);
        }
        lines
    }
}

/// Rows of matches the chooser lists.
const CHOOSER_ROWS: usize = 8;

/// The chooser of another customer for a ticket.
#[derive(Debug, Clone)]
pub struct ContactChooser {
    /// The ticket it was opened for.
    pub ticket: TicketId,
    /// The search.
    pub search: ContactSearch,
}

impl App {
    /// Opens the chooser on the selected ticket's customer.
    pub(super) fn open_contact_picker(&mut self) {
        let Some(t) = self.selected_ticket() else {
            self.say_error("no ticket selected");
            return;
        };
        let contacts = self.tickets.contacts();
        self.modal = Some(Modal::Contact(ContactChooser {
            ticket: t.id,
            search: ContactSearch::new(Some(&t.contact), contacts, CHOOSER_ROWS),
        }));
    }

    /// Keys in the chooser: `enter` gives the ticket the highlighted customer.
    pub(super) fn contact_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Contact(chooser)) = &mut self.modal else {
            return;
        };
        match action {
            Action::Cancel => self.modal = None,
            Action::Down | Action::Up => chooser.search.step(action == Action::Down),
            Action::Confirm => {
                if let Some(new) = chooser.search.new_contact() {
                    let ticket = chooser.ticket;
                    match new {
                        Ok(contact) => {
                            self.modal = None;
                            let Some(current) = self.tickets.shown(ticket) else {
                                self.say_error("that ticket is gone");
                                return;
                            };
                            let name = contact.name.clone();
                            let patch = TicketPatch {
                                new_contact: Some(contact),
                                ..Default::default()
                            };
                            self.write_patch(ticket, patch, effects);
                            self.say_info(format!(
                                "{} is now for a new customer, {name}",
                                current.reference
                            ));
                        }
                        Err(e) => self.say_error(e),
                    }
                    return;
                }
                let Some(contact) = chooser.search.chosen().cloned() else {
                    self.say_error(
                        "no customer chosen: ↓ then enter makes the one typed a new customer",
                    );
                    return;
                };
                let ticket = chooser.ticket;
                self.modal = None;
                let Some(current) = self.tickets.shown(ticket) else {
                    self.say_error("that ticket is gone");
                    return;
                };
                if current.contact.id != contact.id {
                    let patch = TicketPatch {
                        contact_id: Some(contact.id),
                        ..Default::default()
                    };
                    self.write_patch(ticket, patch, effects);
                    self.say_info(format!("{} is now {}'s", current.reference, contact.name));
                }
            }
            _ => {}
        }
    }
}

/// Draws the chooser when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Contact(chooser)) = &app.modal else {
        return;
    };
    let height = CHOOSER_ROWS as u16 + 5;
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(8).min(70),
        height,
    );
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Customer of the ticket (type to search · ↑↓ · enter) ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [field, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(inner);
    let mut query = chooser.search.query.clone();
    query.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme::focused_border()),
    );
    frame.render_widget(&query, field);
    frame.render_widget(Paragraph::new(chooser.search.lines()), list);
}

/// The rows a search field and its matches take in a form.
pub fn rows(search: &ContactSearch) -> u16 {
    search.shown as u16
}

/// Draws a search's matches into `area`.
pub fn draw_matches(search: &ContactSearch, frame: &mut Frame<'_>, area: Rect) {
    frame.render_widget(Paragraph::new(search.lines()), area);
}
