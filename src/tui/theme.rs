//! Colours and styles, in one place.

use deskterm_api::{MacroStatus, Priority};
use ratatui::style::{Color, Modifier, Style};

/// Border of the focused pane.
pub fn focused_border() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

/// Border of other panes.
pub fn border() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// The border style for a pane or field, by whether it has the keyboard.
pub fn border_for(focused: bool) -> Style {
    if focused { focused_border() } else { border() }
}

/// Column headers and field labels.
pub fn label() -> Style {
    Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)
}

/// The selected list row.
pub fn selected_row() -> Style {
    Style::new()
        .bg(Color::Blue)
        .fg(Color::White)
        .add_modifier(Modifier::BOLD)
}

/// A row marked for a bulk change.
pub fn marked() -> Style {
    Style::new().add_modifier(Modifier::BOLD).fg(Color::Yellow)
}

/// Text that is not important right now.
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

/// Something the operator did that is not confirmed yet.
pub fn pending() -> Style {
    Style::new()
        .fg(Color::Yellow)
        .add_modifier(Modifier::ITALIC)
}

/// An error message.
pub fn error() -> Style {
    Style::new().fg(Color::White).bg(Color::Red)
}

/// A confirmation message.
pub fn info() -> Style {
    Style::new().fg(Color::Green)
}

/// Customer's chat lines.
pub fn inbound() -> Style {
    Style::new().fg(Color::White)
}

/// Operators' chat lines.
pub fn outbound() -> Style {
    Style::new().fg(Color::Cyan)
}

/// A priority, louder as it rises.
pub fn priority(p: Priority) -> Style {
    match p {
        Priority::Low => Style::new().fg(Color::DarkGray),
        Priority::Normal => Style::new(),
        Priority::High => Style::new().fg(Color::Yellow),
        Priority::Urgent => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

/// A status by its macro-status.
pub fn status(m: Option<MacroStatus>) -> Style {
    match m {
        Some(MacroStatus::Closed) => Style::new().fg(Color::DarkGray),
        _ => Style::new().fg(Color::Green),
    }
}
