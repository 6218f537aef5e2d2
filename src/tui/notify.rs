//! Telling the operator something happened while they look elsewhere: a
//! ticket assigned to them, or a customer of theirs writing. The terminal
//! rings its bell, shows a desktop notification (OSC 9, which terminals
//! such as iTerm2, kitty, WezTerm and foot show), or both, as configured.

use deskterm_api::{ChatMessage, Direction, Ticket};
use serde::Deserialize;

use super::app::{App, Effect};

/// How a notification reaches the operator (`[notify] how`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// The terminal's bell.
    #[default]
    Bell,
    /// A desktop notification through the terminal (OSC 9).
    Osc9,
    /// Both.
    Both,
    /// Nothing.
    Off,
}

/// What is notified, and how (`[notify]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// How.
    #[serde(default)]
    pub how: How,
    /// When a ticket is assigned to me by someone else.
    #[serde(default = "yes")]
    pub assigned: bool,
    /// When the customer of a ticket of mine writes.
    #[serde(default = "yes")]
    pub customer_writes: bool,
}

fn yes() -> bool {
    true
}

impl Default for Notify {
    fn default() -> Self {
        Notify {
            how: How::default(),
            assigned: true,
            customer_writes: true,
        }
    }
}

/// Longest notification text: desktop notifications are one short line.
const TEXT_MAX_CHARS: usize = 120;

impl Notify {
    /// The bytes that notify `text` on the terminal (nothing when off).
    pub fn bytes(&self, text: &str) -> Vec<u8> {
        // Customer text: one clean line, no escape can close the sequence early.
        let line: String = crate::sanitize::line(text)
            .chars()
            .filter(|c| !c.is_control())
            .take(TEXT_MAX_CHARS)
            .collect();
        let mut out = Vec::new();
        if matches!(self.how, How::Osc9 | How::Both) {
            out.extend_from_slice(b"\x1b]9;");
            out.extend_from_slice(line.as_bytes());
            out.push(0x07);
        }
        if matches!(self.how, How::Bell | How::Both) {
            out.push(0x07);
        }
        out
    }
}

impl App {
    /// A ticket changed on the server: notifies when it became mine by
    /// someone else's doing (my own assignment is waiting in the outbox).
    pub(super) fn notify_assignment(
        &self,
        before: Option<&Ticket>,
        after: &Ticket,
        effects: &mut Vec<Effect>,
    ) {
        let Some(me) = self.me.as_ref().map(|m| m.id) else {
            return;
        };
        let mine_now = after.operator.as_ref().is_some_and(|o| o.id == me);
        let mine_before = before.is_some_and(|t| t.operator.as_ref().is_some_and(|o| o.id == me));
        let by_me = self.tickets.has_pending_patch(after.id);
        if self.notify.assigned && self.notify.how != How::Off && mine_now && !mine_before && !by_me
        {
            effects.push(Effect::Notify(format!(
                "{} assigned to you: {}",
                after.reference, after.title
            )));
        }
    }

