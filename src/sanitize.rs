//! Text from a backend is untrusted: a customer can paste anything into a chat,
//! and a ticket title is typed by whoever opened it. Before it reaches the
//! domain it is cleaned so that it can never emit terminal control sequences
//! (colour, cursor moves, window titles, clipboard writes, hyperlinks) or
//! reorder what the operator sees with bidirectional overrides.

/// Cleans multi-line text: keeps `\n`, turns `\t` into spaces, drops every
/// escape sequence and every other control or bidi-override character.
pub fn text(input: &str) -> String {
    clean(input, false)
}

/// Cleans a single-line value (title, name, reference): like [`text`], and
/// line breaks become spaces.
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
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if single_line => out.push(' '),
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            '\r' => {
                // "\r\n" is a line break from another platform; a lone "\r" would
                // move the cursor back over what was already drawn.
                if chars.peek() != Some(&'\n') {
                    out.push(if single_line { ' ' } else { '\n' });
                }
            }
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit CSI / OSC / DCS and friends introduce sequences of their own.
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if needs_care(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn needs_care(c: char) -> bool {
    c.is_control() && c != '\n' || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips what follows an ESC: a CSI, an OSC/DCS/APC/PM/SOS string, or a
/// two-character sequence.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => skip_string(chars),
        // Character-set designations take one more character.
        Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ') => {
            chars.next();
        }
        _ => {}
    }
}

/// A CSI sequence ends with a byte in `@`..=`~`.
fn skip_csi(chars: &mut Chars<'_>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// A string sequence ends with BEL, ST (`ESC \`) or the 8-bit ST.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(
            text("¿Dónde está mi pedido? 📦"),
            "¿Dónde está mi pedido? 📦"
        );
        assert_eq!(text("línea 1\nlínea 2"), "línea 1\nlínea 2");
    }

    #[test]
    fn colour_and_cursor_sequences_are_removed() {
        assert_eq!(text("\u{1b}[31mred\u{1b}[0m"), "red");
        assert_eq!(text("a\u{1b}[2J\u{1b}[Hb"), "ab");
        assert_eq!(text("x\u{9b}31my"), "xy");
    }

    #[test]
    fn osc_title_and_hyperlinks_are_removed() {
        assert_eq!(text("\u{1b}]0;pwned\u{7}ok"), "ok");
        assert_eq!(
            text("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(text("\u{1b}]52;c;ZXZpbA==\u{7}clip"), "clip");
    }

    #[test]
    fn controls_and_bidi_overrides_are_dropped() {
        assert_eq!(text("a\u{7}b\u{8}c\u{7f}d"), "abcd");
        assert_eq!(text("abc\u{202e}fed"), "abcfed");
        assert_eq!(text("one\r\ntwo\rthree"), "one\ntwo\nthree");
        assert_eq!(text("a\tb"), "a    b");
    }

    #[test]
    fn single_line_flattens_breaks() {
        assert_eq!(line("first\nsecond"), "first second");
        assert_eq!(line("t\u{1b}[1mitle"), "title");
    }

    #[test]
    fn truncated_sequences_do_not_eat_the_world() {
        assert_eq!(text("end\u{1b}"), "end");
        assert_eq!(text("end\u{1b}["), "end");
    }
}
