//! Key bindings: which key runs which [`Action`] where.
//!
//! The defaults live in `assets/keymap.toml`; the config file can rebind or
//! unbind any key. The help screen is generated from the same table, so what
//! it lists is what the keys do.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// The default bindings.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a key is pressed; decides which table is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Anywhere outside a popup, after the pane's own table.
    Global,
    /// The ticket list has focus.
    List,
    /// The ticket detail has focus.
    Detail,
    /// The ticket detail has focus and shows the customer's previous tickets.
    Previous,
    /// The chat has focus.
    Chat,
    /// A choice popup (status, priority, operator, sort, filters).
    Picker,
    /// The help screen.
    Help,
    /// A one-off text field (title, category, note, search).
    Input,
    /// The command palette.
    Palette,
    /// The chat composer.
    Composer,
    /// A yes/no question.
    Confirm,
    /// Settling a conflict.
    Conflict,
    /// The new-ticket form.
    Form,
}

impl Context {
    /// Every context, in help order.
    pub const ALL: [Context; 13] = [
        Context::Global,
        Context::List,
        Context::Detail,
        Context::Previous,
        Context::Chat,
        Context::Picker,
        Context::Input,
        Context::Palette,
        Context::Composer,
        Context::Form,
        Context::Confirm,
        Context::Conflict,
        Context::Help,
    ];

    /// Section name in the keymap file.
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Detail => "detail",
            Context::Previous => "previous",
            Context::Chat => "chat",
            Context::Picker => "picker",
            Context::Help => "help",
            Context::Input => "input",
            Context::Palette => "palette",
            Context::Composer => "composer",
            Context::Confirm => "confirm",
            Context::Conflict => "conflict",
            Context::Form => "form",
        }
    }

    /// Whether the global table applies after this one.
    fn falls_back_to_global(self) -> bool {
        matches!(
            self,
            Context::List | Context::Detail | Context::Previous | Context::Chat
        )
    }
}

impl FromStr for Context {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Context::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown key context {s:?} (expected one of: {})",
                    Context::ALL.map(Context::name).join(", ")
                )
            })
    }
}

/// A key with its modifiers, as written in the keymap (`ctrl-c`, `alt-enter`, `G`, `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyName,
    ctrl: bool,
    alt: bool,
}

/// The key itself, without modifiers. Shift is part of the character (`G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyName {
    // Named keys first: hints on screen then say "esc" rather than "q".
    Named(&'static str),
    Char(char),
    F(u8),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("insert", KeyCode::Insert),
];

impl Key {
    /// The binding a terminal key event stands for, if it can be bound.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(' ') => KeyName::Named("space"),
            KeyCode::Char(c) => KeyName::Char(c),
            KeyCode::F(n) => KeyName::F(n),
            other => NAMED
                .iter()
                .find(|(_, code)| *code == other)
                .map(|(name, _)| KeyName::Named(name))?,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyName::Char(c),
            _ if rest == "space" => KeyName::Named("space"),
            _ => {
                if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    KeyName::F(n)
                } else {
                    NAMED
                        .iter()
                        .find(|(name, _)| *name == rest)
                        .map(|(name, _)| KeyName::Named(name))
                        .ok_or_else(|| format!("unknown key {s:?}"))?
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyName::Char(c) => write!(f, "{c}"),
            KeyName::Named(n) => f.write_str(n),
            KeyName::F(n) => write!(f, "f{n}"),
        }
    }
}

/// For the help screen: each context with its actions and the keys bound to them.
pub type KeymapDescription = Vec<(Context, Vec<(Action, Vec<Key>)>)>;

/// The bindings of every context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    tables: BTreeMap<Context, BTreeMap<Key, Action>>,
}

/// Bindings as written in TOML: context → key → action name (or `"none"` to unbind).
pub type KeymapSource = BTreeMap<String, BTreeMap<String, String>>;

impl Keymap {
    /// The built-in bindings.
    pub fn defaults() -> Result<Keymap, String> {
        let source: KeymapSource = toml::from_str(DEFAULT_KEYMAP)
            .map_err(|e| format!("the built-in keymap is broken: {e}"))?;
        let mut keymap = Keymap {
            tables: BTreeMap::new(),
        };
        keymap.apply(&source)?;
        Ok(keymap)
    }

    /// The built-in bindings with the user's overrides on top.
    pub fn with_overrides(overrides: &KeymapSource) -> Result<Keymap, String> {
        let mut keymap = Keymap::defaults()?;
        keymap.apply(overrides)?;
        Ok(keymap)
    }

