//! The conflict view: the operator's change met someone else's on the same
//! fields. For each field: mine, theirs, or a new value — nothing is
//! overwritten without the operator choosing it.

use crossterm::event::KeyEvent;
use deskterm_api::{Ticket, TicketPatch};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Level, Modal};
use super::keymap::Context;
use super::popup::centered;
use super::theme;
use crate::sync::conflict::{Field, Reconciled, reconcile, unsettled};
use crate::sync::{Command, OpId, Resolution, Write};

/// Which value a contested field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The operator's.
    Mine,
    /// The other side's.
    Theirs,
    /// A new value typed now (text fields).
    Edited(String),
}

/// One contested field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    /// The field.
    pub field: Field,
    /// My value, for display.
    pub mine: String,
    /// Their value, for display.
    pub theirs: String,
    /// The choice so far.
    pub choice: Choice,
}

/// A write in conflict, as shown to the operator.
#[derive(Debug, Clone)]
pub struct ConflictView {
    /// The write.
    pub op: OpId,
    /// What was queued.
    pub write: Write,
    /// The server's ticket now.
    pub theirs: Ticket,
    /// Contested fields (empty for a delete).
    pub rows: Vec<ConflictRow>,
    /// Highlighted row.
    pub cursor: usize,
    /// A new value being typed for the highlighted row.
    pub editing: Option<TextArea<'static>>,
}

impl ConflictView {
    /// Builds the view of a conflict.
    pub fn new(
        op: OpId,
        write: Write,
        base: Option<Ticket>,
        theirs: Ticket,
        app: &App,
    ) -> ConflictView {
        let contested = match &write {
            Write::Patch { patch, .. } => match reconcile(base.as_ref(), &theirs, patch) {
                Reconciled::Conflict(fields) => fields,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let rows = match &write {
            Write::Patch { patch, .. } => contested
                .into_iter()
                .map(|field| ConflictRow {
                    field,
                    mine: patch_value(app, field, patch),
                    theirs: ticket_value(app, field, &theirs),
                    choice: Choice::Mine,
                })
                .collect(),
            _ => Vec::new(),
        };
        ConflictView {
            op,
            write,
            theirs,
            rows,
            cursor: 0,
            editing: None,
        }
    }

    /// A key typed while editing a value.
    pub fn type_key(&mut self, key: KeyEvent) {
        if let Some(text) = &mut self.editing {
            text.input(key);
        }
    }

    fn is_delete(&self) -> bool {
        matches!(self.write, Write::Delete { .. })
    }

    /// The write that carries out the choices, or `None` when nothing is left to send.
    fn resolved(&self) -> Result<Option<Write>, String> {
        match &self.write {
            Write::Delete { ticket, .. } => Ok(Some(Write::Delete {
                ticket: *ticket,
                version: self.theirs.version,
            })),
            Write::Patch { ticket, patch, .. } => {
                let mut out = unsettled(patch, &self.theirs);
                for row in &self.rows {
                    match &row.choice {
                        Choice::Mine => {}
                        Choice::Theirs => row.field.clear(&mut out),
                        Choice::Edited(value) => set_text(row.field, value, &mut out)?,
                    }
                }
                if out.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Write::Patch {
                    ticket: *ticket,
                    version: self.theirs.version,
                    patch: out,
                }))
            }
            other => Ok(Some(other.clone())),
        }
    }
}

fn set_text(field: Field, value: &str, patch: &mut TicketPatch) -> Result<(), String> {
    let value = value.trim().to_owned();
    match field {
        Field::Title if value.is_empty() => return Err("a title cannot be empty".into()),
        Field::Title => patch.title = Some(value),
        Field::Description => patch.description = Some(value),
        Field::Category => patch.category = Some((!value.is_empty()).then_some(value)),
        _ => {
            return Err(format!(
                "{} cannot be typed: choose mine or theirs",
                field.label()
            ));
        }
    }
    Ok(())
}

fn operator_name(app: &App, id: Option<i64>) -> String {
    match id {
        None => "unassigned".into(),
        Some(id) => app
            .meta
            .as_ref()
            .and_then(|m| m.operators.iter().find(|o| o.id == id))
            .map(|o| o.name.clone())
            .unwrap_or_else(|| format!("operator {id}")),
    }
}

