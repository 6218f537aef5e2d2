//! The help screen, generated from the keymap: what it lists is what the keys do.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::action::Action;
use super::app::{App, Modal};
use super::popup::centered;
use super::theme;

impl App {
    /// Keys while the help is open: scrolling and closing; the rest is swallowed.
    pub(super) fn help_action(&mut self, action: Action) {
        let Some(Modal::Help { scroll }) = &mut self.modal else {
            return;
        };
        match action {
            Action::Down => *scroll = scroll.saturating_add(1),
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::PageDown => *scroll = scroll.saturating_add(10),
            Action::PageUp => *scroll = scroll.saturating_sub(10),
            Action::Cancel | Action::Help => self.modal = None,
            _ => {}
        }
    }
}

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
        // What the backend lacks is not offered.
        let actions: Vec<_> = actions
            .into_iter()
            .filter(|(action, _)| app.offers_action(*action))
            .collect();
        if actions.is_empty() || !app.offers_context(context) {
            continue;
        }
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
