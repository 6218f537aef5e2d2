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

/// Cuts styled lines at `width` display columns, by the width terminals give
/// each character. (ratatui's own wrapping lets a wide character that ends a
/// long unbroken word — any line of Chinese — spill one cell past the area,
/// over the pane's border, where it stays after the next frame.)
pub(crate) fn cut_lines(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let mut current: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for span in line.spans {
            let mut piece = String::new();
            for c in span.content.chars() {
                let cw = c.width().unwrap_or(0);
                if used + cw > width && used > 0 {
                    if !piece.is_empty() {
                        current.push(Span::styled(std::mem::take(&mut piece), span.style));
                    }
                    out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                    used = 0;
                }
                piece.push(c);
                used += cw;
            }
            if !piece.is_empty() {
                current.push(Span::styled(piece, span.style));
            }
        }
        out.push(Line::from(current).style(line.style));
    }
    out
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
        assert!(lines.iter().all(|l| l.width() <= 9));
    }
}
