//! Which characters have a width every terminal agrees on, and what becomes
//! of the others. ratatui measures text by grapheme with `unicode-width`; a
//! terminal advances its cursor character by character with its own table.
//! Where the two disagree, columns shift and cells of one ticket are left
//! in another's pane. See the module documentation of [`super`] for the
//! rule of each class.

use unicode_width::UnicodeWidthChar;

/// Most combining marks kept on one base character.
pub(super) const MARKS_PER_BASE: usize = 2;

/// What the cleaner does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Shown as it is.
    Keep,
    /// A zero-width mark: kept after a visible character, up to [`MARKS_PER_BASE`].
    Mark,
    /// Shown as this character instead.
    Map(char),
    /// A regional indicator: shown as its ASCII letter, a pair as `[ES]`.
    Regional(char),
    /// A paragraph or line separator: a line break (or a space on one line).
    Break,
    /// Dropped.
    Drop,
}

/// The class of a character that is not an ASCII or C1 control.
pub(super) fn class(c: char) -> Class {
    if c.is_ascii() {
        return Class::Keep;
    }
    if is_invisible(c) || is_emoji_modifier(c) || c == KEYCAP {
        return Class::Drop;
    }
    match c {
        '\u{2028}' | '\u{2029}' => Class::Break,
        '\u{1f1e6}'..='\u{1f1ff}' => {
            Class::Regional(char::from(b'A' + (u32::from(c) - 0x1f1e6) as u8))
        }
        // ratatui counts these halfwidth marks as a cell of their own, a
        // width table as none: their combining forms mean the same.
        '\u{ff9e}' => Class::Map('\u{3099}'),
        '\u{ff9f}' => Class::Map('\u{309a}'),
        // KHMER INDEPENDENT VOWEL QAA (deprecated): two cells in the table, one in terminals.
        '\u{17a4}' => Class::Map(char::REPLACEMENT_CHARACTER),
        c if is_noncharacter(c) => Class::Map(char::REPLACEMENT_CHARACTER),
        c => match c.width() {
            Some(0) => Class::Mark,
            Some(1 | 2) => Class::Keep,
            // Wider than two cells (U+17D8), or a control: no terminal agrees.
            _ => Class::Map(char::REPLACEMENT_CHARACTER),
        },
    }
}

/// U+20E3 COMBINING ENCLOSING KEYCAP: `1️⃣` is drawn as one, two or three
/// cells; its base alone is one.
const KEYCAP: char = '\u{20e3}';

/// Format characters and other default-ignorable code points: invisible by
/// definition, yet some terminals give them a cell (U+00AD, U+3164, U+FFA0,
/// U+115F) or use them to join or reorder what follows (ZWJ, bidi controls,
/// variation selectors, tags).
pub(super) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{600}'..='\u{605}' | '\u{6dd}' | '\u{70f}'
        | '\u{890}'..='\u{891}' | '\u{8e2}' | '\u{115f}'..='\u{1160}'
        | '\u{17b4}'..='\u{17b5}' | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{3164}'
        | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// Bidirectional formatting characters, which reorder what the operator sees
/// (all of them invisible, so dropped).
#[cfg(test)]
pub(super) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// Skin tones U+1F3FB–U+1F3FF: after an emoji, one or two cells depending on
/// the terminal's emoji font.
fn is_emoji_modifier(c: char) -> bool {
    matches!(c, '\u{1f3fb}'..='\u{1f3ff}')
}

/// Noncharacters: never meant for interchange.
fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xfdd0..=0xfdef).contains(&c) || c & 0xfffe == 0xfffe
}

/// Whether a character may appear in cleaned text (marks only after a base).
#[cfg(test)]
pub(super) fn is_width_stable(c: char) -> bool {
    match c {
        '\n' => true,
        c if c.is_control() => false,
        c => matches!(class(c), Class::Keep | Class::Mark),
    }
}
