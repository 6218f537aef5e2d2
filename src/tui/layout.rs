//! Where each pane goes. A pure function of the terminal size, shared by the
//! renderer and by `update` (which needs the list height to page and scroll),
//! and how far a motion key scrolls a pane.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use super::action::Action;

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

/// A pane's scroll position after a motion action. `inverted` panes count
/// lines back from their bottom (the chat), so "down" brings them nearer 0.
pub fn scrolled(current: u16, action: Action, inverted: bool) -> u16 {
    let (down, up) = match action {
        Action::Down => (1, 0),
        Action::Up => (0, 1),
        Action::PageDown => (10, 0),
        Action::PageUp => (0, 10),
        Action::Top if inverted => (0, u16::MAX),
        Action::Top => return 0,
        Action::Bottom if inverted => return 0,
        Action::Bottom => (u16::MAX, 0),
        _ => (0, 0),
    };
    let (forward, back) = if inverted { (up, down) } else { (down, up) };
    current.saturating_add(forward).saturating_sub(back)
}
