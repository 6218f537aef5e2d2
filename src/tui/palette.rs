//! The command palette (`:`): type a command with its arguments, pick from
//! what matches so far (phrases fuzzily, then statuses, operators,
//! categories, tags, columns or views), and run it. The language and the
//! completion are in [`command`](super::command); this is the popup.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Level, Modal};
use super::command::{self, Candidate, Command, Names};
use super::keymap::Context;
use super::theme;

/// Rows of candidates shown at most.
const ROWS: usize = 10;

/// The palette's state.
#[derive(Debug, Clone)]
pub struct Palette {
    /// What is typed.
    pub text: TextArea<'static>,
    /// The highlighted candidate.
    pub cursor: usize,
    /// Why the last Enter did not run anything.
    pub error: Option<String>,
}

impl Palette {
    fn new() -> Palette {
        let mut text = TextArea::default();
        text.set_placeholder_text("set status resolved · assign me · sort priority · view Mine");
        text.set_cursor_line_style(ratatui::style::Style::new());
        Palette {
            text,
            cursor: 0,
            error: None,
        }
    }

    /// What is typed, on one line.
    pub fn typed(&self) -> String {
        self.text.lines().join(" ")
    }

    fn set(&mut self, text: &str) {
        let mut area = TextArea::new(vec![text.to_owned()]);
        area.set_cursor_line_style(ratatui::style::Style::new());
        area.move_cursor(ratatui_textarea::CursorMove::End);
        self.text = area;
        self.cursor = 0;
        self.error = None;
    }

    /// Takes pasted text, on one line.
    pub fn paste(&mut self, text: String) {
        self.text.insert_str(text.replace('\n', " "));
        self.cursor = 0;
        self.error = None;
    }
}

impl App {
    /// What command arguments are checked against: this backend's names and the saved views.
    pub(super) fn names(&self) -> Names<'_> {
        Names {
            meta: self.meta.as_ref(),
            me: self.me.as_ref().map(|m| m.id),
            views: self.views.iter().map(|v| v.name.as_str()).collect(),
        }
    }

    /// The palette's list for what is typed: what this backend offers.
    pub(super) fn palette_candidates(&self, typed: &str) -> Vec<Candidate> {
        command::candidates(typed, &self.names())
            .into_iter()
            .filter(|c| c.action.is_none_or(|a| self.offers_action(a)))
            .collect()
    }

    /// Opens the palette.
    pub(super) fn open_palette(&mut self) {
        self.modal = Some(Modal::Palette(Palette::new()));
    }

    /// A key that is text for the palette.
    pub(super) fn palette_key(&mut self, key: KeyEvent) {
        if let Some(Modal::Palette(palette)) = &mut self.modal {
            // One line only: Enter runs, it never breaks the line.
            if key.code != crossterm::event::KeyCode::Enter {
                palette.text.input(key);
                palette.cursor = 0;
                palette.error = None;
            }
        }
    }

    /// Keys in the palette.
    pub(super) fn palette_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Palette(palette)) = &self.modal else {
            return;
        };
        let typed = palette.typed();
        let cursor = palette.cursor;
        let candidates = self.palette_candidates(&typed);
        let highlighted = candidates.get(cursor).map(|c| c.text.clone());
        let parsed = command::parse(&typed, &self.names());
        let Some(Modal::Palette(palette)) = &mut self.modal else {
            return;
        };
        match action {
            Action::Cancel => self.modal = None,
            Action::Down => {
                palette.cursor = (cursor + 1).min(candidates.len().saturating_sub(1));
            }
            Action::Up => palette.cursor = cursor.saturating_sub(1),
            Action::Complete => {
                if let Some(text) = highlighted {
                    palette.set(&text);
                }
            }
            Action::Confirm => match parsed {
                Ok(command) => {
                    self.modal = None;
                    self.run_command(command, effects);
                }
                // What is typed is not a whole command: the highlighted line
                // runs if it is one, and completes the field if not.
                Err(error) => match highlighted {
                    Some(text) if text.trim() != typed.trim() => {
                        match command::parse(&text, &self.names()) {
                            Ok(command) => {
                                self.modal = None;
                                self.run_command(command, effects);
                            }
                            Err(_) => {
                                if let Some(Modal::Palette(palette)) = &mut self.modal {
                                    palette.set(&text);
                                }
                            }
                        }
                    }
                    _ => palette.error = Some(error),
                },
            },
            _ => {}
        }
    }

    /// Runs a typed command.
    pub(super) fn run_command(&mut self, command: Command, effects: &mut Vec<Effect>) {
        match command {
            Command::Run(action) => self.on_action(action, effects),
            Command::Ticket(op) => self.change_tickets(op, effects),
            Command::Sort(sort) => {
                self.list.sort = sort;
                self.refresh_view();
                self.say(Level::Info, format!("sorted by {sort}"));
            }
            Command::View(index) => self.switch_view(index),
            Command::Filter(query) => {
                self.list.query = query;
                self.refresh_view();
            }
        }
    }
}

