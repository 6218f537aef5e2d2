//! The text prompt: a popup field for the title, the category, a new
//! internal note or the search (which narrows the list while typing).

use crossterm::event::KeyEvent;
use deskterm_api::{Meta, TicketId, TicketPatch};
use ratatui::Frame;
use ratatui::widgets::{Block, Borders, Clear};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Effect, Level, Modal};
use super::command::TicketOp;
use super::popup::centered;
use super::theme;
use crate::sync::Write;

/// What a text field edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Ticket title.
    Title,
    /// Ticket category.
    Category,
    /// A new internal note.
    Note,
    /// The search filter.
    Search,
    /// Ticket description (several lines).
    Description,
    /// Ticket tags, separated by commas.
    Tags,
    /// Ticket reference.
    Reference,
    /// An escalation: addresses on the first line, a note below.
    Escalate,
    /// The time the ticket waits until.
    PendingUntil,
}

impl InputKind {
    /// Popup title.
    pub fn title(self) -> &'static str {
        match self {
            InputKind::Title => "Title",
            InputKind::Category => "Category (tab completes; a new name creates it)",
            InputKind::Note => "Internal note (only operators see it)",
            InputKind::Search => "Search",
            InputKind::Description => "Description (ctrl-e: in $EDITOR)",
            InputKind::Tags => "Tags, separated by commas (tab completes)",
            InputKind::Reference => "Reference (unique)",
            InputKind::Escalate => "Escalate by e-mail: addresses, then a note below",
            InputKind::PendingUntil => "Wait until (2d, 4h, 30m, 2026-12-01 09:00; empty: no time)",
        }
    }

    /// Whether the field holds several lines (and can be edited in `$EDITOR`).
    pub fn multi_line(self) -> bool {
        matches!(
            self,
            InputKind::Note | InputKind::Description | InputKind::Escalate
        )
    }
}

/// A popup text field.
#[derive(Debug, Clone)]
pub struct Input {
    /// What it edits.
    pub kind: InputKind,
    /// The text being typed.
    pub text: TextArea<'static>,
    /// The ticket it was opened for.
    pub ticket: Option<TicketId>,
    /// The text when it was opened (what cancelling a search returns to).
    pub original: String,
}

impl Input {
    /// A note field holding `body` (a note the server refused, to fix and send again).
    pub fn note(ticket: TicketId, body: &str) -> Input {
        let mut text = TextArea::new(body.lines().map(str::to_owned).collect());
        text.move_cursor(ratatui_textarea::CursorMove::Bottom);
        text.move_cursor(ratatui_textarea::CursorMove::End);
        Input {
            kind: InputKind::Note,
            text,
            ticket: Some(ticket),
            original: String::new(),
        }
    }

    /// An escalation field holding what the server refused, to fix and send again.
    pub fn escalation(ticket: TicketId, to: &[String], note: Option<&str>) -> Input {
        let mut lines = vec![to.join(", ")];
        lines.extend(note.unwrap_or_default().lines().map(str::to_owned));
        let mut text = TextArea::new(lines);
        text.move_cursor(ratatui_textarea::CursorMove::Top);
        text.move_cursor(ratatui_textarea::CursorMove::End);
        Input {
            kind: InputKind::Escalate,
            text,
            ticket: Some(ticket),
            original: String::new(),
        }
    }

    /// Inserts pasted text; single-line fields take it as one line.
    pub fn paste(&mut self, text: String) {
        let text = if self.kind.multi_line() {
            text
        } else {
            text.replace('\n', " ")
        };
        self.text.insert_str(text);
    }

    /// Whether quitting would lose typed work (a search is not work).
    pub fn holds_draft(&self) -> bool {
        self.kind != InputKind::Search && !self.text.is_empty()
    }
}

