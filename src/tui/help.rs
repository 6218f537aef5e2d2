//! The help screen, generated from the keymap: what it lists is what the keys do.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{App, Modal};
use super::popup::centered;
use super::theme;

/// Draws the help over everything when it is open.
pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let Some(Modal::Help { scroll }) = &app.modal else {
        return;
    };
    let lines = lines(app);
    let area = centered(frame.area(), 84, frame.area().height.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Keys — ? or esc closes, j/k scroll ");
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((*scroll, 0)),
        area,
    );
}

/// The help text: one section per context, one line per action.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (context, actions) in app.keymap.describe() {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(
            format!("[{}]", context.name()),
            theme::label(),
        )));
        for (action, keys) in actions {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<18}", keys.join(" ")), theme::outbound()),
                Span::styled(format!("{:<16}", action.name()), theme::dim()),
                Span::raw(action.about()),
            ]));
        }
    }
    lines
}
