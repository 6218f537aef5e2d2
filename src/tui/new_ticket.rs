//! The new-ticket form: title, contact, priority, status, category, description.
//! Opened from a ticket, the contact is that ticket's (a ticket opened from a
//! customer's chat); otherwise the operator searches for one.

use crossterm::event::KeyEvent;
use deskterm_api::{ContactRef, NewTicket, Priority};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::keymap::Context;
use super::popup::centered;
use super::theme;
use crate::sync::Write;

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    /// Title.
    Title,
    /// Contact search.
    Contact,
    /// Priority (cycles).
    Priority,
    /// Status (cycles).
    Status,
    /// Category.
    Category,
    /// Description (several lines).
    Description,
}

const FIELDS: [FormField; 6] = [
    FormField::Title,
    FormField::Contact,
    FormField::Priority,
    FormField::Status,
    FormField::Category,
    FormField::Description,
];

/// How many contact matches are listed.
const MATCHES: usize = 5;

/// The form's state.
#[derive(Debug, Clone)]
pub struct TicketForm {
    /// Field with the keyboard.
    pub field: FormField,
    /// Title.
    pub title: TextArea<'static>,
    /// What was typed to find the contact.
    pub contact_query: TextArea<'static>,
    /// The contacts to choose from, read once when the form opens.
    contacts: Vec<ContactRef>,
    /// Contacts matching the query.
    pub matches: Vec<ContactRef>,
    /// Highlighted match.
    pub match_cursor: usize,
    /// Priority.
    pub priority: Priority,
    /// Status key.
    pub status: String,
    /// Category.
    pub category: TextArea<'static>,
    /// Description.
    pub description: TextArea<'static>,
}

impl TicketForm {
    fn new(contact: Option<&ContactRef>, contacts: Vec<ContactRef>) -> TicketForm {
        let mut form = TicketForm {
            field: FormField::Title,
            title: TextArea::default(),
            contact_query: TextArea::new(vec![contact.map(|c| c.name.clone()).unwrap_or_default()]),
            contacts,
            matches: Vec::new(),
            match_cursor: 0,
            priority: Priority::Normal,
            status: "new".into(),
            category: TextArea::default(),
            description: TextArea::default(),
        };
        form.contact_query
            .move_cursor(ratatui_textarea::CursorMove::End);
        form.refresh_matches();
        if let Some(c) = contact
            && let Some(i) = form.matches.iter().position(|m| m.id == c.id)
        {
            form.match_cursor = i;
        }
        form
    }

    fn refresh_matches(&mut self) {
        let query = self.contact_query.lines().join(" ").to_lowercase();
        let words: Vec<&str> = query.split_whitespace().collect();
        self.matches = self
            .contacts
            .iter()
            .filter(|c| {
                let hay = format!(
                    "{} {} {}",
                    c.name,
                    c.phone.as_deref().unwrap_or(""),
                    c.email.as_deref().unwrap_or("")
                )
                .to_lowercase();
                words.iter().all(|w| hay.contains(w))
            })
            .take(MATCHES)
            .cloned()
            .collect();
        self.match_cursor = self.match_cursor.min(self.matches.len().saturating_sub(1));
    }

    /// The chosen contact.
    pub fn contact(&self) -> Option<&ContactRef> {
        self.matches.get(self.match_cursor)
    }

    /// A key that is text for the field with the keyboard.
    pub fn type_key(&mut self, key: KeyEvent) {
        match self.field {
            FormField::Title => {
                self.title.input(key);
            }
            FormField::Contact => {
                self.contact_query.input(key);
                self.match_cursor = 0;
                self.refresh_matches();
            }
            FormField::Category => {
                self.category.input(key);
            }
            FormField::Description => {
                self.description.input(key);
            }
            FormField::Priority | FormField::Status => {}
        }
    }

