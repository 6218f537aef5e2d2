//! One key from the bytes an xterm-like terminal sends for it, decoded as
//! crossterm decodes them, so the keymap sees the same `KeyEvent`s it always did.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

const ESC: u8 = 0x1b;

/// What a run of bytes is so far.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    /// A whole key.
    Key(KeyEvent),
    /// The start of a key: more bytes are needed.
    More,
    /// A whole sequence that is no key we use (a mouse or focus report, a
    /// terminal's answer, garbage): dropped.
    Ignore,
}

/// Decodes `bytes`, which start at a key's first byte. `more` says whether
/// further bytes may still belong to it: a lone ESC is the Esc key only once
/// the terminal has gone quiet.
pub(super) fn parse(bytes: &[u8], more: bool) -> Parsed {
    let Some(&first) = bytes.first() else {
        return Parsed::More;
    };
    match first {
        ESC => escape(bytes, more),
        b'\r' => key(KeyCode::Enter),
        b'\t' => key(KeyCode::Tab),
        0x7f => key(KeyCode::Backspace),
        // In raw mode `\n` is ctrl-j, as in crossterm.
        c @ 0x01..=0x1a => ctrl((c - 0x01 + b'a') as char),
        c @ 0x1c..=0x1f => ctrl((c - 0x1c + b'4') as char),
        0 => ctrl(' '),
        _ => utf8(bytes),
    }
}

