//! The detail pane: every field of the selected ticket, then its internal notes.

use std::collections::HashMap;

use deskterm_api::{MacroStatus, Note, TicketId};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::action::Action;
use super::app::{App, Pane};
use super::extras::{self, Extras, Tab};
use super::keymap::Context;
use super::layout::scrolled;
use super::render::{pane_block, when};
use super::theme;
use super::wrap::{cut_lines, push_wrapped};
use crate::query::{Sla, sla};
use crate::sync::Write;

/// The detail pane's state.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    /// Notes by ticket, oldest first.
    pub notes: HashMap<TicketId, Vec<Note>>,
    /// Lines scrolled.
    pub scroll: u16,
    /// What the pane shows: the fields, the history, the previous tickets.
    pub tab: Tab,
    /// The history and the customer's previous tickets.
    pub extras: Extras,
}

impl Detail {
    /// Shows `tab`, or the fields when it is shown already.
    pub fn toggle(&mut self, tab: Tab) {
        self.show(if self.tab == tab { Tab::Fields } else { tab });
    }

    /// Shows `tab` from its top, read afresh.
    pub fn show(&mut self, tab: Tab) {
        self.tab = tab;
        self.scroll = 0;
        self.extras.forget();
    }

    /// Scrolls for a motion action.
    pub fn scroll_by(&mut self, action: Action) {
        self.scroll = scrolled(self.scroll, action, false);
    }

    /// A note arrived from the feed or as the answer to a write; kept once.
    pub fn note_added(&mut self, note: Note) {
        let list = self.notes.entry(note.ticket_id).or_default();
        if !list.iter().any(|n| n.id == note.id) {
            list.push(note);
            list.sort_by_key(|n| (n.created_at, n.id));
        }
    }
}

/// Draws the detail of the selected ticket into `area`.
pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let Some(t) = app.selected_ticket() else {
        let block = pane_block(app, Pane::Detail, Line::from(" Ticket "));
        frame.render_widget(
            Paragraph::new(Span::styled("no ticket selected", theme::dim())).block(block),
            area,
        );
        return;
    };
    if app.detail.tab != Tab::Fields {
        let title = Line::from(vec![
            Span::raw(format!(" {} · ", t.reference)),
            Span::styled(
                format!("{} ", extras::title(app.detail.tab)),
                theme::label(),
            ),
        ]);
        let block = pane_block(app, Pane::Detail, title);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match app.detail.tab {
            Tab::History => extras::draw_history(app, &t, frame, inner),
            _ => extras::draw_previous(app, &t, frame, inner),
        }
        return;
    }
    let block = pane_block(app, Pane::Detail, Line::from(format!(" {} ", t.reference)));
    let status = app
        .meta
        .as_ref()
        .and_then(|m| m.statuses.iter().find(|s| s.key == t.status));
    let macro_label = match status.map(|s| s.macro_status) {
        Some(MacroStatus::InProgress) => " (in progress)",
        Some(MacroStatus::Closed) => " (closed)",
        None => "",
    };
    let field = |name: &'static str, value: Span<'static>| {
        Line::from(vec![
            Span::styled(format!("{name:<10}"), theme::label()),
            value,
        ])
    };
    let mut lines = vec![
        Line::from(Span::styled(t.title.clone(), theme::label())),
        field(
            "Status",
            Span::styled(
                format!("{}{macro_label}", app.status_label(&t.status)),
                theme::status(status.map(|s| s.macro_status)),
            ),
        ),
        field(
            "Priority",
            Span::styled(t.priority.as_str(), theme::priority(t.priority)),
        ),
        field(
            "Category",
            Span::raw(t.category.clone().unwrap_or_else(|| "—".into())),
        ),
        field(
            "Operator",
            match &t.operator {
                Some(o) => Span::raw(o.name.clone()),
                None => Span::styled("unassigned", theme::dim()),
            },
        ),
        field("Contact", Span::raw(contact_line(&t))),
        field("Channel", Span::raw(t.channel.clone())),
    ];
    if !t.tags.is_empty() {
        lines.push(field("Tags", Span::raw(t.tags.join(", "))));
    }
    if t.important {
        lines.push(field(
            "Important",
            Span::styled("yes", theme::priority(deskterm_api::Priority::Urgent)),
        ));
    }
    if let Some(due) = t.sla_due_at {
        let state = sla(&t, app.meta.as_ref(), app.now);
        let style = match state {
            Some(Sla::Breached) => theme::priority(deskterm_api::Priority::Urgent),
            Some(Sla::AtRisk) => theme::priority(deskterm_api::Priority::High),
            _ => theme::dim(),
        };
        let label = state
            .map(|s| format!(" ({}, {})", s.label(), time_left(due - app.now)))
            .unwrap_or_default();
        lines.push(field(
            "SLA due",
            Span::styled(format!("{}{label}", when(app, due)), style),
        ));
    }
    if let Some(until) = t.pending_until {
        lines.push(field(
            "Waits until",
            Span::raw(format!(
                "{} ({})",
                when(app, until),
                time_left(until - app.now)
            )),
        ));
    }
    lines.push(field("Created", Span::raw(when(app, t.created_at))));
    lines.push(field("Updated", Span::raw(when(app, t.updated_at))));
    if let Some(closed) = t.closed_at {
        lines.push(field("Closed", Span::raw(when(app, closed))));
    }
    if !t.description.is_empty() {
        lines.push(Line::default());
        lines.extend(t.description.lines().map(|l| Line::from(l.to_owned())));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Fields above, notes below: both in sight, as the operator edits one and reads the other.
    let notes_height = if inner.height >= 14 {
        inner.height * 2 / 5
    } else {
        inner.height / 3
    };
    let [fields_area, notes_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(notes_height)]).areas(inner);
    let lines = cut_lines(lines, usize::from(fields_area.width));
    frame.render_widget(
        Paragraph::new(lines).scroll((app.detail.scroll, 0)),
        fields_area,
    );
    draw_notes(app, t.id, frame, notes_area);
}

