//! The new-ticket form: every field of a ticket. Opened from a ticket (or
//! the customer's chat), the customer is that ticket's; otherwise the
//! operator searches for one. A field the operator or the server refuses
//! says why under itself, and the form keeps what was typed.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;
use deskterm_api::{ContactRef, NewTicket, OperatorId, Priority};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::contact::{self, ContactSearch};
use super::keymap::Context;
use super::popup::centered;
use super::prompt::parse_tags;
use super::theme;
use crate::sync::Write;

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FormField {
    /// Title.
    Title,
    /// Reference (empty: generated).
    Reference,
    /// Contact search.
    Contact,
    /// Priority (cycles).
    Priority,
    /// Status (cycles).
    Status,
    /// Operator (cycles; me by default).
    Operator,
    /// Important (toggles).
    Important,
    /// Category.
    Category,
    /// Tags, separated by commas.
    Tags,
    /// Description (several lines).
    Description,
}

const FIELDS: [FormField; 10] = [
    FormField::Title,
    FormField::Reference,
    FormField::Contact,
    FormField::Priority,
    FormField::Status,
    FormField::Operator,
    FormField::Important,
    FormField::Category,
    FormField::Tags,
    FormField::Description,
];

impl FormField {
    /// The field a server's field name is about.
    fn of_wire(name: &str) -> Option<FormField> {
        Some(match name {
            "title" => FormField::Title,
            "reference" => FormField::Reference,
            "contact_id" | "contact" => FormField::Contact,
            other if other.starts_with("new_contact") => FormField::Contact,
            "priority" => FormField::Priority,
            "status" => FormField::Status,
            "operator_id" | "operator" => FormField::Operator,
            "important" => FormField::Important,
            "category" => FormField::Category,
            "tags" => FormField::Tags,
            "description" => FormField::Description,
            _ => return None,
        })
    }
}

/// How many contact matches are listed.
const MATCHES: usize = 4;

/// The form's state.
#[derive(Debug, Clone)]
pub struct TicketForm {
    /// Field with the keyboard.
    pub field: FormField,
    /// Title.
    pub title: TextArea<'static>,
    /// Reference; empty to have one generated.
    pub reference: TextArea<'static>,
    /// The customer.
    pub contact: ContactSearch,
    /// Priority.
    pub priority: Priority,
    /// Status key.
    pub status: String,
    /// Operator; `None` leaves it unassigned.
    pub operator: Option<OperatorId>,
    /// Important.
    pub important: bool,
    /// Category.
    pub category: TextArea<'static>,
    /// Tags, separated by commas.
    pub tags: TextArea<'static>,
    /// Description.
    pub description: TextArea<'static>,
    /// Why a field was refused, by field.
    pub errors: BTreeMap<FormField, String>,
}

fn line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.replace('\n', " ")]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

impl TicketForm {
    fn new(
        contact: Option<&ContactRef>,
        contacts: Vec<ContactRef>,
        me: Option<OperatorId>,
    ) -> Self {
        TicketForm {
            field: FormField::Title,
            title: TextArea::default(),
            reference: TextArea::default(),
            contact: ContactSearch::new(contact, contacts, MATCHES),
            priority: Priority::Normal,
            status: "new".into(),
            // A ticket an operator opens is theirs until they hand it over.
            operator: me,
            important: false,
            category: TextArea::default(),
            tags: TextArea::default(),
            description: TextArea::default(),
            errors: BTreeMap::new(),
        }
    }

