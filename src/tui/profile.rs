//! The profile view: who is signed in, and their one option, whether a
//! ticket opened or changed sends them an e-mail. Switching it is a write
//! like any other: kept in the outbox until the backend has it.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Effect, Modal};
use super::popup::centered;
use super::theme;
use crate::sync::Write;

impl App {
    /// Opens the profile view.
    pub(super) fn open_profile(&mut self) {
        self.modal = Some(Modal::Profile);
    }

    /// Keys in the view: `space` or `enter` switches the e-mails, `esc` closes.
    pub(super) fn profile_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Cancel => self.modal = None,
            Action::Toggle | Action::Confirm => {
                let Some(me) = &mut self.me else {
                    self.say_error("not signed in yet: the profile is not known");
                    return;
                };
                me.receive_ticket_emails = !me.receive_ticket_emails;
                let on = me.receive_ticket_emails;
                self.write(
                    Write::SetProfile {
                        receive_ticket_emails: on,
                    },
                    effects,
                );
                self.say_info(if on {
                    "ticket e-mails on: you hear of tickets opened or changed"
                } else {
                    "ticket e-mails off, for you only"
                });
            }
            _ => {}
        }
    }
}

/// Draws the view when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    if !matches!(app.modal, Some(Modal::Profile)) {
        return;
    }
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(8).min(72),
        10.min(frame.area().height),
    );
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Profile ")
        .title_bottom(Line::styled(
            " space: switch the e-mails · esc: close ",
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = match &app.me {
        None => vec![Line::styled(" not signed in yet", theme::dim())],
        Some(me) => {
            let row = |label: &'static str, value: String| {
                Line::from(vec![
                    Span::styled(format!(" {label:<15}"), theme::label()),
                    Span::raw(value),
                ])
            };
            vec![
                row("Name", me.name.clone()),
                row("E-mail", me.email.clone()),
                Line::from(vec![
                    Span::styled(format!(" {:<15}", "Ticket e-mails"), theme::label()),
                    Span::styled(
                        if me.receive_ticket_emails {
                            "[x] on"
                        } else {
                            "[ ] off"
                        },
                        theme::selected_row(),
                    ),
                ]),
                Line::raw(""),
                Line::styled(
                    " On: an e-mail when a ticket is opened or changed by someone else, \
                     at most one per ticket a minute. Off: for you only.",
                    theme::dim(),
                ),
            ]
        }
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
