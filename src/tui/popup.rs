//! Popups over the panes: pickers (status, priority, operator, sort, filters)
//! and text fields (title, category, note, search).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState};

use super::action::Action;
use super::app::{App, Confirm, Modal};
use super::keymap::Context;
use super::theme;

/// A rectangle of at most `width` × `height`, centred in `area`.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// Draws the open picker or text field, if any.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    match &app.modal {
        Some(Modal::Picker(picker)) => {
            let multi = picker.kind.title().starts_with("Show");
            let key = |a| {
                app.keymap
                    .key_for(Context::Picker, a)
                    .map(|k| k.to_string())
                    .unwrap_or_default()
            };
            let hint = if multi {
                format!(
                    " {} tick · {} apply · {} cancel ",
                    key(Action::Toggle),
                    key(Action::Confirm),
                    key(Action::Cancel)
                )
            } else {
                format!(
                    " {} choose · {} cancel ",
                    key(Action::Confirm),
                    key(Action::Cancel)
                )
            };
            let widest = picker
                .items
                .iter()
                .map(|(label, _)| label.chars().count())
                .max()
                .unwrap_or(0)
                .max(hint.chars().count());
            let area = centered(
                frame.area(),
                widest as u16 + 8,
                picker.items.len() as u16 + 2,
            );
            let items: Vec<ListItem<'_>> = picker
                .items
                .iter()
                .enumerate()
                .map(|(i, (label, _))| {
                    let mark = if !multi {
                        ""
                    } else if picker.chosen.contains(&i) {
                        "[x] "
                    } else {
                        "[ ] "
                    };
                    ListItem::new(format!("{mark}{label}"))
                })
                .collect();
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme::focused_border())
                .title(format!(" {} ", picker.kind.title()))
                .title_bottom(Line::from(Span::styled(hint, theme::dim())));
            let list = List::new(items)
                .block(block)
                .highlight_style(theme::selected_row())
                .highlight_symbol("› ");
            let mut state = ListState::default().with_selected(Some(picker.cursor));
            frame.render_widget(Clear, area);
            frame.render_stateful_widget(list, area, &mut state);
        }
        Some(Modal::Input(input)) => {
            let lines = input.text.lines().len() as u16;
            let height = if input.kind == super::app::InputKind::Note {
                (lines + 2).clamp(6, 14)
            } else {
                3
            };
            let area = centered(
                frame.area(),
                frame.area().width.saturating_sub(8).min(90),
                height,
            );
            let mut text = input.text.clone();
            text.set_block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme::focused_border())
                    .title(format!(" {} ", input.kind.title())),
            );
            frame.render_widget(Clear, area);
            frame.render_widget(&text, area);
        }
        Some(Modal::Confirm(question)) => {
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
                        .get(id)
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
                Confirm::Quit => {
                    let n = app.pending.len();
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
            frame.render_widget(ratatui::widgets::Paragraph::new(lines).block(block), area);
        }
        _ => {}
    }
}
