//! Text from a backend is untrusted: a customer can paste anything into a chat,
//! and a ticket title is typed by whoever opened it. Before it reaches the
//! domain it is cleaned so that it can never emit terminal control sequences
//! (colour, cursor moves, window titles, clipboard writes, hyperlinks),
//! reorder what the operator sees with bidirectional overrides, or take a
//! different number of cells in the terminal than ratatui reserves for it
//! (which shifts list columns and leaves cells of one ticket in another's
//! pane).
//!
//! The rules, class by class:
//!
//! - **Controls.** `\n` is kept ([`line`]: a space); `\r\n` and a lone `\r`
//!   are a line break; `\t` is four spaces; every other C0/C1 control and DEL
//!   is dropped.
//! - **Escape sequences** (7-bit `ESC …` and 8-bit C1 introducers) are dropped
//!   whole. A CSI ends at its final byte, at the first byte that cannot belong
//!   to it, or after 64 bytes. An OSC/DCS/APC/PM/SOS string ends at BEL, ST,
//!   CAN or SUB; one with no terminator on its line loses only its introducer,
//!   so it cannot hide the rest of the text.
//! - **U+2028/U+2029** are a line break ([`line`]: a space).
//! - **Invisible characters** — format characters and other default-ignorable
//!   code points: soft hyphen, zero-width space/joiners (ZWJ included), bidi
//!   controls, word joiner and invisible operators, BOM, U+180E, U+034F, the
//!   Hangul fillers U+115F/U+1160/U+3164/U+FFA0, U+FFF9–U+FFFB, variation
//!   selectors (VS1–VS16 and U+E0100…), tag characters — are dropped.
//! - **Emoji sequences** fall apart into their pieces, each with the width of
//!   a lone character: skin-tone modifiers and the keycap mark are dropped
//!   (`👍🏽` → `👍`, `1️⃣` → `1`), a ZWJ family becomes its members side by
//!   side, `❤️` becomes the one-cell `❤`, and a flag's regional indicators
//!   become ASCII letters in brackets (`🇪🇸` → `[ES]`).
//! - **Combining marks** (every other zero-width character) are kept after a
//!   visible character, at most two per character; the rest are dropped.
//! - **Replaced by `�`:** noncharacters, and characters whose width the
//!   terminals do not share (U+17A4, U+17D8). The halfwidth katakana sound
//!   marks U+FF9E/U+FF9F become their combining forms.
//!
//! Everything else — accented Latin, CJK (two cells), single emoji (two
//! cells) — is kept as it is; text with nothing to clean is returned without
//! being rebuilt. What remains takes, character by character, the width
//! ratatui gives each grapheme.

mod escape;
mod width;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use escape::{Introducer, Skip};
use width::{Class, MARKS_PER_BASE};

/// Cleans multi-line text: keeps line breaks, drops every escape sequence and
/// every character without a stable width (see the module documentation).
pub fn text(input: &str) -> String {
    clean(input, false)
}

/// Cleans a single-line value (title, name, reference, status-bar message):
/// like [`text`], and line breaks become spaces.
pub fn line(input: &str) -> String {
    clean(input, true)
}

fn clean(input: &str, single_line: bool) -> String {
    // Fast path: most text has nothing to remove.
    if !input
        .chars()
        .any(|c| needs_care(c) || (single_line && c == '\n'))
    {
        return input.to_owned();
    }
    let mut out = Cleaned {
        text: String::with_capacity(input.len()),
        single_line,
        marks: None,
    };
    // Strings before this offset are known to have no terminator on their line.
    let mut unterminated_before = 0;
    let mut at = 0;
    while let Some(c) = input[at..].chars().next() {
        at += c.len_utf8();
        let introducer = match c {
            '\u{1b}' => match input[at..].chars().next().and_then(escape::after_esc) {
                Some(kind) => {
                    at += 1;
                    Some(kind)
                }
                // A lone ESC, or one before a character no sequence takes.
                None => continue,
            },
            c => escape::c1(c),
        };
        if let Some(kind) = introducer {
            at = match kind {
                Introducer::Csi => escape::csi_end(input, at),
                Introducer::String if at < unterminated_before => at,
                Introducer::String => match escape::string_end(input, at) {
                    Skip::To(end) => end,
                    Skip::Unterminated => {
                        unterminated_before = escape::line_end(input, at);
                        at
                    }
                },
                Introducer::Designation => match input[at..].chars().next() {
                    Some(d @ '\u{20}'..='\u{7e}') => at + d.len_utf8(),
                    _ => at,
                },
                Introducer::Short => at,
            };
            continue;
        }
        match c {
            '\n' => out.line_break(),
            '\t' => out.push_str("    "),
            '\r' => {
                // "\r\n" is a line break from another platform; a lone "\r" would
                // move the cursor back over what was already drawn.
                if !input[at..].starts_with('\n') {
                    out.line_break();
                }
            }
            c if c.is_control() => {}
            c => match width::class(c) {
                Class::Keep => out.push(c),
                Class::Mark => out.mark(c),
                Class::Map(m) if width::class(m) == Class::Mark => out.mark(m),
                Class::Map(m) => out.push(m),
                Class::Regional(letter) => {
                    let pair = input[at..]
                        .chars()
                        .next()
                        .and_then(|n| match width::class(n) {
                            Class::Regional(second) => Some((n, second)),
                            _ => None,
                        });
                    out.push('[');
                    out.push(letter);
                    if let Some((n, second)) = pair {
                        at += n.len_utf8();
                        out.push(second);
                    }
                    out.push(']');
                }
                Class::Break => out.line_break(),
                Class::Drop => {}
            },
        }
    }
    out.text
}

