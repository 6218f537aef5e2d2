//! The ticket list pane: its actions (moving, sorting, clearing filters) and
//! its drawing, which builds only the rows on screen. Its state is
//! [`ListModel`](super::list_model::ListModel).

use deskterm_api::{SortField, Ticket};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::action::Action;
use super::app::{App, Level, Pane};
use super::layout;
use super::list_model::Scope;
use super::render::pane_block;
use super::theme;
use crate::query::lang::Query;
use crate::query::{Sla, sla};

impl App {
    /// Moves the selection; the detail and chat of the next ticket start at the top.
    pub(super) fn list_motion(&mut self, action: Action) {
        let height = self.list_height();
        self.list.move_selection(&self.tickets, action, height);
        self.detail.scroll = 0;
        self.chat.scroll = 0;
    }

    /// Reverses the sort direction.
    pub(super) fn reverse_sort(&mut self) {
        self.list.sort.descending = !self.list.sort.descending;
        self.refresh_view();
    }

    /// Drops every filter and the search.
    pub(super) fn clear_filters(&mut self) {
        self.list.query = Query::default();
        self.refresh_view();
        self.say(Level::Info, "filters cleared");
    }

    /// How many rows the list shows on this terminal.
    pub(super) fn list_height(&self) -> usize {
        layout::list_rows(self.size.0, self.size.1)
    }

    /// Scrolls the list so that the selected row is on screen.
    pub(super) fn keep_selection_visible(&mut self) {
        let height = self.list_height();
        self.list.keep_visible(height);
    }

    /// Recomputes the list after tickets, sort or filters changed, keeping the
    /// same ticket selected when it is still listed.
    pub(super) fn refresh_view(&mut self) {
        let scope = Scope {
            meta: self.meta.as_ref(),
            me: self.me.as_ref().map(|m| m.id),
            now: self.now.timestamp(),
            utc_offset: self.tz.local_minus_utc(),
            height: self.list_height(),
        };
        self.list.refresh(&self.tickets, scope);
    }
}

/// The column header of a sort field.
pub fn column_title(field: SortField) -> &'static str {
    match field {
        SortField::Reference => "Reference",
        SortField::Title => "Title",
        SortField::Status => "Status",
        SortField::Priority => "Priority",
        SortField::Category => "Category",
        SortField::Operator => "Operator",
        SortField::Contact => "Contact",
        SortField::Created => "Created",
        SortField::Updated => "Updated",
    }
}

/// A list column: the sort field it shows and its width (`None` = takes the rest).
struct Column {
    field: SortField,
    width: Option<u16>,
}

/// Columns in the order they are dropped last-first when the terminal is narrow.
const COLUMNS: [Column; 8] = [
    Column {
        field: SortField::Reference,
        width: Some(10),
    },
    Column {
        field: SortField::Title,
        width: None,
    },
    Column {
        field: SortField::Status,
        width: Some(13),
    },
    Column {
        field: SortField::Priority,
        width: Some(10),
    },
    Column {
        field: SortField::Operator,
        width: Some(14),
    },
    Column {
        field: SortField::Updated,
        width: Some(11),
    },
    Column {
        field: SortField::Category,
        width: Some(14),
    },
    Column {
        field: SortField::Contact,
        width: Some(16),
    },
];

/// Narrowest title worth showing before other columns are dropped.
const MIN_TITLE: u16 = 24;
/// The flag column: marked or important, and SLA.
const FLAGS: u16 = 2;

/// Which columns fit in `width`, in display order.
fn visible_columns(width: u16) -> Vec<&'static Column> {
    let inner = width.saturating_sub(2);
    let mut shown: Vec<&Column> = Vec::new();
    let mut used = FLAGS + 1 + MIN_TITLE;
    for column in &COLUMNS {
        match column.width {
            None => shown.push(column),
            Some(w) if used + w < inner || shown.len() < 2 => {
                used += w + 1;
                shown.push(column);
            }
            Some(_) => {}
        }
    }
    // Keep the table in the canonical column order whatever was dropped.
    let order = [
        SortField::Reference,
        SortField::Title,
        SortField::Status,
        SortField::Priority,
        SortField::Category,
        SortField::Operator,
        SortField::Contact,
        SortField::Updated,
    ];
    order
        .iter()
        .filter_map(|f| shown.iter().find(|c| c.field == *f).copied())
        .collect()
}

