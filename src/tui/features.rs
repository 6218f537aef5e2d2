//! The one place the UI asks whether the backend offers a feature: keys,
//! panes and help lines of a feature the backend lacks are left out.

use ratatui::layout::Rect;

use super::action::Action;
use super::app::{App, Pane};
use super::keymap::Context;
use super::layout::Panes;
use crate::backend::Feature;

/// The feature an action needs, if any.
fn needs(action: Action) -> Option<Feature> {
    match action {
        Action::FocusChat | Action::Compose => Some(Feature::Chat),
        Action::History => Some(Feature::History),
        Action::Stats => Some(Feature::Statistics),
        Action::Escalate | Action::Profile => Some(Feature::Email),
        _ => None,
    }
}

impl App {
    /// Whether the backend offers `feature`.
    pub fn offers(&self, feature: Feature) -> bool {
        self.capabilities.has(feature)
    }

    /// Whether `action` does anything on this backend.
    pub fn offers_action(&self, action: Action) -> bool {
        needs(action).is_none_or(|f| self.offers(f))
    }

    /// Whether the keys of `context` apply on this backend (the chat and its
    /// composer only with chat).
    pub fn offers_context(&self, context: Context) -> bool {
        !matches!(context, Context::Chat | Context::Composer) || self.offers(Feature::Chat)
    }

    /// Whether `pane` is shown.
    pub(super) fn offers_pane(&self, pane: Pane) -> bool {
        pane != Pane::Chat || self.offers(Feature::Chat)
    }

    /// The panes as shown: without chat, the detail takes its place.
    pub(super) fn panes(&self, area: Rect) -> Panes {
        let mut panes = super::layout::panes(area);
        if !self.offers_pane(Pane::Chat) {
            panes.detail = panes.detail.union(panes.chat);
            panes.chat = Rect::default();
        }
        panes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Capabilities;

    #[test]
    fn without_chat_its_keys_pane_and_help_are_left_out() {
        let mut app = crate::tui::fixture::loaded_app(120, 40);
        let area = Rect::new(0, 0, 120, 40);
        assert!(app.offers_action(Action::Compose));
        assert!(app.panes(area).chat.width > 0);
        let with_chat = crate::tui::help::lines(&app).len();

        app.capabilities = Capabilities {
            chat: false,
            ..Capabilities::FULL
        };
        assert!(!app.offers_action(Action::Compose));
        assert!(!app.offers_action(Action::FocusChat));
        assert!(app.offers_action(Action::FocusDetail));
        assert!(!app.offers_context(Context::Chat));
        let panes = app.panes(area);
        assert_eq!(panes.chat.width, 0);
        assert_eq!(panes.detail.width, area.width, "the detail takes the room");
        let help: Vec<String> = crate::tui::help::lines(&app)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(help.len() < with_chat);
        assert!(
            !help
                .iter()
                .any(|l| l.contains("compose") || l.contains("[chat]")),
            "{help:#?}"
        );
    }
}