fn patch_value(app: &App, field: Field, p: &TicketPatch) -> String {
    match field {
        Field::Title => p.title.clone().unwrap_or_default(),
        Field::Description => p.description.clone().unwrap_or_default(),
        Field::Status => p
            .status
            .as_deref()
            .map(|s| app.status_label(s).to_owned())
            .unwrap_or_default(),
        Field::Priority => p
            .priority
            .map(|x| x.as_str().to_owned())
            .unwrap_or_default(),
        Field::Category => p.category.clone().flatten().unwrap_or_else(|| "—".into()),
        Field::Tags => p.tags.clone().unwrap_or_default().join(", "),
        Field::Important => yes_no(p.important.unwrap_or(false)),
        Field::Operator => operator_name(app, p.operator_id.flatten()),
        Field::SlaDue => p
            .sla_due_at
            .flatten()
            .map(|t| super::render::when(app, t))
            .unwrap_or_else(|| "none".into()),
        Field::Reference => p.reference.clone().unwrap_or_default(),
        Field::Contact => match (&p.new_contact, p.contact_id) {
            (Some(new), _) => format!("{} (new)", new.name),
            (None, Some(id)) => contact_name(app, id),
            (None, None) => String::new(),
        },
        Field::PendingUntil => p
            .pending_until
            .flatten()
            .map(|t| super::render::when(app, t))
            .unwrap_or_else(|| "none".into()),
    }
}

fn ticket_value(app: &App, field: Field, t: &Ticket) -> String {
    match field {
        Field::Title => t.title.clone(),
        Field::Description => t.description.clone(),
        Field::Status => app.status_label(&t.status).to_owned(),
        Field::Priority => t.priority.as_str().to_owned(),
        Field::Category => t.category.clone().unwrap_or_else(|| "—".into()),
        Field::Tags => t.tags.join(", "),
        Field::Important => yes_no(t.important),
        Field::Operator => operator_name(app, t.operator.as_ref().map(|o| o.id)),
        Field::SlaDue => t
            .sla_due_at
            .map(|x| super::render::when(app, x))
            .unwrap_or_else(|| "none".into()),
        Field::Reference => t.reference.clone(),
        Field::Contact => t.contact.name.clone(),
        Field::PendingUntil => t
            .pending_until
            .map(|x| super::render::when(app, x))
            .unwrap_or_else(|| "none".into()),
    }
}

