//! Wrapping text to a pane's width by display columns (wide characters count double).

use ratatui::style::Style;
use ratatui::text::Line;
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
}