impl App {
    /// Opens a field on the selected ticket.
    pub(super) fn open_input(&mut self, kind: InputKind) {
        let Some(ticket) = self.selected_ticket() else {
            self.say(Level::Error, "no ticket selected");
            return;
        };
        let text = match kind {
            InputKind::Title => single_line_area(&ticket.title),
            InputKind::Category => single_line_area(ticket.category.as_deref().unwrap_or("")),
            InputKind::Note | InputKind::Search => {
                let mut t = TextArea::default();
                t.set_placeholder_text(
                    "alt-enter: new line · ctrl-e: $EDITOR · enter: save · esc: cancel",
                );
                t
            }
            InputKind::Description => {
                let mut t = TextArea::new(ticket.description.lines().map(str::to_owned).collect());
                t.move_cursor(ratatui_textarea::CursorMove::Bottom);
                t.move_cursor(ratatui_textarea::CursorMove::End);
                t.set_placeholder_text(
                    "alt-enter: new line · ctrl-e: $EDITOR · enter: save · esc: cancel",
                );
                t
            }
            InputKind::Tags => single_line_area(&ticket.tags.join(", ")),
            InputKind::Reference => single_line_area(&ticket.reference),
            InputKind::PendingUntil => {
                let shown = ticket
                    .pending_until
                    .map(|t| {
                        t.with_timezone(&self.tz)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default();
                let mut t = single_line_area(&shown);
                t.set_placeholder_text("2d · 4h · 2026-12-01 09:00 · empty: wait for nothing");
                t
            }
            InputKind::Escalate => {
                let mut t = TextArea::default();
                t.set_placeholder_text(
                    "vendor@example.com, boss@example.com ⏎ a note (alt-enter: new line) · enter: send",
                );
                t
            }
        };
        let original = text.lines().join("\n");
        self.modal = Some(Modal::Input(Input {
            kind,
            text,
            ticket: Some(ticket.id),
            original,
        }));
    }

    /// Opens the search field on the current search.
    pub(super) fn open_search(&mut self) {
        let current = self.list.query.to_string();
        let mut text = single_line_area(&current);
        text.set_placeholder_text("status:open op:me priority>=high cat:billing words…");
        self.modal = Some(Modal::Input(Input {
            kind: InputKind::Search,
            text,
            ticket: None,
            original: current,
        }));
    }

    /// A key that is text for the open field; the search narrows the list as it is typed.
    pub(super) fn prompt_key(&mut self, key: KeyEvent) {
        let Some(Modal::Input(input)) = &mut self.modal else {
            return;
        };
        input.text.input(key);
        if input.kind == InputKind::Search {
            let typed = input.text.lines().join(" ");
            self.search_typed(&typed);
        }
    }

    /// The search field holds a query: a valid one applies at once; one that
    /// does not parse leaves the list as it was and says why, pointing at
    /// the token.
    pub(super) fn search_typed(&mut self, text: &str) {
        match crate::query::lang::parse(text) {
            Ok(query) => {
                self.list.query = query;
                self.list.query_error = None;
                self.refresh_view();
            }
            Err(e) => self.list.query_error = Some(e),
        }
    }

    /// Keys in the field.
    pub(super) fn input_action(&mut self, action: Action, effects: &mut Vec<Effect>) {
        let Some(Modal::Input(input)) = &mut self.modal else {
            return;
        };
        match action {
            Action::Cancel => {
                if input.kind == InputKind::Search {
                    // The list narrowed while typing; cancelling puts the search back as it was.
                    let original = input.original.clone();
                    self.search_typed(&original);
                }
                self.modal = None;
            }
            Action::Newline if input.kind.multi_line() => input.text.insert_newline(),
            Action::ExternalEditor if input.kind.multi_line() => {
                effects.push(Effect::Editor(input.text.lines().join("\n")));
            }
            Action::Complete if input.kind == InputKind::Tags => {
                let typed = input.text.lines().join("");
                if let Some(done) = complete_tag(self.meta.as_ref(), &typed) {
                    input.text = single_line_area(&done);
                }
            }
            Action::Complete if input.kind == InputKind::Category => {
                let typed = input.text.lines().join("");
                if let Some(name) = complete_category(self.meta.as_ref(), &typed) {
                    input.text = single_line_area(&name);
                }
            }
            Action::Confirm => {
                let Some(Modal::Input(input)) = self.modal.take() else {
                    return;
                };
                self.submit_input(input, effects);
            }
            _ => {}
        }
    }

    fn submit_input(&mut self, input: Input, effects: &mut Vec<Effect>) {
        let text = input.text.lines().join("\n");
        let trimmed = text.trim();
        if input.kind == InputKind::Search {
            self.search_typed(trimmed);
            if let Some(e) = &self.list.query_error {
                // Keep the field open on the mistake rather than lose what was typed.
                let message = format!("query: {} (at column {})", e.message, e.span.start + 1);
                self.modal = Some(Modal::Input(input));
                self.say(Level::Error, message);
            }
            return;
        }
        let Some(id) = input.ticket else {
            return;
        };
        let Some(ticket) = self.tickets.shown(id) else {
            self.say(Level::Error, "that ticket is gone");
            return;
        };
        match input.kind {
            InputKind::Title => {
                if trimmed.is_empty() {
                    self.say(Level::Error, "a title cannot be empty");
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if trimmed.chars().count() > deskterm_api::TITLE_MAX_CHARS {
                    self.say(
                        Level::Error,
                        format!(
                            "a title has at most {} characters",
                            deskterm_api::TITLE_MAX_CHARS
                        ),
                    );
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if trimmed != ticket.title {
                    let patch = TicketPatch {
                        title: Some(trimmed.to_owned()),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Category => {
                let new = (!trimmed.is_empty()).then(|| trimmed.to_owned());
                self.change_tickets(TicketOp::Category(new), effects);
            }
            InputKind::Note => {
                if trimmed.is_empty() {
                    self.say(Level::Info, "empty note not added");
                    return;
                }
                self.write(
                    Write::AddNote {
                        ticket: id,
                        body: trimmed.to_owned(),
                    },
                    effects,
                );
            }
            InputKind::Description => {
                // Trailing blank lines only; the text is the operator's.
                let description = text.trim_end().to_owned();
                if description.chars().count() > deskterm_api::BODY_MAX_CHARS {
                    self.say(
                        Level::Error,
                        format!(
                            "a description has at most {} characters",
                            deskterm_api::BODY_MAX_CHARS
                        ),
                    );
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if description != ticket.description {
                    let patch = TicketPatch {
                        description: Some(description),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Tags => {
                let tags = parse_tags(trimmed);
                if tags != ticket.tags {
                    let patch = TicketPatch {
                        tags: Some(tags),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Reference => {
                if trimmed.is_empty() {
                    self.say(Level::Error, "a reference cannot be empty");
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if let Some(other) = self
                    .tickets
                    .by_reference(trimmed)
                    .filter(|other| *other != id)
                {
                    let other = self
                        .tickets
                        .shown(other)
                        .map(|t| t.title)
                        .unwrap_or_default();
                    self.say(
                        Level::Error,
                        format!("the reference {trimmed} is taken by “{other}”"),
                    );
                    self.modal = Some(Modal::Input(input));
                    return;
                }
                if trimmed != ticket.reference {
                    let patch = TicketPatch {
                        reference: Some(trimmed.to_owned()),
                        ..Default::default()
                    };
                    self.write_patch(id, patch, effects);
                }
            }
            InputKind::Escalate => match parse_escalation(&text) {
                Ok((to, note)) => self.write(
                    Write::Escalate {
                        ticket: id,
                        to,
                        note,
                    },
                    effects,
                ),
                Err(e) => {
                    self.say(Level::Error, e);
                    self.modal = Some(Modal::Input(input));
                }
            },
            InputKind::PendingUntil => match parse_until(trimmed, self.now, self.tz) {
                Ok(until) => {
                    if until != ticket.pending_until {
                        let patch = TicketPatch {
                            pending_until: Some(until),
                            ..Default::default()
                        };
                        self.write_patch(id, patch, effects);
                    }
                }
                Err(e) => {
                    self.say(Level::Error, e);
                    self.modal = Some(Modal::Input(input));
                }
            },
            InputKind::Search => {}
        }
    }

    /// `$EDITOR` gave back the text of the open field (or failed: the field
    /// keeps what it had).
    pub(super) fn edited(&mut self, result: Result<String, String>) {
        match (result, &mut self.modal) {
            (Ok(text), Some(Modal::Input(input))) if input.kind.multi_line() => {
                let text = crate::sanitize::text(&text);
                let mut area = TextArea::new(text.lines().map(str::to_owned).collect());
                area.move_cursor(ratatui_textarea::CursorMove::Bottom);
                area.move_cursor(ratatui_textarea::CursorMove::End);
                input.text = area;
                self.say_info("edited in $EDITOR: enter saves, esc cancels");
            }
            (Ok(_), _) => self.say_error("the field closed while the editor was open"),
            (Err(e), _) => self.say_error(format!("{e}; the text is as it was")),
        }
    }
}

/// Tags typed as `a, b c, d`: trimmed, blanks dropped, each once, in order.
/// The time a ticket waits until, from what was typed: empty for none, a
/// span from now (`90m`, `4h`, `2d`), or a date and time in the operator's
/// time zone (`2026-12-01 09:00`; a date alone means 09:00). It must be
/// in the future.
pub(super) fn parse_until(
    typed: &str,
    now: chrono::DateTime<chrono::Utc>,
    tz: chrono::FixedOffset,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let span = typed
        .strip_suffix(['m', 'h', 'd'])
        .and_then(|n| n.trim().parse::<i64>().ok())
        .filter(|n| (1..=100_000).contains(n))
        .map(|n| match typed.chars().last() {
            Some('m') => chrono::Duration::minutes(n),
            Some('h') => chrono::Duration::hours(n),
            _ => chrono::Duration::days(n),
        });
    let until = if let Some(span) = span {
        now + span
    } else {
        let local = NaiveDateTime::parse_from_str(typed, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M"))
            .or_else(|_| {
                NaiveDate::parse_from_str(typed, "%Y-%m-%d")
                    .map(|d| d.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()))
            })
            .map_err(|_| format!("“{typed}” is not a time: write 4h, 2d or 2026-12-01 09:00"))?;
        tz.from_local_datetime(&local)
            .single()
            .ok_or_else(|| format!("“{typed}” is not a time in this time zone"))?
            .with_timezone(&Utc)
    };
    if until <= now {
        return Err(format!("“{typed}” is already past"));
    }
    Ok(Some(until))
}

/// Most addresses one escalation goes to (the reference server's limit).
const ESCALATION_MAX_RECIPIENTS: usize = 20;

/// The addresses (first line: separated by commas, semicolons or spaces)
/// and the note (the lines below, if any) of an escalation field; an
/// error names what is wrong.
pub(super) fn parse_escalation(text: &str) -> Result<(Vec<String>, Option<String>), String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut to: Vec<String> = Vec::new();
    for address in first
        .split([',', ';', ' ', '\t'])
        .map(|a| a.trim_matches(['<', '>']))
        .filter(|a| !a.is_empty())
    {
        let shaped = address.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.ends_with('.')
        });
        if !shaped {
            return Err(format!("“{address}” is not an e-mail address"));
        }
        if !to.iter().any(|t| t.eq_ignore_ascii_case(address)) {
            to.push(address.to_owned());
        }
    }
    if to.is_empty() {
        return Err("write the e-mail addresses on the first line".to_owned());
    }
    if to.len() > ESCALATION_MAX_RECIPIENTS {
        return Err(format!(
            "at most {ESCALATION_MAX_RECIPIENTS} addresses at once"
        ));
    }
    let note = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
    Ok((to, (!note.is_empty()).then_some(note)))
}

pub(super) fn parse_tags(typed: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in typed.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

/// The typed tags with the last one completed from the known tags.
pub(super) fn complete_tag(meta: Option<&Meta>, typed: &str) -> Option<String> {
    let (done, last) = match typed.rsplit_once(',') {
        Some((done, last)) => (Some(done), last.trim()),
        None => (None, typed.trim()),
    };
    let last = last.to_lowercase();
    let found = meta?
        .tags
        .iter()
        .find(|t| t.to_lowercase().starts_with(&last))?;
    Some(match done {
        Some(done) => format!("{done}, {found}"),
        None => found.clone(),
    })
}

/// The first known category starting with what was typed (case-insensitively).
fn complete_category(meta: Option<&Meta>, typed: &str) -> Option<String> {
    let typed = typed.trim().to_lowercase();
    meta?
        .categories
        .iter()
        .find(|c| c.name.to_lowercase().starts_with(&typed))
        .map(|c| c.name.clone())
}

fn single_line_area(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.replace('\n', " ")]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

/// Draws the field when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Input(input)) = &app.modal else {
        return;
    };
    let lines = input.text.lines().len() as u16;
    let height = if input.kind.multi_line() {
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
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(format!(" {} ", input.kind.title()));
    // A query that does not parse: what is wrong and where, under the field.
    let error = (input.kind == InputKind::Search)
        .then_some(app.list.query_error.as_ref())
        .flatten();
    if let Some(e) = error {
        let typed = input.text.lines().join(" ");
        let column = typed.get(..e.span.start).map_or(0, |s| s.chars().count()) + 1;
        block = block.title_bottom(ratatui::text::Line::styled(
            format!(" column {column}: {} ", crate::sanitize::line(&e.message)),
            theme::error(),
        ));
    }
    text.set_block(block);
    frame.render_widget(Clear, area);
    frame.render_widget(&text, area);
}