/// A customer's name as the console knows it, else their id.
fn contact_name(app: &App, id: deskterm_api::ContactId) -> String {
    app.tickets
        .contacts()
        .into_iter()
        .find(|c| c.id == id)
        .map_or_else(|| format!("customer {id}"), |c| c.name)
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

impl App {
    /// A write met someone else's change: its ticket shows the server's
    /// state again, and the conflict waits for the operator.
    pub(super) fn write_in_conflict(
        &mut self,
        op: OpId,
        write: Write,
        base: Option<Ticket>,
        theirs: Ticket,
    ) {
        self.tickets.mark_conflict(op, &write, self.meta.as_ref());
        if write.ticket().is_some() {
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

    /// Opens the next conflict, if any and if nothing else is open.
    pub(super) fn show_next_conflict(&mut self) -> bool {
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

    /// Keys in the conflict view.
    pub(super) fn conflict_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Conflict(view)) = &mut self.modal else {
            return;
        };
        if let Some(text) = &mut view.editing {
            match action {
                Action::Confirm => {
                    let value = text.lines().join("\n");
                    if let Some(row) = view.rows.get_mut(view.cursor) {
                        row.choice = Choice::Edited(value);
                    }
                    view.editing = None;
                }
                Action::Newline => text.insert_newline(),
                Action::Cancel => view.editing = None,
                _ => {}
            }
            return;
        }
        let last = view.rows.len().saturating_sub(1);
        match action {
            Action::Down => view.cursor = (view.cursor + 1).min(last),
            Action::Up => view.cursor = view.cursor.saturating_sub(1),
            Action::TakeMine => {
                if let Some(row) = view.rows.get_mut(view.cursor) {
                    row.choice = Choice::Mine;
                }
            }
            Action::TakeTheirs => {
                if let Some(row) = view.rows.get_mut(view.cursor) {
                    row.choice = Choice::Theirs;
                }
            }
            Action::EditValue => {
                let Some(row) = view.rows.get(view.cursor) else {
                    return;
                };
                if matches!(
                    row.field,
                    Field::Title | Field::Category | Field::Description
                ) {
                    let start = match &row.choice {
                        Choice::Edited(v) => v.clone(),
                        Choice::Theirs => row.theirs.clone(),
                        Choice::Mine => row.mine.clone(),
                    };
                    let mut text = TextArea::new(start.lines().map(str::to_owned).collect());
                    text.move_cursor(ratatui_textarea::CursorMove::Bottom);
                    text.move_cursor(ratatui_textarea::CursorMove::End);
                    view.editing = Some(text);
                } else {
                    let label = row.field.label();
                    self.say_error(format!("{label}: choose mine (m) or theirs (t)"));
                }
            }
            Action::Confirm => {
                let (op, resolved) = (view.op, view.resolved());
                match resolved {
                    Err(problem) => self.say_error(problem),
                    Ok(write) => {
                        self.modal = None;
                        let resolution = match &write {
                            Some(w) => Resolution::Send(w.clone()),
                            None => Resolution::Drop,
                        };
                        self.resolve(op, write);
                        effects.push(Effect::Sync(Command::Resolve { op, resolution }));
                        self.say_info("conflict settled");
                        self.show_conflicts_left();
                    }
                }
            }
            Action::Cancel if view.is_delete() => {
                // "No" to deleting: the ticket stays as they left it.
                let op = view.op;
                self.modal = None;
                self.resolve(op, None);
                effects.push(Effect::Sync(Command::Resolve {
                    op,
                    resolution: Resolution::Drop,
                }));
                self.say_info("the ticket was kept");
                self.show_conflicts_left();
            }
            Action::Cancel => {
                // Later: the write keeps waiting, and the view comes back with its key.
                if let Some(Modal::Conflict(view)) = self.modal.take() {
                    self.conflicts.push_front(view);
                }
                let key = self
                    .keymap
                    .key_for(Context::Global, Action::Conflicts)
                    .map(|k| k.to_string())
                    .unwrap_or_default();
                self.say_error(format!("conflict left for later: {key} to settle it"));
            }
            _ => {}
        }
    }

    fn show_conflicts_left(&mut self) {
        if let Some(view) = self.conflicts.pop_front() {
            self.modal = Some(Modal::Conflict(view));
        }
    }
}

/// Draws the conflict view when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Conflict(view)) = &app.modal else {
        return;
    };
    let reference = app
        .tickets
        .server(view.theirs.id)
        .map(|t| t.reference.clone())
        .unwrap_or_else(|| view.theirs.reference.clone());
    let key = |a| {
        app.keymap
            .key_for(Context::Conflict, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let area = centered(frame.area(), 100, (view.rows.len() as u16 + 9).max(9));
    frame.render_widget(Clear, area);
    let title = format!(" Conflict on {reference}: someone else changed it meanwhile ");
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::error())
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if view.is_delete() {
        let text = vec![
            Line::from(format!(
                "You asked to delete {reference}: {}",
                view.theirs.title
            )),
            Line::from("It was changed since you looked at it."),
            Line::default(),
            Line::from(vec![
                Span::styled(format!("{} ", key(Action::Confirm)), theme::label()),
                Span::raw("delete it anyway   "),
                Span::styled(format!("{} ", key(Action::Cancel)), theme::label()),
                Span::raw("keep it"),
            ]),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
        return;
    }
    let [table_area, edit_area, hint_area] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(if view.editing.is_some() { 3 } else { 0 }),
        Constraint::Length(1),
    ])
    .areas(inner);
    let rows = view.rows.iter().enumerate().map(|(i, row)| {
        let (mine_style, theirs_style) = match row.choice {
            Choice::Mine => (theme::selected_row(), theme::dim()),
            Choice::Theirs => (theme::dim(), theme::selected_row()),
            Choice::Edited(_) => (theme::dim(), theme::dim()),
        };
        let chosen = match &row.choice {
            Choice::Edited(v) => format!("new: {}", v.replace('\n', " ")),
            _ => String::new(),
        };
        let marker = if i == view.cursor { "›" } else { " " };
        Row::new(vec![
            ratatui::widgets::Cell::from(format!("{marker} {}", row.field.label())),
            ratatui::widgets::Cell::from(Span::styled(row.mine.replace('\n', " "), mine_style)),
            ratatui::widgets::Cell::from(Span::styled(row.theirs.replace('\n', " "), theirs_style)),
            ratatui::widgets::Cell::from(Span::styled(chosen, theme::pending())),
        ])
    });
    let header = Row::new(vec!["  field", "mine", "theirs", ""]).style(theme::label());
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Percentage(30),
            Constraint::Percentage(30),
            Constraint::Fill(1),
        ],
    )
    .header(header);
    frame.render_widget(table, table_area);
    if let Some(text) = &view.editing {
        let mut text = text.clone();
        text.set_block(Block::default().borders(Borders::ALL).title(" new value "));
        frame.render_widget(&text, edit_area);
    }
    let hint = format!(
        " {} mine · {} theirs · {} type a value · {} apply · {} later ",
        key(Action::TakeMine),
        key(Action::TakeTheirs),
        key(Action::EditValue),
        key(Action::Confirm),
        key(Action::Cancel)
    );
    frame.render_widget(Paragraph::new(Span::styled(hint, theme::dim())), hint_area);
}