    /// The form again for a ticket the server refused, with why.
    fn refused(
        ticket: &NewTicket,
        contacts: Vec<ContactRef>,
        fields: &[(String, String)],
        error: &str,
    ) -> Self {
        let contact = contacts.iter().find(|c| c.id == ticket.contact_id).cloned();
        let search = match &ticket.new_contact {
            Some(new) => {
                let mut typed = new.name.clone();
                for extra in [&new.phone, &new.email].into_iter().flatten() {
                    typed.push_str(&format!(", {extra}"));
                }
                ContactSearch::typed(&typed, contacts, MATCHES)
            }
            None => ContactSearch::new(contact.as_ref(), contacts, MATCHES),
        };
        let mut form = TicketForm {
            field: FormField::Title,
            title: line_area(&ticket.title),
            reference: line_area(ticket.reference.as_deref().unwrap_or("")),
            contact: search,
            priority: ticket.priority.unwrap_or(Priority::Normal),
            status: ticket.status.clone().unwrap_or_else(|| "new".into()),
            operator: ticket.operator_id,
            important: ticket.important,
            category: line_area(ticket.category.as_deref().unwrap_or("")),
            tags: line_area(&ticket.tags.join(", ")),
            description: TextArea::new(ticket.description.lines().map(str::to_owned).collect()),
            errors: BTreeMap::new(),
        };
        for (name, problem) in fields {
            let field = FormField::of_wire(name).unwrap_or(FormField::Title);
            form.errors.insert(field, problem.clone());
        }
        if form.errors.is_empty() {
            form.errors.insert(FormField::Title, error.to_owned());
        }
        if let Some(first) = form.errors.keys().next() {
            form.field = *first;
        }
        form
    }

    /// A key that is text for the field with the keyboard.
    pub fn type_key(&mut self, key: KeyEvent) {
        let typed = match self.field {
            FormField::Title => self.title.input(key),
            FormField::Reference => self.reference.input(key),
            FormField::Contact => {
                self.contact.type_key(key);
                true
            }
            FormField::Category => self.category.input(key),
            FormField::Tags => self.tags.input(key),
            FormField::Description => self.description.input(key),
            FormField::Priority
            | FormField::Status
            | FormField::Operator
            | FormField::Important => false,
        };
        if typed {
            self.errors.remove(&self.field);
        }
    }