/// Internal notes, newest at the bottom, notes being saved last.
fn draw_notes(app: &App, ticket: TicketId, frame: &mut Frame<'_>, area: Rect) {
    let notes = app.detail.notes.get(&ticket);
    let pending: Vec<_> = app.tickets.pending_notes(ticket).collect();
    let count = notes.map(Vec::len).unwrap_or(0) + pending.len();
    let key = app
        .keymap
        .key_for(Context::Global, Action::AddNote)
        .map(|k| format!(" · {k} adds one "))
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme::border())
        .title(Line::from(vec![
            Span::styled(format!(" Internal notes ({count}) "), theme::label()),
            Span::styled(key, theme::dim()),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width.max(1));
    let mut lines: Vec<Line<'static>> = Vec::new();
    if notes.is_none() && pending.is_empty() {
        lines.push(Line::styled("loading…", theme::dim()));
    } else if count == 0 {
        lines.push(Line::styled("no notes yet", theme::dim()));
    }
    for note in notes.into_iter().flatten() {
        lines.push(Line::from(vec![
            Span::styled(note.author.name.clone(), theme::outbound()),
            Span::styled(format!("  {}", when(app, note.created_at)), theme::dim()),
        ]));
        push_wrapped(&mut lines, &note.body, width, Style::new());
    }
    for p in pending {
        if let Write::AddNote { body, .. } = &p.write {
            let author = p
                .author
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(author, theme::pending()),
                Span::styled("  saving…", theme::pending()),
            ]));
            push_wrapped(&mut lines, body, width, theme::pending());
        }
    }
    let start = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(Paragraph::new(lines[start..].to_vec()), inner);
}

/// How long until a due time, or since it passed: `2d 4h left`, `35m left`,
/// `2h 5m ago`.
pub fn time_left(left: chrono::Duration) -> String {
    let (minutes, suffix) = if left.num_seconds() >= 0 {
        ((left.num_seconds() + 59) / 60, "left")
    } else {
        (-left.num_seconds() / 60, "ago")
    };
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let amount = match (days, hours) {
        (0, 0) => format!("{mins}m"),
        (0, h) => format!("{h}h {mins}m"),
        (d, h) => format!("{d}d {h}h"),
    };
    format!("{amount} {suffix}")
}

fn contact_line(t: &deskterm_api::Ticket) -> String {
    let mut s = t.contact.name.clone();
    for extra in [&t.contact.phone, &t.contact.email].into_iter().flatten() {
        s.push_str(" · ");
        s.push_str(extra);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::time_left;
    use chrono::Duration;

    #[test]
    fn time_left_reads_in_the_largest_units_that_matter() {
        assert_eq!(time_left(Duration::seconds(30)), "1m left");
        assert_eq!(time_left(Duration::minutes(35)), "35m left");
        assert_eq!(time_left(Duration::minutes(125)), "2h 5m left");
        assert_eq!(time_left(Duration::minutes(3 * 1440 + 61)), "3d 1h left");
        assert_eq!(time_left(Duration::minutes(-125)), "2h 5m ago");
        assert_eq!(time_left(Duration::seconds(-10)), "0m ago");
    }
}