    /// A chat message arrived: notifies when it is a customer writing about
    /// a ticket of mine.
    pub(super) fn notify_message(&self, message: &ChatMessage, effects: &mut Vec<Effect>) {
        if !self.notify.customer_writes
            || self.notify.how == How::Off
            || message.direction != Direction::Inbound
        {
            return;
        }
        let Some(me) = self.me.as_ref().map(|m| m.id) else {
            return;
        };
        let Some(ticket) = message.ticket_id.and_then(|id| self.tickets.shown(id)) else {
            return;
        };
        if ticket.operator.as_ref().is_some_and(|o| o.id == me) {
            effects.push(Effect::Notify(format!(
                "{} ({}): {}",
                ticket.contact.name, ticket.reference, message.body
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_are_a_bell_an_osc_9_or_both_with_one_clean_line() {
        let text = "Núria: hola\u{1b}]0;pwned\u{7}\nsegunda línea";
        let bell = Notify::default().bytes(text);
        assert_eq!(bell, b"\x07");
        let osc = Notify {
            how: How::Osc9,
            ..Notify::default()
        }
        .bytes(text);
        let s = String::from_utf8(osc).unwrap();
        assert!(s.starts_with("\u{1b}]9;Núria: hola"), "{s:?}");
        assert!(s.ends_with('\u{7}'));
        // One terminator, no other control character inside.
        let inner = &s[4..s.len() - 1];
        assert!(!inner.chars().any(char::is_control), "{inner:?}");
        let off = Notify {
            how: How::Off,
            ..Notify::default()
        };
        assert!(off.bytes(text).is_empty());
        let both = Notify {
            how: How::Both,
            ..Notify::default()
        }
        .bytes("x");
        assert_eq!(both, b"\x1b]9;x\x07\x07");
    }

    #[test]
    fn the_config_section_reads_and_refuses_unknown_keys() {
        let n: Notify = toml::from_str("how = \"both\"\nassigned = false\n").unwrap();
        assert_eq!(n.how, How::Both);
        assert!(!n.assigned && n.customer_writes);
        assert!(toml::from_str::<Notify>("how = \"loud\"\n").is_err());
        assert!(toml::from_str::<Notify>("sound = true\n").is_err());
    }
}

#[cfg(test)]
mod app_tests {
    use deskterm_api::{ChatMessage, Direction, OperatorRef};

    use crate::sync::SyncEvent;
    use crate::tui::app::{Effect, Msg};
    use crate::tui::fixture::{self, loaded_app};

    fn notes(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Notify(text) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_ticket_assigned_to_me_by_someone_else_is_notified_once() {
        let mut app = loaded_app(120, 40);
        // Ticket 2 is unassigned; a colleague gives it to me (operator 1).
        let mut t = fixture::tickets()[1].clone();
        t.operator = Some(fixture::lucia());
        t.version += 1;
        let effects = app.update(Msg::Sync(SyncEvent::TicketChanged(t.clone())));
        assert_eq!(notes(&effects).len(), 1, "{effects:?}");
        assert!(notes(&effects)[0].contains(&t.reference));
        // The same ticket changed again, still mine: nothing new.
        t.version += 1;
        t.title = "Fattura duplicata (2)".into();
        assert!(notes(&app.update(Msg::Sync(SyncEvent::TicketChanged(t)))).is_empty());
        // Given to a colleague: nothing either.
        let mut other = fixture::tickets()[2].clone();
        other.operator = Some(OperatorRef {
            id: 2,
            name: "Marco Bianchi".into(),
        });
        other.version += 1;
        assert!(notes(&app.update(Msg::Sync(SyncEvent::TicketChanged(other)))).is_empty());
    }

    #[test]
    fn my_own_assignment_is_not_notified() {
        let mut app = loaded_app(120, 40);
        // Select ticket 2 (unassigned) and take it.
        app.update(Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('j'),
            crossterm::event::KeyModifiers::NONE,
        )));
        app.update(Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('a'),
            crossterm::event::KeyModifiers::NONE,
        )));
        let mut t = fixture::tickets()[1].clone();
        t.operator = Some(fixture::lucia());
        t.version += 1;
        assert!(notes(&app.update(Msg::Sync(SyncEvent::TicketChanged(t)))).is_empty());
    }

    #[test]
    fn a_customer_writing_about_my_ticket_is_notified_and_no_other() {
        let mut app = loaded_app(120, 40);
        let message = |ticket: i64, contact: i64, direction| ChatMessage {
            id: 100 + ticket,
            contact_id: contact,
            ticket_id: Some(ticket),
            direction,
            operator: None,
            body: "¿Hay novedades?".into(),
            channel: "whatsapp".into(),
            created_at: fixture::now(),
        };
        // Ticket 1 is mine (Núria's).
        let effects = app.update(Msg::Sync(SyncEvent::MessageAdded(message(
            1,
            1,
            Direction::Inbound,
        ))));
        assert_eq!(
            notes(&effects),
            vec!["Núria Puig (HD-000001): ¿Hay novedades?"]
        );
        // An answer going out, and a message on a colleague's ticket: nothing.
        let out = message(1, 1, Direction::Outbound);
        assert!(notes(&app.update(Msg::Sync(SyncEvent::MessageAdded(out)))).is_empty());
        let theirs = message(3, 3, Direction::Inbound);
        assert!(notes(&app.update(Msg::Sync(SyncEvent::MessageAdded(theirs)))).is_empty());
        // Turned off in the config: nothing.
        app.notify.customer_writes = false;
        let again = message(1, 1, Direction::Inbound);
        assert!(notes(&app.update(Msg::Sync(SyncEvent::MessageAdded(again)))).is_empty());
    }
}
