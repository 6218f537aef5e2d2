//! The chat pane: the conversation with the selected ticket's contact, newest
//! at the bottom, and the composer that answers the customer.

use std::collections::HashMap;

use deskterm_api::{ChatMessage, Direction};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Level, Pane};
use super::keymap::Context;
use super::layout::scrolled;
use super::render::{pane_block, when};
use super::theme;
use super::wrap::push_wrapped;
use crate::backend::{ConversationKey, Conversations};
use crate::sync::Write;

/// The chat pane's state.
#[derive(Debug, Clone)]
pub struct Chat {
    /// Conversations (a contact's or a ticket's, as the backend keys them), oldest first.
    pub messages: HashMap<ConversationKey, Vec<ChatMessage>>,
    /// The composer (kept between uses, so a draft survives).
    pub composer: TextArea<'static>,
    /// True while the composer has the keyboard.
    pub composing: bool,
    /// Lines scrolled up from the bottom.
    pub scroll: u16,
}

impl Chat {
    /// No conversation loaded, an empty composer.
    pub fn new() -> Chat {
        Chat {
            messages: HashMap::new(),
            composer: new_composer(),
            composing: false,
            scroll: 0,
        }
    }

    /// Scrolls for a motion action. The chat is anchored at its newest line:
    /// "up" goes back in time.
    pub fn scroll_by(&mut self, action: Action) {
        self.scroll = scrolled(self.scroll, action, true);
    }

    /// A message arrived from the feed or as the answer to a write; kept
    /// once, in the conversation `conversations` puts it in.
    pub fn message_added(&mut self, message: ChatMessage, conversations: Conversations) {
        let Some(key) = conversations.of_message(&message) else {
            return;
        };
        let list = self.messages.entry(key).or_default();
        if !list.iter().any(|m| m.id == message.id) {
            list.push(message);
            list.sort_by_key(|m| m.id);
        }
    }

    /// Puts the text of a refused message back into the composer, after any draft.
    pub fn give_back(&mut self, body: String) {
        if !self.composer.is_empty() {
            self.composer.insert_newline();
        }
        self.composer.insert_str(body);
    }
}

impl Default for Chat {
    fn default() -> Self {
        Chat::new()
    }
}

impl App {
    /// Opens the composer for the selected ticket's contact.
    pub(super) fn compose(&mut self) {
        if self.selected_ticket().is_some() {
            self.focus = Pane::Chat;
            self.chat.composing = true;
            self.chat.scroll = 0;
        }
    }

    /// Keys in the composer.
    pub(super) fn composer_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        match action {
            Action::Cancel => self.chat.composing = false,
            Action::Newline => self.chat.composer.insert_newline(),
            Action::Confirm => {
                let body = self.chat.composer.lines().join("\n");
                let body = body.trim();
                if body.is_empty() {
                    return;
                }
                let Some(ticket) = self.selected_ticket() else {
                    self.say(Level::Error, "no ticket selected");
                    return;
                };
                let write = Write::SendMessage {
                    contact: ticket.contact.id,
                    ticket: Some(ticket.id),
                    body: body.to_owned(),
                };
                self.chat.composer = new_composer();
                self.write(write, effects);
            }
            _ => {}
        }
    }
}

fn new_composer() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("reply to the customer…");
    t
}

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

    let composer_height = if app.chat.composing {
        (app.chat.composer.lines().len() as u16 + 2).clamp(3, 6)
    } else {
        2
    };
    let [history, composer] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(composer_height)]).areas(inner);

    let width = usize::from(history.width.max(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    let conversation = app.capabilities.conversations.key(t.id, t.contact.id);
    match app.chat.messages.get(&conversation) {
        None => lines.push(Line::styled("loading…", theme::dim())),
        Some(list)
            if list.is_empty() && app.tickets.pending_messages(t.contact.id).next().is_none() =>
        {
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
    for p in app.tickets.pending_messages(t.contact.id) {
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
    // Anchor at the newest line; `scroll` goes back in time.
    let height = usize::from(history.height);
    let max_back = lines.len().saturating_sub(height);
    let back = usize::from(app.chat.scroll).min(max_back);
    let end = lines.len() - back;
    let start = end.saturating_sub(height);
    frame.render_widget(Paragraph::new(lines[start..end].to_vec()), history);

    let hint = if app.chat.composing {
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
        .border_style(theme::border_for(app.chat.composing))
        .title(Span::styled(hint, theme::dim()));
    if app.chat.composing {
        let mut area = app.chat.composer.clone();
        area.set_block(composer_block);
        area.set_cursor_line_style(Style::new());
        frame.render_widget(&area, composer);
    } else {
        let draft = app.chat.composer.lines().join(" ");
        let text = if draft.trim().is_empty() {
            Span::raw("")
        } else {
            Span::styled(format!("draft: {draft}"), theme::pending())
        };
        frame.render_widget(Paragraph::new(text).block(composer_block), composer);
    }
}