/// Cleaned text being built, with what the next mark may attach to.
struct Cleaned {
    text: String,
    single_line: bool,
    /// Marks on the last visible character; `None` after a line break or at the start.
    marks: Option<usize>,
}

impl Cleaned {
    fn push(&mut self, c: char) {
        self.text.push(c);
        self.marks = Some(0);
    }

    fn push_str(&mut self, s: &str) {
        self.text.push_str(s);
        self.marks = Some(0);
    }

    fn mark(&mut self, c: char) {
        if let Some(n) = &mut self.marks
            && *n < MARKS_PER_BASE
        {
            *n += 1;
            self.text.push(c);
        }
    }

    fn line_break(&mut self) {
        if self.single_line {
            self.push(' ');
        } else {
            self.text.push('\n');
            self.marks = None;
        }
    }
}

/// Whether a character is anything but text shown as it is.
fn needs_care(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_control() && c != '\n'
    } else {
        c.is_control() || width::class(c) != Class::Keep
    }
}

/// Cleans every text field of a ticket in place.
pub fn ticket(t: &mut deskterm_api::Ticket) {
    t.reference = line(&t.reference);
    t.title = line(&t.title);
    t.description = text(&t.description);
    t.status = line(&t.status);
    t.category = t.category.as_deref().map(line);
    for tag in &mut t.tags {
        *tag = line(tag);
    }
    contact(&mut t.contact);
    if let Some(op) = &mut t.operator {
        operator(op);
    }
    t.channel = line(&t.channel);
}

/// Cleans a contact reference in place.
pub fn contact(c: &mut deskterm_api::ContactRef) {
    c.name = line(&c.name);
    c.phone = c.phone.as_deref().map(line);
    c.email = c.email.as_deref().map(line);
}

/// Cleans an operator reference in place.
pub fn operator(o: &mut deskterm_api::OperatorRef) {
    o.name = line(&o.name);
}

/// Cleans an internal note in place.
pub fn note(n: &mut deskterm_api::Note) {
    operator(&mut n.author);
    n.body = text(&n.body);
}

/// Cleans a chat message in place.
pub fn message(m: &mut deskterm_api::ChatMessage) {
    if let Some(op) = &mut m.operator {
        operator(op);
    }
    m.body = text(&m.body);
    m.channel = line(&m.channel);
}

/// Cleans the signed-in operator in place.
pub fn me(m: &mut deskterm_api::Me) {
    m.name = line(&m.name);
    m.email = line(&m.email);
}

/// Cleans the labels of the server's metadata in place.
pub fn meta(m: &mut deskterm_api::Meta) {
    for s in &mut m.statuses {
        s.key = line(&s.key);
        s.label = line(&s.label);
    }
    for c in &mut m.categories {
        c.name = line(&c.name);
    }
    for o in &mut m.operators {
        operator(o);
    }
    for t in m.tags.iter_mut().chain(m.channels.iter_mut()) {
        *t = line(t);
    }
    m.server_version = line(&m.server_version);
}

/// Cleans a history entry in place: the actor's name, and every string in
/// the old and new values (a title, a note, a customer's message) keeps its
/// line breaks only where a text may have them.
pub fn history(h: &mut deskterm_api::HistoryEntry) {
    h.actor.name = line(&h.actor.name);
    h.field = h.field.as_deref().map(line);
    for value in [&mut h.old, &mut h.new].into_iter().flatten() {
        json(value);
    }
}

/// Cleans every string of a JSON value, keys included.
fn json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = text(s),
        Value::Array(items) => items.iter_mut().for_each(json),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut inner) in entries {
                json(&mut inner);
                map.insert(line(&key), inner);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Cleans the names and labels of statistics in place.
pub fn stats(s: &mut deskterm_api::Stats) {
    for c in &mut s.open_by_status {
        c.status = line(&c.status);
        c.label = line(&c.label);
    }
    for c in &mut s.open_by_category {
        c.category = c.category.as_deref().map(line);
    }
    for c in &mut s.time_to_close {
        c.category = c.category.as_deref().map(line);
    }
}

/// Cleans whatever object a change carries.
pub fn change(c: &mut deskterm_api::Change) {
    use deskterm_api::ChangeKind;
    match &mut c.kind {
        ChangeKind::TicketUpserted(t) => ticket(t),
        ChangeKind::NoteAdded(n) => note(n),
        ChangeKind::MessageAdded(m) => message(m),
        ChangeKind::TicketDeleted { .. } | ChangeKind::MetaChanged => {}
    }
}
