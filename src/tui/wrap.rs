//! Wrapping text to a pane's width by display columns (wide characters count double).

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Wraps `text` to `width` display columns, indenting by two.
pub(crate) fn push_wrapped(lines: &mut Vec<Line<'static>>, text: &str, width: usize, style: Style) {
    let width = width.saturating_sub(2).max(1);
    for source in text.split('\n') {
        let mut current = String::new();
        let mut used = 0;
        for word in source.split_inclusive(' ') {
            let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
            if used + w > width && used > 0 {
                lines.push(Line::styled(format!("  {}", current.trim_end()), style));
                current.clear();
                used = 0;
            }
            if w > width {
                // A word longer than the line is cut where it must be.
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if used + cw > width {
                        lines.push(Line::styled(format!("  {current}"), style));
                        current.clear();
                        used = 0;
                    }
                    current.push(c);
                    used += cw;
                }
            } else {
                current.push_str(word);
                used += w;
            }
        }
        lines.push(Line::styled(format!("  {}", current.trim_end()), style));
    }
}

/// Wraps styled lines to `width` display columns, after the last space that
/// fits (or anywhere in a word longer than the line), by the width terminals
/// give each character. (ratatui's own wrapping lets a wide character that
/// ends a long unbroken word — any line of Chinese — spill one cell past the
/// area, over the pane's border, where it stays after the next frame.)
pub(crate) fn cut_lines(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let cell = |c: char| c.width().unwrap_or(0);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let chars: Vec<(char, Style)> = line
            .spans
            .iter()
            .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
            .collect();
        let mut start = 0;
        let mut used = 0;
        let mut last_space = None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i].0;
            if used + cell(c) > width && i > start {
                let cut = match last_space {
                    Some(space) if space >= start => space + 1,
                    _ => i,
                };
                out.push(styled_line(&chars[start..cut], line.style));
                start = cut;
                used = chars[start..i].iter().map(|(c, _)| cell(*c)).sum();
                last_space = None;
                continue;
            }
            if c == ' ' {
                last_space = Some(i);
            }
            used += cell(c);
            i += 1;
        }
        out.push(styled_line(&chars[start..], line.style));
    }
    out
}

/// A line from styled characters, one span per run of a style.
fn styled_line(chars: &[(char, Style)], style: Style) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (c, s) in chars {
        match spans.last_mut() {
            Some(span) if span.style == *s => span.content.to_mut().push(*c),
            _ => spans.push(Span::styled(c.to_string(), *s)),
        }
    }
    Line::from(spans).style(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wraps_on_words_and_cuts_long_ones() {
        let mut lines = Vec::new();
        push_wrapped(&mut lines, "hola qué tal estás", 12, Style::new());
        assert_eq!(texts(&lines), vec!["  hola qué", "  tal estás"]);
        let mut lines = Vec::new();
        push_wrapped(&mut lines, "abcdefghijkl", 7, Style::new());
        assert_eq!(texts(&lines), vec!["  abcde", "  fghij", "  kl"]);
    }

    #[test]
    fn wide_characters_count_double() {
        let mut lines = Vec::new();
        push_wrapped(&mut lines, "📦📦📦", 6, Style::new());
        assert_eq!(texts(&lines), vec!["  📦📦", "  📦"]);
    }

    #[test]
    fn a_wide_character_that_does_not_fit_goes_to_the_next_line() {
        let lines = cut_lines(vec![Line::from("abcdefg#각")], 9);
        let shown: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(shown, ["abcdefg#", "각"]);
        let lines = cut_lines(vec![Line::from("請幫我 查一下訂單請幫我查")], 9);
        let shown: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(shown, ["請幫我 ", "查一下訂", "單請幫我", "查"]);
        let lines = cut_lines(vec![Line::from("hello world foo")], 8);
        let shown: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(shown, ["hello ", "world ", "foo"]);
        assert!(lines.iter().all(|l| l.width() <= 9));
    }
}
