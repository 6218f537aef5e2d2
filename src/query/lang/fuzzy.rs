//! Free words: does the search text contain the word's letters in order?
//!
//! This is exactly the set of texts nucleo-matcher's fuzzy match accepts
//! (a property test below holds it to nucleo as the oracle), without the
//! scoring nucleo does to rank matches: the list is sorted by its columns,
//! so a word only has to pass or fail, and a plain forward scan is several
//! times cheaper than nucleo's optimal alignment over a million rows.
//!
//! Nucleo's rules, kept here: the word is lower-cased with simple case
//! folding, one char per grapheme; a text char is compared after the same
//! folding and, when every char of the word is already unaccented ("smart"
//! normalisation), after reducing it to its unaccented form, so `camara`
//! finds "cámara" but `cámara` does not find "camara". The text is taken
//! char by char. A word written with non-ASCII chars never matches an
//! all-ASCII text (nucleo's shortcut, kept so the two always agree).

use nucleo_matcher::chars::{graphemes, normalize, to_lower_case};

/// A free word ready to test search texts.
#[derive(Debug, Clone)]
pub struct FuzzyWord {
    chars: Box<[char]>,
    /// The word as bytes when it is ASCII, for the byte scan.
    ascii: Option<Box<[u8]>>,
    /// Whether text chars are reduced to their unaccented form.
    normalize: bool,
    /// The word was written with non-ASCII chars: like nucleo, it then never
    /// matches an all-ASCII text, even when it folds to ASCII (`e\u{301}`).
    unicode: bool,
}

impl FuzzyWord {
    /// Prepares `word` the way nucleo prepares a needle.
    pub fn new(word: &str) -> FuzzyWord {
        let chars = needle(word);
        let ascii = chars
            .iter()
            .all(char::is_ascii)
            .then(|| chars.iter().map(|&c| c as u8).collect());
        let normalize = chars.iter().all(|&c| normalize(c) == c);
        FuzzyWord {
            chars,
            ascii,
            normalize,
            unicode: !word.is_ascii(),
        }
    }

    /// Whether every text this word matches is also matched by `shorter`:
    /// its chars are a subsequence of ours, and it is not limited to
    /// non-ASCII texts unless we are.
    pub fn implies(&self, shorter: &FuzzyWord) -> bool {
        let mut rest = self.chars.iter();
        (self.unicode || !shorter.unicode) && shorter.chars.iter().all(|c| rest.any(|l| l == c))
    }

    #[inline]
    fn key(&self, c: char) -> char {
        to_lower_case(if self.normalize { normalize(c) } else { c })
    }

    /// Whether `text` holds the word's chars in order.
    #[inline]
    pub fn matches(&self, text: &str) -> bool {
        if self.unicode && text.is_ascii() {
            return false;
        }
        match &self.ascii {
            Some(word) => self.ascii_in_text(word, text),
            None => self.chars_in_text(text),
        }
    }

    /// An ASCII word: jump to the next occurrence of each letter (either
    /// case); only when the stretch jumped over holds non-ASCII chars are
    /// they decoded, as one may fold to the letter (`á` → `a`).
    fn ascii_in_text(&self, word: &[u8], text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut i = 0;
        for &w in word {
            let rest = &bytes[i..];
            let upper = w.to_ascii_uppercase();
            let found = if upper == w {
                memchr::memchr(w, rest)
            } else {
                memchr::memchr2(w, upper, rest)
            };
            let gap = found.unwrap_or(rest.len());
            if !rest[..gap].is_ascii()
                && let Some(after) = self.non_ascii_hit(&text[i..i + gap], w)
            {
                i += after;
                continue;
            }
            match found {
                Some(at) => i += at + 1,
                None => return false,
            }
        }
        true
    }

    /// Where the first non-ASCII char of `gap` that folds to `w` ends.
    fn non_ascii_hit(&self, gap: &str, w: u8) -> Option<usize> {
        gap.char_indices()
            .find(|&(_, c)| !c.is_ascii() && self.key(c) == w as char)
            .map(|(at, c)| at + c.len_utf8())
    }

    fn chars_in_text(&self, text: &str) -> bool {
        let mut want = self.chars.iter();
        let Some(mut w) = want.next().copied() else {
            return true;
        };
        for c in text.chars() {
            if self.key(c) == w {
                match want.next() {
                    Some(&next) => w = next,
                    None => return true,
                }
            }
        }
        false
    }
}

/// A word as nucleo's needle: ASCII lower-cased as is; otherwise one
/// simply-folded char per grapheme.
pub fn needle(word: &str) -> Box<[char]> {
    if word.is_ascii() {
        word.bytes()
            .map(|b| b.to_ascii_lowercase() as char)
            .collect()
    } else {
        graphemes(word).map(to_lower_case).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
    use nucleo_matcher::{Config, Matcher, Utf32Str};
    use proptest::prelude::*;

    /// What nucleo answers for `word` in `text`, the text taken char by char.
    fn nucleo(word: &str, text: &str, matcher: &mut Matcher) -> bool {
        let atom = Atom::new(
            word,
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
            false,
        );
        let chars: Vec<char> = text.chars().collect();
        let haystack = if text.is_ascii() {
            Utf32Str::Ascii(text.as_bytes())
        } else {
            Utf32Str::Unicode(&chars)
        };
        atom.score(haystack, matcher).is_some()
    }

    #[test]
    fn letters_in_order_with_gaps() {
        let w = FuzzyWord::new("lote");
        assert!(w.matches("hd-1 lote 12"));
        assert!(w.matches("la nota tiene"));
        assert!(!w.matches("otel"));
        assert!(FuzzyWord::new("LT12").matches("lote 12"));
    }

    #[test]
    fn plain_letters_find_accented_ones_not_the_reverse() {
        assert!(FuzzyWord::new("camara").matches("cámara rota"));
        assert!(FuzzyWord::new("CAMARA").matches("cámara rota"));
        assert!(FuzzyWord::new("cámara").matches("cámara"));
        assert!(!FuzzyWord::new("cámara").matches("camara"));
        assert!(FuzzyWord::new("nuria").matches("núria puig"));
    }

    fn text_of(chars: Vec<char>) -> String {
        chars.into_iter().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
        ))]

        #[test]
        fn accepts_exactly_what_nucleo_accepts(
            word in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', '1', ' ', '-', 'A', 'L', 'é', 'É', 'á', 'ñ', 'ß', '\u{301}', 'ø',
            ]), 1..5).prop_map(text_of),
            text in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', 'x', '1', ' ', '-', 'A', 'L', 'é', 'É', 'á', 'à', 'ñ', 'ß',
                'ẞ', '\u{301}', 'ø', 'Ø', 'ł', '日',
            ]), 0..24).prop_map(text_of),
        ) {
            let mut matcher = Matcher::new(Config::DEFAULT);
            prop_assert_eq!(
                FuzzyWord::new(&word).matches(&text),
                nucleo(&word, &text, &mut matcher),
                "word {:?} in {:?}", word, text
            );
        }
    }
}