fn key(code: KeyCode) -> Parsed {
    Parsed::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Parsed {
    Parsed::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn escape(bytes: &[u8], more: bool) -> Parsed {
    let Some(&second) = bytes.get(1) else {
        return if more {
            Parsed::More
        } else {
            key(KeyCode::Esc)
        };
    };
    match second {
        b'O' => match bytes.get(2) {
            None => Parsed::More,
            Some(b'R') => key(KeyCode::F(3)),
            Some(&last) => final_key(last).map_or(Parsed::Ignore, key),
        },
        b'[' => csi(bytes),
        ESC => key(KeyCode::Esc),
        // ESC before a key is that key with Alt.
        _ => match parse(&bytes[1..], more) {
            Parsed::Key(mut k) => {
                k.modifiers |= KeyModifiers::ALT;
                Parsed::Key(k)
            }
            other => other,
        },
    }
}

/// `ESC [` sequences: parameter bytes (0x30–0x3f), intermediate bytes
/// (0x20–0x2f), one final byte (0x40–0x7e).
fn csi(bytes: &[u8]) -> Parsed {
    let Some(&third) = bytes.get(2) else {
        return Parsed::More;
    };
    match third {
        // The Linux console's F1–F5.
        b'[' => match bytes.get(3) {
            None => Parsed::More,
            Some(&f @ b'A'..=b'E') => key(KeyCode::F(1 + f - b'A')),
            Some(_) => Parsed::Ignore,
        },
        // An X10 mouse report: three raw bytes follow.
        b'M' if bytes.len() < 6 => Parsed::More,
        b'Z' => Parsed::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
        0x20..=0x3f => {
            let last = bytes[bytes.len() - 1];
            if bytes.len() == 3 || !(0x40..=0x7e).contains(&last) {
                return Parsed::More;
            }
            // Private sequences (`<` mouse, `?` answers, …) are no keys.
            if !third.is_ascii_digit() && third != b';' {
                return Parsed::Ignore;
            }
            let params = &bytes[2..bytes.len() - 1];
            // `R` is a cursor position report, `u` the kitty protocol (not
            // enabled), `M` an rxvt mouse report: no keys.
            let code = match last {
                b'~' => tilde_key(params),
                _ => final_key(last),
            };
            match code {
                Some(code) => {
                    let (modifiers, kind) = modifiers_and_kind(params);
                    Parsed::Key(KeyEvent::new_with_kind(code, modifiers, kind))
                }
                None => Parsed::Ignore,
            }
        }
        _ => final_key(third).map_or(Parsed::Ignore, key),
    }
}

/// The key a sequence's final letter names, the same after `ESC O`,
/// `ESC [` and `ESC [ params`. (`ESC O R` is F3 too; after `ESC [` an `R`
/// is a cursor position report.)
fn final_key(last: u8) -> Option<KeyCode> {
    Some(match last {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'S' => KeyCode::F(4),
        _ => return None,
    })
}

/// `ESC [ n ~` and `ESC [ n ; m ~`: the editing and function keys.
fn tilde_key(params: &[u8]) -> Option<KeyCode> {
    let first = std::str::from_utf8(params).ok()?.split(';').next()?;
    Some(match first.parse::<u8>().ok()? {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        v @ 11..=15 => KeyCode::F(v - 10),
        v @ 17..=21 => KeyCode::F(v - 11),
        v @ 23..=26 => KeyCode::F(v - 12),
        v @ 28..=29 => KeyCode::F(v - 15),
        v @ 31..=34 => KeyCode::F(v - 17),
        _ => return None,
    })
}

/// The second parameter, `mask[:kind]`: xterm's modifier mask (1 + bits).
fn modifiers_and_kind(params: &[u8]) -> (KeyModifiers, KeyEventKind) {
    let second = std::str::from_utf8(params)
        .ok()
        .and_then(|s| s.split(';').nth(1));
    let Some(second) = second else {
        return (KeyModifiers::NONE, KeyEventKind::Press);
    };
    let mut parts = second.split(':');
    let mask = parts
        .next()
        .and_then(|m| m.parse::<u8>().ok())
        .unwrap_or(1)
        .saturating_sub(1);
    let kind = match parts.next().and_then(|k| k.parse::<u8>().ok()) {
        Some(2) => KeyEventKind::Repeat,
        Some(3) => KeyEventKind::Release,
        _ => KeyEventKind::Press,
    };
    let mut modifiers = KeyModifiers::NONE;
    for (bit, modifier) in [
        (1, KeyModifiers::SHIFT),
        (2, KeyModifiers::ALT),
        (4, KeyModifiers::CONTROL),
        (8, KeyModifiers::SUPER),
        (16, KeyModifiers::HYPER),
        (32, KeyModifiers::META),
    ] {
        if mask & bit != 0 {
            modifiers |= modifier;
        }
    }
    (modifiers, kind)
}

/// One UTF-8 character; an uppercase letter carries Shift, as in crossterm.
fn utf8(bytes: &[u8]) -> Parsed {
    let needed = match bytes[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Parsed::Ignore,
    };
    if bytes[1..].iter().any(|b| b & 0xc0 != 0x80) {
        return Parsed::Ignore;
    }
    if bytes.len() < needed {
        return Parsed::More;
    }
    let Some(c) = std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.chars().next())
    else {
        return Parsed::Ignore;
    };
    let modifiers = if c.is_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    Parsed::Key(KeyEvent::new(KeyCode::Char(c), modifiers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, modifiers: KeyModifiers) -> Parsed {
        Parsed::Key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn plain_and_control_keys() {
        assert_eq!(parse(b"j", true), k(KeyCode::Char('j'), KeyModifiers::NONE));
        assert_eq!(
            parse(b"G", true),
            k(KeyCode::Char('G'), KeyModifiers::SHIFT)
        );
        assert_eq!(parse(b"\r", true), k(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(
            parse(b"\x7f", true),
            k(KeyCode::Backspace, KeyModifiers::NONE)
        );
        assert_eq!(
            parse(b"\x03", true),
            k(KeyCode::Char('c'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            parse(b"\n", true),
            k(KeyCode::Char('j'), KeyModifiers::CONTROL)
        );
        assert_eq!(
            parse("ñ".as_bytes(), true),
            k(KeyCode::Char('ñ'), KeyModifiers::NONE)
        );
        assert_eq!(parse(&"ñ".as_bytes()[..1], true), Parsed::More);
        assert_eq!(parse(b"\xff", true), Parsed::Ignore);
    }

    #[test]
    fn escape_waits_for_quiet_and_alt_is_esc_first() {
        assert_eq!(parse(b"\x1b", true), Parsed::More);
        assert_eq!(parse(b"\x1b", false), k(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(
            parse(b"\x1bq", true),
            k(KeyCode::Char('q'), KeyModifiers::ALT)
        );
    }

    #[test]
    fn cursor_editing_and_function_keys() {
        assert_eq!(parse(b"\x1b[A", true), k(KeyCode::Up, KeyModifiers::NONE));
        assert_eq!(parse(b"\x1bOB", true), k(KeyCode::Down, KeyModifiers::NONE));
        assert_eq!(
            parse(b"\x1b[5~", true),
            k(KeyCode::PageUp, KeyModifiers::NONE)
        );
        assert_eq!(
            parse(b"\x1b[15~", true),
            k(KeyCode::F(5), KeyModifiers::NONE)
        );
        assert_eq!(
            parse(b"\x1b[Z", true),
            k(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
        assert_eq!(
            parse(b"\x1b[1;5C", true),
            k(KeyCode::Right, KeyModifiers::CONTROL)
        );
        assert_eq!(
            parse(b"\x1b[3;2~", true),
            k(KeyCode::Delete, KeyModifiers::SHIFT)
        );
        assert_eq!(parse(b"\x1b[1;5", true), Parsed::More);
    }

    #[test]
    fn reports_that_are_no_keys_are_dropped_whole() {
        assert_eq!(parse(b"\x1b[<0;3", true), Parsed::More);
        assert_eq!(parse(b"\x1b[<0;3;4M", true), Parsed::Ignore);
        assert_eq!(parse(b"\x1b[12;40R", true), Parsed::Ignore);
        assert_eq!(parse(b"\x1b[M ab", true), Parsed::Ignore);
        assert_eq!(parse(b"\x1b[201~", true), Parsed::Ignore);
    }
}