/// Draws the list into `area`.
pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let mut title = vec![Span::raw(" Tickets ")];
    if let Some(loading) = app.loading {
        let text = match loading.total {
            Some(total) => format!("loading {} of {} ", loading.done, total),
            None => format!("loading {} ", loading.done),
        };
        title.push(Span::styled(text, theme::dim()));
    }
    let title = Line::from(title);
    let block = pane_block(app, Pane::List, title);
    if !app.loaded {
        frame.render_widget(
            Paragraph::new(Span::styled("loading tickets…", theme::dim())).block(block),
            area,
        );
        return;
    }
    let list = &app.list;
    if list.is_empty() {
        let text = if app.total() == 0 {
            "no tickets yet"
        } else {
            "no ticket matches the filters (x clears them)"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme::dim())).block(block),
            area,
        );
        return;
    }
    let columns = visible_columns(area.width);
    let header = Row::new(
        std::iter::once(Cell::from("")).chain(columns.iter().map(|c| {
            let mut name = column_title(c.field).to_owned();
            if c.field == list.sort.field {
                name.push_str(if list.sort.descending { " ▼" } else { " ▲" });
            }
            Cell::from(name)
        })),
    )
    .style(theme::label());
    let height = area.height.saturating_sub(3) as usize;
    let offset = list.offset();
    let shown: Vec<Ticket> = list
        .ids_at(&app.tickets, offset, height)
        .into_iter()
        .filter_map(|id| app.tickets.shown(id))
        .collect();
    let rows = shown.iter().enumerate().map(|(i, t)| {
        let row = row(app, t, &columns);
        if offset + i == list.selected() {
            row.style(theme::selected_row())
        } else {
            row
        }
    });
    let widths =
        std::iter::once(Constraint::Length(FLAGS)).chain(columns.iter().map(|c| match c.width {
            Some(w) => Constraint::Length(w),
            None => Constraint::Min(MIN_TITLE.min(area.width / 3)),
        }));
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn row<'a>(app: &'a App, t: &'a Ticket, columns: &[&Column]) -> Row<'a> {
    let pending = app.tickets.has_pending_patch(t.id);
    let macro_status = app
        .meta
        .as_ref()
        .and_then(|m| m.statuses.iter().find(|s| s.key == t.status))
        .map(|s| s.macro_status);
    let flags = Line::from(vec![
        // A mark for a bulk change shows over the important flag (the
        // detail pane still shows that one).
        if app.list.is_marked(t.id) {
            Span::styled("*", theme::marked())
        } else if t.important {
            Span::styled("!", theme::priority(deskterm_api::Priority::Urgent))
        } else {
            Span::raw(" ")
        },
        match sla(t, app.meta.as_ref(), app.now) {
            Some(Sla::Breached) => {
                Span::styled("●", theme::priority(deskterm_api::Priority::Urgent))
            }
            Some(Sla::AtRisk) => Span::styled("●", theme::priority(deskterm_api::Priority::High)),
            _ => Span::raw(" "),
        },
    ]);
    let cells = std::iter::once(Cell::from(flags)).chain(columns.iter().map(|c| match c.field {
        SortField::Reference => Cell::from(t.reference.as_str()),
        SortField::Title => Cell::from(if pending {
            Span::styled(format!("{} ✎", t.title), theme::pending())
        } else {
            Span::raw(t.title.as_str())
        }),
        SortField::Status => Cell::from(Span::styled(
            app.status_label(&t.status),
            theme::status(macro_status),
        )),
        SortField::Priority => Cell::from(Span::styled(
            t.priority.as_str(),
            theme::priority(t.priority),
        )),
        SortField::Category => Cell::from(t.category.as_deref().unwrap_or("—")),
        SortField::Operator => Cell::from(match &t.operator {
            Some(o) => Span::raw(o.name.as_str()),
            None => Span::styled("unassigned", theme::dim()),
        }),
        SortField::Contact => Cell::from(t.contact.name.as_str()),
        SortField::Created => Cell::from(short_time(app, t.created_at)),
        SortField::Updated => Cell::from(short_time(app, t.updated_at)),
    }));
    let style = if app.list.is_marked(t.id) {
        theme::marked()
    } else {
        Style::new()
    };
    Row::new(cells).style(style)
}

fn short_time(app: &App, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&app.tz).format("%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_keep_the_essentials() {
        let fields = |w| {
            visible_columns(w)
                .iter()
                .map(|c| c.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(80),
            vec![
                SortField::Reference,
                SortField::Title,
                SortField::Status,
                SortField::Priority,
                SortField::Operator
            ]
        );
        assert_eq!(fields(200).len(), 8);
        assert!(fields(20).contains(&SortField::Title));
    }
}
