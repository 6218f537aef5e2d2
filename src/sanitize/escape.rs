//! Where a terminal control sequence embedded in untrusted text ends, so the
//! cleaner can drop it whole — and only it: a sequence that never ends must
//! not take the rest of the text with it.

/// Longest CSI (parameters and intermediates) skipped; past it the bytes
/// are shown as text. Real sequences are a handful of bytes.
pub(super) const CSI_MAX_CHARS: usize = 64;

/// What follows an introducer, as the cleaner should treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// The sequence ends just before this byte offset: drop up to it.
    To(usize),
    /// An OSC/DCS/APC/PM/SOS string with no terminator on its line: drop
    /// only the introducer, and show what follows.
    Unterminated,
}

/// The kind of sequence an introducer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Introducer {
    /// Control Sequence Introducer (`ESC [` or U+009B).
    Csi,
    /// A string: OSC (`ESC ]`, U+009D), DCS (`ESC P`, U+0090), SOS
    /// (`ESC X`, U+0098), PM (`ESC ^`, U+009E) or APC (`ESC _`, U+009F).
    String,
    /// A character-set designation (`ESC (` …): one more character.
    Designation,
    /// Any other two-character escape (`ESC 7`, `ESC c`, `ESC M` …).
    Short,
}

/// The introducer `ESC` followed by `next` starts.
pub(super) fn after_esc(next: char) -> Option<Introducer> {
    Some(match next {
        '[' => Introducer::Csi,
        ']' | 'P' | '_' | '^' | 'X' => Introducer::String,
        '(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ' => Introducer::Designation,
        '\u{21}'..='\u{7e}' => Introducer::Short,
        _ => return None,
    })
}

/// The 8-bit (C1) introducer `c` is, if any.
pub(super) fn c1(c: char) -> Option<Introducer> {
    match c {
        '\u{9b}' => Some(Introducer::Csi),
        '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => Some(Introducer::String),
        _ => None,
    }
}

/// Where a CSI whose parameters start at `from` ends: after its final byte,
/// or before the first byte that cannot belong to it, or after
/// [`CSI_MAX_CHARS`] bytes.
pub(super) fn csi_end(input: &str, from: usize) -> usize {
    let mut end = from;
    for (count, c) in input[from..].chars().enumerate() {
        match c {
            '\u{20}'..='\u{3f}' if count < CSI_MAX_CHARS => end += 1,
            '\u{40}'..='\u{7e}' if count < CSI_MAX_CHARS => return end + 1,
            _ => return end,
        }
    }
    end
}

/// Where a string sequence whose payload starts at `from` ends: after BEL,
/// ST (`ESC \` or U+009C), CAN or SUB; before an ESC that starts something
/// else. A line break or the end of the text first means it is unterminated.
pub(super) fn string_end(input: &str, from: usize) -> Skip {
    let mut chars = input[from..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' | '\u{18}' | '\u{1a}' => return Skip::To(from + i + c.len_utf8()),
            '\u{1b}' => {
                return Skip::To(match chars.peek() {
                    Some((_, '\\')) => from + i + 2,
                    _ => from + i,
                });
            }
            '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => return Skip::Unterminated,
            _ => {}
        }
    }
    Skip::Unterminated
}

/// Where the line holding `from` ends (a break or the end of the text): an
/// unterminated string stays unterminated for every introducer before it.
pub(super) fn line_end(input: &str, from: usize) -> usize {
    input[from..]
        .find(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
        .map_or(input.len(), |i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csi_ends_at_its_final_byte_or_at_a_stranger() {
        assert_eq!(csi_end("31mred", 0), 3);
        assert_eq!(csi_end("1;2", 0), 3);
        assert_eq!(csi_end("12日本", 0), 2);
        let long = "1".repeat(1000);
        assert_eq!(csi_end(&long, 0), CSI_MAX_CHARS);
    }

    #[test]
    fn strings_end_at_a_terminator_on_their_line() {
        assert_eq!(string_end("0;t\u{7}x", 0), Skip::To(4));
        assert_eq!(string_end("0;t\u{1b}\\x", 0), Skip::To(5));
        assert_eq!(string_end("0;t\u{1b}[1m", 0), Skip::To(3));
        assert_eq!(string_end("0;title", 0), Skip::Unterminated);
        assert_eq!(string_end("0;t\nrest\u{7}", 0), Skip::Unterminated);
    }
}