/// Draws the palette when it is open: the field, then what matches.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Palette(palette)) = &app.modal else {
        return;
    };
    let screen = frame.area();
    let candidates = app.palette_candidates(&palette.typed());
    let rows = candidates.len().clamp(1, ROWS) as u16;
    let width = screen.width.saturating_sub(8).min(100);
    let area = Rect {
        x: screen.x + (screen.width.saturating_sub(width)) / 2,
        y: screen.y + (screen.height / 6).min(4),
        width,
        height: (rows + 4).min(screen.height),
    };
    let hint = |a| {
        app.keymap
            .key_for(Context::Palette, a)
            .map(|k| k.to_string())
            .unwrap_or_default()
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Command ")
        .title_bottom(Line::from(Span::styled(
            format!(
                " {} run · {} complete · {} cancel ",
                hint(Action::Confirm),
                hint(Action::Complete),
                hint(Action::Cancel)
            ),
            theme::dim(),
        )));
    if let Some(error) = &palette.error {
        block = block.title_bottom(Line::from(Span::styled(
            format!(" {} ", crate::sanitize::line(error)),
            theme::error(),
        )));
    }
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let [field, rule, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(Span::styled(":", theme::label())), field);
    let text_area = Rect {
        x: field.x + 2,
        width: field.width.saturating_sub(2),
        ..field
    };
    frame.render_widget(&palette.text, text_area);
    frame.render_widget(
        Paragraph::new(Span::styled(
            "─".repeat(rule.width as usize),
            theme::border(),
        )),
        rule,
    );
    if candidates.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no command matches", theme::dim())),
            list,
        );
        return;
    }
    let items: Vec<ListItem<'_>> = candidates
        .iter()
        .map(|c| candidate_line(app, c, list.width))
        .collect();
    let mut state = ListState::default().with_selected(Some(palette.cursor));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme::selected_row()),
        list,
        &mut state,
    );
}

/// `label   key   what it does`, cut to `width`.
fn candidate_line<'a>(app: &App, c: &'a Candidate, width: u16) -> ListItem<'a> {
    let key = c
        .action
        .and_then(|a| {
            app.keymap
                .key_for(Context::List, a)
                .or_else(|| app.keymap.key_for(Context::Global, a))
        })
        .map(|k| k.to_string())
        .unwrap_or_default();
    let label_width = 34usize;
    let label: String = crate::sanitize::line(&c.label)
        .chars()
        .take(label_width)
        .collect();
    let pad = label_width.saturating_sub(label.chars().count());
    let about_width = (width as usize).saturating_sub(label_width + 10);
    let about: String = c.about.chars().take(about_width).collect();
    ListItem::new(Line::from(vec![
        Span::raw(format!(" {label}{} ", " ".repeat(pad))),
        Span::styled(format!("{key:>6}  "), theme::label()),
        Span::styled(about, theme::dim()),
    ]))
}
