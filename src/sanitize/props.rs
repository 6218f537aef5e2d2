//! Properties of the cleaner over generated hostile text: nothing that
//! drives a terminal survives, cleaning twice changes nothing, and what
//! remains takes the same cells in a terminal as in ratatui's layout.
//! Runs 2,000 cases; `PROPTEST_CASES` overrides.

use proptest::prelude::*;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthChar;

use super::width::{is_bidi_control, is_width_stable};
use super::{line, text};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig::with_cases(cases)
}

/// Pieces hostile text is made of.
fn piece() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "\u{1b}",
        "\u{1b}[",
        "\u{1b}[31m",
        "\u{1b}[2J",
        "\u{1b}]",
        "\u{1b}]0;title",
        "\u{1b}]8;;",
        "\u{1b}\\",
        "\u{1b}P",
        "\u{1b}_",
        "\u{1b}^",
        "\u{1b}X",
        "\u{1b}(",
        "\u{1b}7",
        "\u{7}",
        "\u{9b}",
        "\u{9d}",
        "\u{90}",
        "\u{9c}",
        "\u{9f}",
        "\r",
        "\r\n",
        "\n",
        "\t",
        "\u{85}",
        "\u{2028}",
        "\u{2029}",
        "\u{202e}",
        "\u{2066}",
        "\u{200f}",
        "\u{200d}",
        "\u{200b}",
        "\u{ad}",
        "\u{3164}",
        "\u{115f}",
        "\u{1160}",
        "\u{ffa0}",
        "\u{fff9}",
        "\u{fe0f}",
        "\u{fe0e}",
        "\u{e0100}",
        "\u{e0041}",
        "\u{301}",
        "\u{316}",
        "\u{20e3}",
        "\u{20dd}",
        "\u{2764}\u{fe0f}",
        "\u{1f44d}\u{1f3fd}",
        "\u{1f3fd}",
        "\u{1f1ea}\u{1f1f8}",
        "\u{1f1ea}",
        "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}",
        "1\u{fe0f}\u{20e3}",
        "\u{ff76}\u{ff9e}",
        "\u{ff9f}",
        "\u{17d8}",
        "\u{17a4}",
        "\u{fdd0}",
        "\u{1100}\u{1161}\u{11a8}",
        "\u{1161}",
        "請",
        "日本",
        "😀",
        "ñ",
        "e\u{301}",
        "\u{915}\u{94d}\u{937}",
        "\u{644}\u{627}",
        "\u{5d0}\u{200d}\u{5dc}",
        "\u{2018}\u{fe01}",
        "\u{a4f8}\u{a4fc}",
        " ",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        4 => fragments,
        2 => "[a-zA-Z0-9 ;\\[\\]]{1,8}".prop_map(|s| s),
        2 => any::<char>().prop_map(String::from),
        1 => (0x80u32..0xa0).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
        1 => (0x300u32..0x370).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
        1 => (0x1f300u32..0x1fa00).prop_map(|c| char::from_u32(c).map(String::from).unwrap_or_default()),
    ]
}

fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..48).prop_map(|pieces| pieces.concat())
}

/// How far ratatui's cursor moves when it draws `line` (it measures by grapheme).
fn ratatui_width(line: &str) -> usize {
    let width = line.chars().count() as u16 * 2 + 1;
    let mut buffer = Buffer::empty(Rect::new(0, 0, width, 1));
    let (x, _) = buffer.set_stringn(0, 0, line, usize::from(width), Style::new());
    usize::from(x)
}

/// How far a terminal's cursor moves: character by character, by its width table.
fn terminal_width(line: &str) -> usize {
    line.chars().map(|c| c.width().unwrap_or(0)).sum()
}

fn check(cleaned: &str, single_line: bool) -> Result<(), TestCaseError> {
    for (i, c) in cleaned.chars().enumerate() {
        let code = u32::from(c);
        prop_assert!(
            !c.is_control() || (c == '\n' && !single_line),
            "control U+{code:04X} at {i}"
        );
        prop_assert!(!is_bidi_control(c), "bidi control U+{code:04X} at {i}");
        prop_assert!(
            is_width_stable(c),
            "U+{code:04X} at {i} has no stable width"
        );
    }
    for l in cleaned.split('\n') {
        // A zero-width mark sits on a visible character, at most two on each.
        let mut marks: Option<usize> = None;
        for c in l.chars() {
            if c.width() == Some(0) {
                let n = marks.map(|n| n + 1);
                prop_assert!(n.is_some_and(|n| n <= 2), "a stray mark in {l:?}");
                marks = n;
            } else {
                marks = Some(0);
            }
        }
        prop_assert_eq!(
            ratatui_width(l),
            terminal_width(l),
            "widths differ for {:?}",
            l
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cleaned_text_is_inert_stable_and_width_true(input in hostile()) {
        let t = text(&input);
        check(&t, false)?;
        prop_assert_eq!(text(&t), t.clone());
        let l = line(&input);
        check(&l, true)?;
        prop_assert_eq!(line(&l), l.clone());
    }
}