    /// Inserts pasted text into the field with the keyboard.
    pub fn paste(&mut self, text: &str) {
        let one_line = text.replace('\n', " ");
        match self.field {
            FormField::Title => self.title.insert_str(one_line),
            FormField::Reference => self.reference.insert_str(one_line),
            FormField::Contact => {
                self.contact.paste(text);
                true
            }
            FormField::Category => self.category.insert_str(one_line),
            FormField::Tags => self.tags.insert_str(one_line),
            FormField::Description => self.description.insert_str(text),
            _ => false,
        };
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

    /// The ticket to create, or what is wrong with which field.
    fn build(
        &self,
        taken: impl Fn(&str) -> bool,
    ) -> Result<NewTicket, BTreeMap<FormField, String>> {
        let mut errors = BTreeMap::new();
        let title = self.title.lines().join(" ").trim().to_owned();
        if title.is_empty() {
            errors.insert(FormField::Title, "a ticket needs a title".to_owned());
        } else if title.chars().count() > deskterm_api::TITLE_MAX_CHARS {
            errors.insert(
                FormField::Title,
                format!("at most {} characters", deskterm_api::TITLE_MAX_CHARS),
            );
        }
        let reference = self.reference.lines().join(" ").trim().to_owned();
        if reference.chars().count() > REFERENCE_MAX_CHARS {
            errors.insert(
                FormField::Reference,
                format!("at most {REFERENCE_MAX_CHARS} characters"),
            );
        } else if !reference.is_empty() && taken(&reference) {
            errors.insert(FormField::Reference, format!("{reference} is taken"));
        }
        let (contact_id, new_contact) = match (self.contact.chosen(), self.contact.new_contact()) {
            (Some(c), _) => (Some(c.id), None),
            (None, Some(Ok(new))) => (None, Some(new)),
            (None, Some(Err(e))) => {
                errors.insert(FormField::Contact, e);
                (None, None)
            }
            (None, None) => {
                errors.insert(
                    FormField::Contact,
                    "choose the customer, or ↓ to the new one typed (name, phone, e-mail)"
                        .to_owned(),
                );
                (None, None)
            }
        };
        let description = self.description.lines().join("\n").trim().to_owned();
        if description.chars().count() > deskterm_api::BODY_MAX_CHARS {
            errors.insert(
                FormField::Description,
                format!("at most {} characters", deskterm_api::BODY_MAX_CHARS),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let category = self.category.lines().join(" ").trim().to_owned();
        Ok(NewTicket {
            title,
            description,
            status: Some(self.status.clone()),
            priority: Some(self.priority),
            category: (!category.is_empty()).then_some(category),
            tags: parse_tags(&self.tags.lines().join(" ")),
            important: self.important,
            contact_id: contact_id.unwrap_or_default(),
            new_contact,
            operator_id: self.operator,
            channel: None,
            reference: (!reference.is_empty()).then_some(reference),
            sla_due_at: None,
            pending_until: None,
        })
    }
}

/// Longest reference the reference server takes.
const REFERENCE_MAX_CHARS: usize = 32;

impl App {
    /// Opens the form, for the selected ticket's customer.
    pub(super) fn open_ticket_form(&mut self) {
        if self.meta.is_none() {
            self.say_error("still loading statuses and operators");
            return;
        }
        let contacts = self.tickets.contacts();
        let contact = self.selected_ticket().map(|t| t.contact.clone());
        let me = self.me.as_ref().map(|m| m.id);
        self.modal = Some(Modal::NewTicket(Box::new(TicketForm::new(
            contact.as_ref(),
            contacts,
            me,
        ))));
    }

    /// A new ticket the server refused: the form again, with the refusal
    /// next to the field it is about.
    pub(super) fn reopen_ticket_form(
        &mut self,
        ticket: &NewTicket,
        fields: &[(String, String)],
        error: &str,
    ) {
        let contacts = self.tickets.contacts();
        self.modal = Some(Modal::NewTicket(Box::new(TicketForm::refused(
            ticket, contacts, fields, error,
        ))));
    }

    /// Keys in the form.
    pub(super) fn form_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let statuses: Vec<String> = self
            .meta
            .as_ref()
            .map(|m| m.statuses.iter().map(|s| s.key.clone()).collect())
            .unwrap_or_default();
        let mut operators: Vec<Option<OperatorId>> = vec![None];
        if let Some(meta) = &self.meta {
            operators.extend(meta.operators.iter().map(|o| Some(o.id)));
        }
        if action == Action::Complete {
            let done = match &self.modal {
                Some(Modal::NewTicket(f)) if f.field == FormField::Tags => {
                    super::prompt::complete_tag(self.meta.as_ref(), &f.tags.lines().join(""))
                }
                _ => None,
            };
            if let (Some(done), Some(Modal::NewTicket(f))) = (done, &mut self.modal) {
                f.tags = line_area(&done);
            }
            return;
        }
        let Some(Modal::NewTicket(form)) = &mut self.modal else {
            return;
        };
        match action {
            Action::FocusNext => form.move_field(true),
            Action::FocusPrev => form.move_field(false),
            Action::Down | Action::Up => {
                let down = action == Action::Down;
                match form.field {
                    FormField::Contact => form.contact.step(down),
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
                    FormField::Operator => {
                        let i = operators
                            .iter()
                            .position(|o| *o == form.operator)
                            .unwrap_or(0);
                        let n = operators.len();
                        let i = if down { (i + 1) % n } else { (i + n - 1) % n };
                        form.operator = operators[i];
                    }
                    FormField::Important => form.important = !form.important,
                    _ => form.move_field(down),
                }
            }
            Action::Toggle if form.field == FormField::Important => {
                form.important = !form.important;
            }
            Action::Newline if form.field == FormField::Description => {
                form.description.insert_newline()
            }
            Action::Cancel => self.modal = None,
            Action::Confirm => {
                let tickets = &self.tickets;
                match form.build(|r| tickets.by_reference(r).is_some()) {
                    Err(errors) => {
                        if let Some(first) = errors.keys().next() {
                            form.field = *first;
                        }
                        form.errors = errors;
                        self.say_error("the ticket is not created yet: see the marked fields");
                    }
                    Ok(ticket) => {
                        self.modal = None;
                        self.write(Write::Create { ticket }, effects);
                        self.say_info("ticket created");
                    }
                }
            }
            _ => {}
        }
    }
}

/// Draws the form when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::NewTicket(form)) = &app.modal else {
        return;
    };
    let area = centered(frame.area(), 96, 24);
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
        top,
        contact_row,
        matches,
        choices_1,
        choices_2,
        middle,
        description,
    ] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(contact::rows(&form.contact)),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(3),
    ])
    .areas(inner);
    let [title, reference] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(26)]).areas(top);
    let field = |frame: &mut Frame<'_>, area, text, label, which| {
        text_field(
            frame,
            area,
            text,
            label,
            form.field == which,
            form.errors.get(&which),
        );
    };
    field(frame, title, &form.title, "Title", FormField::Title);
    field(
        frame,
        reference,
        &form.reference,
        "Reference (empty: new)",
        FormField::Reference,
    );
    field(
        frame,
        contact_row,
        &form.contact.query,
        "Customer (type to search)",
        FormField::Contact,
    );
    contact::draw_matches(&form.contact, frame, matches);
    let [priority, status] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(choices_1);
    let [operator, important] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(choices_2);
    let choice = |frame: &mut Frame<'_>, area, label, value: &str, which| {
        choice_line(
            frame,
            area,
            label,
            value,
            form.field == which,
            form.errors.get(&which),
        );
    };
    choice(
        frame,
        priority,
        "Priority",
        form.priority.as_str(),
        FormField::Priority,
    );
    choice(
        frame,
        status,
        "Status",
        app.status_label(&form.status),
        FormField::Status,
    );
    let operator_name = match form.operator {
        None => "unassigned".to_owned(),
        Some(id) => app
            .meta
            .as_ref()
            .and_then(|m| m.operators.iter().find(|o| o.id == id))
            .map_or_else(|| format!("operator {id}"), |o| o.name.clone()),
    };
    choice(
        frame,
        operator,
        "Operator",
        &operator_name,
        FormField::Operator,
    );
    choice(
        frame,
        important,
        "Important",
        if form.important { "yes" } else { "no" },
        FormField::Important,
    );
    let [category, tags] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(middle);
    field(
        frame,
        category,
        &form.category,
        "Category",
        FormField::Category,
    );
    field(
        frame,
        tags,
        &form.tags,
        "Tags (a, b; tab completes)",
        FormField::Tags,
    );
    field(
        frame,
        description,
        &form.description,
        "Description",
        FormField::Description,
    );
}

fn text_field(
    frame: &mut Frame<'_>,
    area: Rect,
    text: &TextArea<'static>,
    label: &str,
    focused: bool,
    error: Option<&String>,
) {
    let mut text = text.clone();
    let border = if error.is_some() {
        theme::error()
    } else {
        theme::border_for(focused)
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(format!(" {label} "));
    if let Some(e) = error {
        block = block.title_bottom(Line::styled(format!(" {e} "), theme::error()));
    }
    text.set_block(block);
    if !focused {
        text.set_cursor_style(ratatui::style::Style::new());
    }
    frame.render_widget(&text, area);
}

fn choice_line(
    frame: &mut Frame<'_>,
    area: Rect,
    label: &str,
    value: &str,
    focused: bool,
    error: Option<&String>,
) {
    let style = if focused {
        theme::selected_row()
    } else {
        theme::label()
    };
    let mut spans = vec![
        Span::styled(format!(" {label:<10}"), theme::label()),
        Span::styled(format!("‹ {value} ›"), style),
    ];
    if let Some(e) = error {
        spans.push(Span::styled(format!(" {e}"), theme::error()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
