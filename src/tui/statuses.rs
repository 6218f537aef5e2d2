//! The statuses view: every status with its macro-status, and a field to
//! add a custom one (a label and a macro-status; the backend keeps this to
//! administrators). A status added here is in the pickers at once.

use deskterm_api::{MacroStatus, NewStatus, StatusDef};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::popup::centered;
use super::theme;
use crate::backend::Feature;
use crate::sync::Command;

/// Longest label the reference server takes.
const LABEL_MAX_CHARS: usize = 40;

/// The statuses view's state.
#[derive(Debug, Clone)]
pub struct StatusesView {
    /// The label of the status to add.
    pub label: TextArea<'static>,
    /// Its macro-status.
    pub macro_status: MacroStatus,
    /// Waiting for the backend's answer.
    pub adding: bool,
    /// Why the last status was not added.
    pub error: Option<String>,
}

impl App {
    /// Opens the statuses view.
    pub(super) fn open_statuses(&mut self) {
        let mut label = TextArea::default();
        label.set_placeholder_text("label of a new status");
        self.modal = Some(Modal::Statuses(StatusesView {
            label,
            macro_status: MacroStatus::InProgress,
            adding: false,
            error: None,
        }));
    }

    /// Keys in the view: `tab` switches the macro-status, `enter` adds.
    pub(super) fn statuses_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let can_add = self.offers(Feature::CustomStatuses);
        let Some(Modal::Statuses(view)) = &mut self.modal else {
            return;
        };
        match action {
            Action::Cancel => self.modal = None,
            Action::Complete => {
                view.macro_status = match view.macro_status {
                    MacroStatus::InProgress => MacroStatus::Closed,
                    MacroStatus::Closed => MacroStatus::InProgress,
                };
            }
            Action::Confirm if view.adding => {}
            Action::Confirm => {
                let label = view.label.lines().join(" ").trim().to_owned();
                view.error = if !can_add {
                    Some("this helpdesk has no custom statuses".to_owned())
                } else if label.is_empty() {
                    Some("a status needs a label".to_owned())
                } else if label.chars().count() > LABEL_MAX_CHARS {
                    Some(format!("a label has at most {LABEL_MAX_CHARS} characters"))
                } else {
                    None
                };
                if view.error.is_none() {
                    view.adding = true;
                    effects.push(Effect::Sync(Command::AddStatus(NewStatus {
                        key: None,
                        label,
                        macro_status: view.macro_status,
                    })));
                }
            }
            _ => {}
        }
    }

    /// The backend added the status, or said why not.
    pub(super) fn status_added(&mut self, result: Result<StatusDef, String>) {
        match (&mut self.modal, result) {
            (Some(Modal::Statuses(view)), Ok(status)) => {
                view.adding = false;
                view.error = None;
                view.label = TextArea::default();
                view.label.set_placeholder_text("label of a new status");
                self.say_info(format!("status “{}” added", status.label));
            }
            (Some(Modal::Statuses(view)), Err(e)) => {
                view.adding = false;
                view.error = Some(e);
            }
            (_, Ok(status)) => self.say_info(format!("status “{}” added", status.label)),
            (_, Err(e)) => self.say_error(format!("the status was not added: {e}")),
        }
    }
}

fn macro_label(m: MacroStatus) -> &'static str {
    match m {
        MacroStatus::InProgress => "in progress",
        MacroStatus::Closed => "closed",
    }
}

/// Draws the view when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Statuses(view)) = &app.modal else {
        return;
    };
    let statuses = app
        .meta
        .as_ref()
        .map(|m| m.statuses.as_slice())
        .unwrap_or(&[]);
    let height = (statuses.len() as u16 + 9).min(frame.area().height);
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(8).min(72),
        height,
    );
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Statuses ")
        .title_bottom(Line::styled(
            " type a label · tab: in progress / closed · enter: add · esc: close ",
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, field, choice] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(inner);
    let lines: Vec<Line<'static>> = statuses
        .iter()
        .map(|s| {
            Line::from(vec![
                Span::styled(
                    format!(" {:<24}", s.label),
                    theme::status(Some(s.macro_status)),
                ),
                Span::styled(format!("{:<13}", macro_label(s.macro_status)), theme::dim()),
                Span::styled(
                    format!("{:<9}", if s.builtin { "built in" } else { "custom" }),
                    theme::dim(),
                ),
                Span::styled(format!("  {}", s.key), theme::dim()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    let mut label = view.label.clone();
    let mut field_block = Block::default()
        .borders(Borders::ALL)
        .border_style(if view.error.is_some() {
            theme::error()
        } else {
            theme::focused_border()
        })
        .title(" New status ");
    if let Some(e) = &view.error {
        field_block = field_block.title_bottom(Line::styled(format!(" {e} "), theme::error()));
    } else if view.adding {
        field_block = field_block.title_bottom(Line::styled(" adding… ", theme::dim()));
    }
    label.set_block(field_block);
    frame.render_widget(&label, field);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Macro-status ", theme::label()),
            Span::styled(
                format!("‹ {} ›", macro_label(view.macro_status)),
                theme::selected_row(),
            ),
        ])),
        choice,
    );
}
