//! Yes/no questions: deleting a ticket, and quitting with writes unsent.

use deskterm_api::TicketId;
use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::action::Action;
use super::app::{App, Effect, Level, Modal};
use super::command::TicketOp;
use super::keymap::Context;
use super::popup::centered;
use super::theme;
use crate::sync::Write;

/// What a confirmation asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    /// Delete this ticket?
    Delete(TicketId),
    /// Quit with writes still unsent: wait for them, or keep them for next start?
    Quit,
    /// Change this many marked tickets at once?
    Bulk {
        /// The change.
        op: TicketOp,
        /// How many tickets it targets.
        count: usize,
    },
}

impl App {
    /// Asks before deleting the selected ticket.
    pub(super) fn ask_delete(&mut self) {
        match self.selected_ticket() {
            Some(t) if t.id > 0 => self.modal = Some(Modal::Confirm(Confirm::Delete(t.id))),
            Some(_) => self.say(Level::Error, "this ticket is still being created"),
            None => self.say(Level::Error, "no ticket selected"),
        }
    }

    /// Keys in the question.
    pub(super) fn confirm_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Confirm(question)) = self.modal.clone() else {
            return;
        };
        match (question, action) {
            (_, Action::Cancel) => self.modal = None,
            (Confirm::Delete(id), Action::Confirm) => {
                self.modal = None;
                if let Some(version) = self.tickets.server(id).map(|t| t.version) {
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
                let n = self.tickets.pending_count();
                self.say(
                    Level::Info,
                    format!("sending {n} change(s), then quitting…"),
                );
            }
            (Confirm::Bulk { op, .. }, Action::Confirm) => {
                self.modal = None;
                self.apply_change(op, effects);
            }
            (Confirm::Quit, Action::QuitKeep) => {
                self.modal = None;
                effects.push(Effect::Exit);
            }
            _ => {}
        }
    }
}

/// Draws the question when one is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Confirm(question)) = &app.modal else {
        return;
    };
    let key = |a| {
        app.keymap
            .key_for(Context::Confirm, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let (title, lines) = match question {
        Confirm::Delete(id) => {
            let what = app
                .tickets
                .shown(*id)
                .map(|t| format!("{} {}", t.reference, t.title))
                .unwrap_or_default();
            (
                " Delete ticket ",
                vec![
                    Line::from(format!("Delete {what}?")),
                    Line::from("Its notes go with it. This cannot be undone."),
                    Line::default(),
                    Line::from(format!(
                        "{} delete · {} keep",
                        key(Action::Confirm),
                        key(Action::Cancel)
                    )),
                ],
            )
        }
        Confirm::Bulk { op, count } => (
            " Change several tickets ",
            vec![
                Line::from(format!(
                    "{} on {count} marked tickets?",
                    super::ops::describe(op, app)
                )),
                Line::from("Each one changes on the server; there is no undo."),
                Line::default(),
                Line::from(format!(
                    "{} change them · {} keep them as they are",
                    key(Action::Confirm),
                    key(Action::Cancel)
                )),
            ],
        ),
        Confirm::Quit => {
            let n = app.tickets.pending_count();
            (
                " Quit ",
                vec![
                    Line::from(format!("{n} change(s) are not on the server yet.")),
                    Line::from("They are saved on this machine either way."),
                    Line::default(),
                    Line::from(format!(
                        "{} wait until they are sent, then quit",
                        key(Action::QuitWait)
                    )),
                    Line::from(format!(
                        "{} quit now, send them at next start",
                        key(Action::QuitKeep)
                    )),
                    Line::from(format!("{} stay", key(Action::Cancel))),
                ],
            )
        }
    };
    let width = lines.iter().map(|l| l.width() as u16).max().unwrap_or(20) + 6;
    let area = centered(frame.area(), width.max(40), lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(title);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
