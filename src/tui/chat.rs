//! The chat pane: the conversation with the selected ticket's contact, newest
//! at the bottom, and the composer that answers the customer.

use deskterm_api::Direction;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::action::Action;
use super::app::{App, Pane};
use super::keymap::Context;
use super::render::{pane_block, when};
use super::theme;
use super::wrap::push_wrapped;
use crate::sync::Write;

/// Draws the chat into `area`.
pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let Some(t) = app.selected_ticket() else {
        let block = pane_block(app, Pane::Chat, Line::from(" Chat "));
        frame.render_widget(Paragraph::new("").block(block), area);
        return;
    };
    let title = format!(" Chat · {} ", t.contact.name);
    let block = pane_block(app, Pane::Chat, Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let composer_height = if app.composing {
        (app.composer.lines().len() as u16 + 2).clamp(3, 6)
    } else {
        2
    };
    let [history, composer] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(composer_height)]).areas(inner);

    let width = usize::from(history.width.max(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    match app.messages.get(&t.contact.id) {
        None => lines.push(Line::styled("loading…", theme::dim())),
        Some(list) if list.is_empty() && app.pending_messages(t.contact.id).next().is_none() => {
            lines.push(Line::styled("no messages yet", theme::dim()));
        }
        Some(list) => {
            for m in list {
                let (who, style) = match m.direction {
                    Direction::Inbound => (format!("◀ {}", t.contact.name), theme::inbound()),
                    Direction::Outbound => (
                        format!(
                            "▶ {}",
                            m.operator
                                .as_ref()
                                .map(|o| o.name.as_str())
                                .unwrap_or("operator")
                        ),
                        theme::outbound(),
                    ),
                };
                lines.push(Line::from(vec![
                    Span::styled(who, style.add_modifier(ratatui::style::Modifier::BOLD)),
                    Span::styled(format!("  {}", when(app, m.created_at)), theme::dim()),
                ]));
                push_wrapped(&mut lines, &m.body, width, style);
            }
        }
    }
    for p in app.pending_messages(t.contact.id) {
        if let Write::SendMessage { body, .. } = &p.write {
            let who = p
                .author
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(format!("▶ {who}"), theme::pending()),
                Span::styled("  sending…", theme::pending()),
            ]));
            push_wrapped(&mut lines, body, width, theme::pending());
        }
    }
    // Anchor at the newest line; `chat_scroll` goes back in time.
    let height = usize::from(history.height);
    let max_back = lines.len().saturating_sub(height);
    let back = usize::from(app.chat_scroll).min(max_back);
    let end = lines.len() - back;
    let start = end.saturating_sub(height);
    frame.render_widget(Paragraph::new(lines[start..end].to_vec()), history);

    let hint = if app.composing {
        let k = |a| {
            app.keymap
                .key_for(Context::Composer, a)
                .map(|k| k.to_string())
                .unwrap_or_default()
        };
        format!(
            " {} send · {} new line · {} leave ",
            k(Action::Confirm),
            k(Action::Newline),
            k(Action::Cancel)
        )
    } else {
        let key = app
            .keymap
            .key_for(Context::Global, Action::Compose)
            .map(|k| k.to_string())
            .unwrap_or_default();
        format!(" {key} reply ")
    };
    let composer_block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme::border_for(app.composing))
        .title(Span::styled(hint, theme::dim()));
    if app.composing {
        let mut area = app.composer.clone();
        area.set_block(composer_block);
        area.set_cursor_line_style(Style::new());
        frame.render_widget(&area, composer);
    } else {
        let draft = app.composer.lines().join(" ");
        let text = if draft.trim().is_empty() {
            Span::raw("")
        } else {
            Span::styled(format!("draft: {draft}"), theme::pending())
        };
        frame.render_widget(Paragraph::new(text).block(composer_block), composer);
    }
}
