//! Where each pane goes. A pure function of the terminal size, shared by the
//! renderer and by `update` (which needs the list height to page and scroll).

use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    /// Title line: who, sort, filters, counts.
    pub header: Rect,
    /// Ticket list (with its border).
    pub list: Rect,
    /// Ticket detail and notes.
    pub detail: Rect,
    /// Chat and composer.
    pub chat: Rect,
    /// Status bar.
    pub status: Rect,
}

/// Splits the screen: header, list on top, detail and chat side by side
/// below, status bar at the bottom.
pub fn panes(area: Rect) -> Panes {
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Percentage(45),
            Constraint::Min(6),
            Constraint::Length(1),
        ])
        .split(area);
    let bottom = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
        .split(rows[2]);
    Panes {
        header: rows[0],
        list: rows[1],
        detail: bottom[0],
        chat: bottom[1],
        status: rows[3],
    }
}

/// How many ticket rows fit in the list: its height less the border and the column header.
pub fn list_rows(width: u16, height: u16) -> usize {
    let list = panes(Rect::new(0, 0, width, height)).list;
    usize::from(list.height.saturating_sub(3))
}
