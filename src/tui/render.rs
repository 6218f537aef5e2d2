//! Draws one frame from the state. Reads the state, never changes it.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::{App, Level, Pane};
use super::keymap::Context;
use super::list::column_title;
use super::{
    action::Action, chat, confirm, detail, help, list, new_ticket, palette, picker, prompt,
    resolve, theme,
};
use crate::sync::Connection;

/// Draws the whole screen.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let panes = app.panes(frame.area());
    header(app, frame, panes.header);
    list::draw(app, frame, panes.list);
    detail::draw(app, frame, panes.detail);
    if app.offers_pane(Pane::Chat) {
        chat::draw(app, frame, panes.chat);
    }
    status_bar(app, frame, panes.status);
    picker::draw(app, frame);
    prompt::draw(app, frame);
    palette::draw(app, frame);
    confirm::draw(app, frame);
    new_ticket::draw(app, frame);
    super::contact::draw(app, frame);
    super::statuses::draw(app, frame);
    super::stats::draw(app, frame);
    super::profile::draw(app, frame);
    resolve::draw(app, frame);
    help::draw(app, frame);
}

/// A bordered block, highlighted when its pane has focus.
pub(crate) fn pane_block(app: &App, pane: Pane, title: Line<'static>) -> Block<'static> {
    let focused = app.focus == pane && app.modal.is_none();
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border_for(focused))
        .title(title)
}

/// A time in the operator's time zone, `2026-11-22 10:31`.
pub(crate) fn when(app: &App, t: DateTime<Utc>) -> String {
    t.with_timezone(&app.tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn header(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let who = app.me.as_ref().map(|m| m.name.as_str()).unwrap_or("…");
    let sort = app.list.sort;
    let arrow = if sort.descending { "↓" } else { "↑" };
    let mut spans = vec![
        Span::styled(" deskterm ", Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(format!("{who} "), theme::dim()),
    ];
    if let Some(view) = app.view_name() {
        spans.push(Span::raw("│ view: "));
        spans.push(Span::styled(
            format!("{} ", crate::sanitize::line(view)),
            theme::label(),
        ));
    }
    spans.extend([
        Span::raw("│ sort: "),
        Span::styled(
            format!("{} {arrow}", column_title(sort.field).to_lowercase()),
            theme::label(),
        ),
        Span::raw(" │ filter: "),
    ]);
    let filters = filter_summary(app);
    spans.push(if filters.is_empty() {
        Span::styled("none", theme::dim())
    } else {
        Span::styled(filters, theme::label())
    });
    spans.push(Span::raw(format!(
        " │ {}/{} tickets",
        app.list.len(),
        app.total()
    )));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A duration, roughly: `12s`, `5m`, `3h`, `2d`.
fn ago(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// The list's query, as the search box prints it.
pub(crate) fn filter_summary(app: &App) -> String {
    app.list.query.to_string()
}

fn status_bar(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let since = app
        .status
        .last_sync
        .map(|t| format!(" · last sync {} ago", ago(app.now - t)))
        .unwrap_or_else(|| " · not synced yet".into());
    let (conn, conn_style) = match &app.status.connection {
        Connection::Connecting => (format!("connecting{since}"), theme::pending()),
        Connection::Connected => ("connected".to_owned(), theme::info()),
        Connection::Reconnecting { .. } => (format!("reconnecting{since}"), theme::error()),
        Connection::Offline { .. } => (format!("offline{since}"), theme::error()),
    };
    let mut spans = vec![Span::styled(format!(" {conn} "), conn_style)];
    let conflicts = app.tickets.conflict_count();
    // "pending" counts only what is safe on disk; the rest is still being saved.
    let saving = app.tickets.saving_count();
    let unsent = app.tickets.pending_count() - conflicts - saving;
    if saving > 0 {
        spans.push(Span::styled(format!(" {saving} saving "), theme::pending()));
    }
    if unsent > 0 {
        spans.push(Span::styled(
            format!(" {unsent} pending "),
            theme::pending(),
        ));
    }
    let marked = app.list.marked().len();
    if marked > 0 {
        spans.push(Span::styled(format!(" {marked} marked "), theme::label()));
    }
    if conflicts > 0 {
        let key = app
            .keymap
            .key_for(Context::Global, Action::Conflicts)
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(" {conflicts} conflict{key} "),
            theme::error(),
        ));
    }
    let message = match (&app.status.message, &app.status.connection) {
        (Some(m), _) => Some(m.clone()),
        (None, Connection::Reconnecting { reason } | Connection::Offline { reason }) => {
            Some((Level::Error, reason.clone()))
        }
        _ => None,
    };
    if let Some((level, text)) = message {
        let style = match level {
            Level::Info => theme::info(),
            Level::Error => theme::error(),
        };
        spans.push(Span::raw(" "));
        // Errors quote servers, URLs and customers' text: everything shown
        // here is cleaned here, whoever set it.
        spans.push(Span::styled(crate::sanitize::line(&text), style));
    }
    let help_key = app
        .keymap
        .key_for(Context::Global, Action::Help)
        .map(|k| format!(" {k} help "))
        .unwrap_or_default();
    let help_width = (help_key.chars().count() as u16).min(area.width);
    let left = Rect {
        width: area.width - help_width,
        ..area
    };
    let right = Rect {
        x: area.x + left.width,
        width: help_width,
        ..area
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Span::styled(help_key, theme::dim())), right);
}
