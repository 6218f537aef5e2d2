//! Examples of each class of the cleaning rules.

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

#[test]
fn an_unterminated_string_does_not_hide_the_rest() {
    assert_eq!(
        text("before\u{1b}]0;after and more"),
        "before0;after and more"
    );
    assert_eq!(text("before\u{9d}after"), "beforeafter");
    assert_eq!(text("a\u{1b}Pq\nsecond line"), "aq\nsecond line");
    // Terminated later, but on another line: the first line stays.
    assert_eq!(text("x\u{1b}]0;one\ntwo\u{7}"), "x0;one\ntwo");
    // Many introducers without an end are no slower than one.
    let many = "\u{9d}".repeat(50_000);
    assert_eq!(text(&format!("{many}visible")), "visible");
}

#[test]
fn a_long_csi_is_cut_short() {
    let params = "1;".repeat(100);
    let cleaned = text(&format!("a\u{1b}[{params}mb"));
    assert!(
        cleaned.starts_with('a') && cleaned.ends_with("mb"),
        "{cleaned}"
    );
    assert_eq!(text("a\u{1b}[12日本"), "a日本");
}

#[test]
fn invisible_characters_are_dropped() {
    for c in [
        '\u{ad}',
        '\u{3164}',
        '\u{115f}',
        '\u{1160}',
        '\u{ffa0}',
        '\u{fff9}',
        '\u{fffa}',
        '\u{fffb}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{2060}',
        '\u{2063}',
        '\u{feff}',
        '\u{180e}',
        '\u{34f}',
        '\u{e0001}',
        '\u{e0041}',
        '\u{e007f}',
    ] {
        assert_eq!(line(&format!("ab{c}cd")), "abcd", "U+{:04X}", u32::from(c));
    }
}

#[test]
fn separators_break_lines_or_become_spaces() {
    assert_eq!(text("one\u{2028}two\u{2029}three"), "one\ntwo\nthree");
    assert_eq!(line("one\u{2028}two\u{2029}three"), "one two three");
}

#[test]
fn variation_selectors_leave_the_plain_character() {
    assert_eq!(line("I \u{2764}\u{fe0f} it"), "I \u{2764} it");
    assert_eq!(line("\u{263a}\u{fe0e}"), "\u{263a}");
    assert_eq!(line("\u{8fbb}\u{e0100}"), "\u{8fbb}");
}

#[test]
fn emoji_sequences_fall_apart_into_single_emoji() {
    assert_eq!(line("ok \u{1f44d}\u{1f3fd}"), "ok \u{1f44d}");
    assert_eq!(
        line("\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}"),
        "\u{1f468}\u{1f469}\u{1f467}"
    );
    assert_eq!(line("flag \u{1f1ea}\u{1f1f8}!"), "flag [ES]!");
    assert_eq!(line("\u{1f1ea}\u{1f1f8}\u{1f1eb}"), "[ES][F]");
    assert_eq!(line("press 1\u{fe0f}\u{20e3}"), "press 1");
    // A subdivision flag keeps its black flag.
    assert_eq!(
        line("\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}"),
        "\u{1f3f4}"
    );
}

#[test]
fn combining_marks_are_capped_per_character() {
    // Two marks are ordinary (Vietnamese); a stack of them is not.
    assert_eq!(line("e\u{302}\u{301}"), "e\u{302}\u{301}");
    let zalgo = format!("a{}b", "\u{301}\u{316}".repeat(40));
    assert_eq!(line(&zalgo), "a\u{301}\u{316}b");
    // Nothing to attach to.
    assert_eq!(text("\u{301}x\n\u{301}y"), "x\ny");
}

#[test]
fn ordinary_text_is_kept() {
    for s in [
        "Ñandú, café, ação, Straße",
        "請幫我查一下訂單",
        "注文 📦 ✓ 😀",
        "Привет, γειά",
        "\u{645}\u{631}\u{62d}\u{628}\u{627}",
        "\u{915}\u{94d}\u{937}",
    ] {
        assert_eq!(line(s), s);
    }
}

#[test]
fn odd_widths_become_a_replacement_character() {
    assert_eq!(line("a\u{17d8}b"), "a\u{fffd}b");
    assert_eq!(line("a\u{fdd0}b\u{ffff}"), "a\u{fffd}b\u{fffd}");
    assert_eq!(line("\u{ff76}\u{ff9e}"), "\u{ff76}\u{3099}");
}

#[test]
fn history_entries_are_cleaned_in_every_string_they_carry() {
    use deskterm_api::{ActorKind, HistoryActor, HistoryEntry, HistoryKind};
    let mut h = HistoryEntry {
        id: 1,
        ticket_id: 1,
        at: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
        actor: HistoryActor {
            kind: ActorKind::Channel,
            operator_id: None,
            name: "web\u{1b}]0;pwned\u{7}".into(),
        },
        kind: HistoryKind::FieldChanged,
        field: Some("title\u{1b}[2J".into()),
        old: Some(serde_json::json!({"name\u{1b}[31m": "a\u{1b}[31mb", "list": ["x\u{9b}31my"]})),
        new: Some(serde_json::json!("línea 1\nlínea 2\u{1b}[H")),
    };
    history(&mut h);
    assert_eq!(h.actor.name, "web");
    assert_eq!(h.field.as_deref(), Some("title"));
    assert_eq!(
        h.old,
        Some(serde_json::json!({"name": "ab", "list": ["xy"]}))
    );
    assert_eq!(h.new, Some(serde_json::json!("línea 1\nlínea 2")));
}