    fn move_field(&mut self, forward: bool) {
        let i = FIELDS.iter().position(|f| *f == self.field).unwrap_or(0);
        let n = FIELDS.len();
        self.field = FIELDS[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    /// The ticket to create, or what is missing.
    fn build(&self) -> Result<NewTicket, String> {
        let title = self.title.lines().join(" ").trim().to_owned();
        if title.is_empty() {
            return Err("a ticket needs a title".into());
        }
        if title.chars().count() > deskterm_api::TITLE_MAX_CHARS {
            return Err(format!(
                "a title has at most {} characters",
                deskterm_api::TITLE_MAX_CHARS
            ));
        }
        let contact = self
            .contact()
            .ok_or("choose the contact the ticket is about")?;
        let category = self.category.lines().join(" ").trim().to_owned();
        Ok(NewTicket {
            title,
            description: self.description.lines().join("\n").trim().to_owned(),
            status: Some(self.status.clone()),
            priority: Some(self.priority),
            category: (!category.is_empty()).then_some(category),
            tags: Vec::new(),
            important: false,
            contact_id: contact.id,
            operator_id: None,
            channel: None,
            reference: None,
            sla_due_at: None,
        })
    }
}

impl App {
    /// Opens the form, with the selected ticket's contact chosen.
    pub(super) fn open_ticket_form(&mut self) {
        if self.meta.is_none() {
            self.say_error("still loading statuses and operators");
            return;
        }
        let contacts = self.tickets.contacts();
        let contact = self.selected_ticket().map(|t| t.contact.clone());
        self.modal = Some(Modal::NewTicket(Box::new(TicketForm::new(
            contact.as_ref(),
            contacts,
        ))));
    }

    /// Keys in the form.
    pub(super) fn form_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let statuses: Vec<String> = self
            .meta
            .as_ref()
            .map(|m| m.statuses.iter().map(|s| s.key.clone()).collect())
            .unwrap_or_default();
        let me = self.me.as_ref().map(|m| m.id);
        let Some(Modal::NewTicket(form)) = &mut self.modal else {
            return;
        };
        match action {
            Action::FocusNext => form.move_field(true),
            Action::FocusPrev => form.move_field(false),
            Action::Down | Action::Up => {
                let down = action == Action::Down;
                match form.field {
                    FormField::Contact => {
                        let last = form.matches.len().saturating_sub(1);
                        form.match_cursor = if down {
                            (form.match_cursor + 1).min(last)
                        } else {
                            form.match_cursor.saturating_sub(1)
                        };
                    }
                    FormField::Priority => {
                        let i = form.priority.rank() as usize;
                        let i = if down {
                            i.saturating_sub(1)
                        } else {
                            (i + 1).min(3)
                        };
                        form.priority = Priority::ALL[i];
                    }
                    FormField::Status if !statuses.is_empty() => {
                        let i = statuses.iter().position(|s| *s == form.status).unwrap_or(0);
                        let n = statuses.len();
                        let i = if down { (i + 1) % n } else { (i + n - 1) % n };
                        form.status = statuses[i].clone();
                    }
                    _ => form.move_field(down),
                }
            }
            Action::Newline if form.field == FormField::Description => {
                form.description.insert_newline()
            }
            Action::Cancel => self.modal = None,
            Action::Confirm => match form.build() {
                Err(problem) => self.say_error(problem),
                Ok(mut ticket) => {
                    // A ticket an operator opens is theirs until they hand it over.
                    ticket.operator_id = me;
                    self.modal = None;
                    self.write(Write::Create { ticket }, effects);
                    self.say_info("ticket created");
                }
            },
            _ => {}
        }
    }
}

/// Draws the form when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::NewTicket(form)) = &app.modal else {
        return;
    };
    let area = centered(frame.area(), 90, 24);
    frame.render_widget(Clear, area);
    let key = |a| {
        app.keymap
            .key_for(Context::Form, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" New ticket ")
        .title_bottom(Line::from(Span::styled(
            format!(
                " {} next field · ↑↓ choose · {} create · {} cancel ",
                key(Action::FocusNext),
                key(Action::Confirm),
                key(Action::Cancel)
            ),
            theme::dim(),
        )));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [
        title,
        contact,
        matches,
        priority,
        status,
        category,
        description,
    ] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(MATCHES as u16),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(3),
    ])
    .areas(inner);
    text_field(
        frame,
        title,
        &form.title,
        "Title",
        form.field == FormField::Title,
    );
    text_field(
        frame,
        contact,
        &form.contact_query,
        "Contact (type to search)",
        form.field == FormField::Contact,
    );
    let lines: Vec<Line<'_>> = form
        .matches
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let extra = c.phone.as_deref().or(c.email.as_deref()).unwrap_or("");
            let text = format!("  {} {extra}", c.name);
            if i == form.match_cursor {
                Line::styled(text, theme::selected_row())
            } else {
                Line::styled(text, theme::dim())
            }
        })
        .collect();
    let lines = if lines.is_empty() {
        vec![Line::styled("  no contact matches", theme::error())]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines), matches);
    choice_line(
        frame,
        priority,
        "Priority",
        form.priority.as_str(),
        form.field == FormField::Priority,
    );
    choice_line(
        frame,
        status,
        "Status",
        app.status_label(&form.status),
        form.field == FormField::Status,
    );
    text_field(
        frame,
        category,
        &form.category,
        "Category",
        form.field == FormField::Category,
    );
    text_field(
        frame,
        description,
        &form.description,
        "Description",
        form.field == FormField::Description,
    );
}

fn text_field(
    frame: &mut Frame<'_>,
    area: Rect,
    text: &TextArea<'static>,
    label: &str,
    focused: bool,
) {
    let mut text = text.clone();
    text.set_block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme::border_for(focused))
            .title(format!(" {label} ")),
    );
    if !focused {
        text.set_cursor_style(ratatui::style::Style::new());
    }
    frame.render_widget(&text, area);
}

fn choice_line(frame: &mut Frame<'_>, area: Rect, label: &str, value: &str, focused: bool) {
    let style = if focused {
        theme::selected_row()
    } else {
        theme::label()
    };
    let line = Line::from(vec![
        Span::styled(format!(" {label:<10}"), theme::label()),
        Span::styled(format!("‹ {value} ›"), style),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}