    fn apply(&mut self, source: &KeymapSource) -> Result<(), String> {
        for (context, bindings) in source {
            let context: Context = context.parse()?;
            let table = self.tables.entry(context).or_default();
            for (key, action) in bindings {
                let key: Key = key
                    .parse()
                    .map_err(|e| format!("[keys.{}] {e}", context.name()))?;
                if action == "none" {
                    table.remove(&key);
                } else {
                    let action: Action = action
                        .parse()
                        .map_err(|e| format!("[keys.{}] {key:?}: {e}", context.name()))?;
                    table.insert(key, action);
                }
            }
        }
        Ok(())
    }

    /// The action a key runs in a context.
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        let own = self.tables.get(&context).and_then(|t| t.get(&key));
        own.copied().or_else(|| {
            if context.falls_back_to_global() {
                self.tables
                    .get(&Context::Global)
                    .and_then(|t| t.get(&key))
                    .copied()
            } else {
                None
            }
        })
    }

    /// For the help screen: each context with its actions and their keys.
    pub fn describe(&self) -> KeymapDescription {
        Context::ALL
            .into_iter()
            .filter_map(|context| {
                let table = self.tables.get(&context)?;
                let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
                for (key, action) in table {
                    by_action.entry(*action).or_default().push(*key);
                }
                (!by_action.is_empty()).then(|| (context, by_action.into_iter().collect()))
            })
            .collect()
    }

    /// The first key bound to an action in a context (for hints on screen).
    pub fn key_for(&self, context: Context, action: Action) -> Option<Key> {
        let find = |c: Context| {
            self.tables
                .get(&c)?
                .iter()
                .find(|(_, a)| **a == action)
                .map(|(k, _)| *k)
        };
        find(context).or_else(|| {
            if context.falls_back_to_global() {
                find(Context::Global)
            } else {
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn defaults_parse_and_cover_the_basics() {
        let k = Keymap::defaults().unwrap();
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.action(Context::List, &q), Some(Action::Quit));
        let help = press(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(k.action(Context::Chat, &help), Some(Action::Help));
        let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(k.action(Context::Detail, &ctrl_c), Some(Action::Quit));
        // Inside a text field letters are text, not commands.
        assert_eq!(k.action(Context::Composer, &q), None);
        let enter = press(KeyCode::Enter, KeyModifiers::NONE);
        assert_eq!(k.action(Context::Composer, &enter), Some(Action::Confirm));
    }

    #[test]
    fn every_action_that_needs_a_key_has_one() {
        let k = Keymap::defaults().unwrap();
        for action in Action::ALL {
            let bound = Context::ALL
                .iter()
                .any(|c| k.key_for(*c, *action).is_some());
            assert!(bound, "{action} has no default key");
        }
    }

    #[test]
    fn overrides_rebind_and_unbind() {
        let source: KeymapSource =
            toml::from_str("[list]\n\"x\" = \"quit\"\n\n[global]\n\"q\" = \"none\"\n").unwrap();
        let k = Keymap::with_overrides(&source).unwrap();
        let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(k.action(Context::List, &x), Some(Action::Quit));
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(k.action(Context::List, &q), None);
    }

    #[test]
    fn bad_overrides_say_what_is_wrong() {
        let bad_action: KeymapSource = toml::from_str("[list]\n\"x\" = \"fly\"\n").unwrap();
        let err = Keymap::with_overrides(&bad_action).unwrap_err();
        assert!(err.contains("fly"), "{err}");
        let bad_key: KeymapSource = toml::from_str("[list]\n\"hyper-x\" = \"quit\"\n").unwrap();
        assert!(
            Keymap::with_overrides(&bad_key)
                .unwrap_err()
                .contains("hyper-x")
        );
        let bad_context: KeymapSource = toml::from_str("[moon]\n\"x\" = \"quit\"\n").unwrap();
        assert!(
            Keymap::with_overrides(&bad_context)
                .unwrap_err()
                .contains("moon")
        );
    }

    #[test]
    fn key_names_round_trip() {
        for name in [
            "ctrl-c",
            "alt-enter",
            "G",
            "?",
            "space",
            "f5",
            "pagedown",
            "backtab",
        ] {
            let key: Key = name.parse().unwrap();
            assert_eq!(key.to_string(), name);
        }
    }
}
