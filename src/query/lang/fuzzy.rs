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

use crate::store::{Listed, Searched, ascii_bit};

/// A text to search, with what is known of it.
#[derive(Clone, Copy)]
struct Hay<'a> {
    text: &'a str,
    /// [`crate::store::accent_folds`] of the text (all bits: unknown).
    folds: u64,
    /// No ASCII upper-case letter in it (it is folded).
    lower: bool,
}

impl<'a> Hay<'a> {
    fn any(text: &'a str) -> Hay<'a> {
        Hay {
            text,
            folds: u64::MAX,
            lower: false,
        }
    }

    fn of(search: Searched<'a>) -> Hay<'a> {
        Hay {
            text: search.text,
            folds: search.folds,
            lower: true,
        }
    }
}

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
        self.resume(text, 0, 0).is_some()
    }

    /// Whether a row's search text holds the word's chars in order.
    #[inline]
    pub fn matches_row(&self, row: Listed<'_>) -> bool {
        self.resume_row(row.searched(), 0, 0).is_some()
    }

    /// [`FuzzyWord::resume`] in a row's search text, which is folded and
    /// knows which letters its accented chars fold to: most letters are
    /// then found by a plain byte search.
    #[inline]
    pub fn resume_row(&self, search: Searched<'_>, from: usize, done: usize) -> Option<usize> {
        self.resume_in(Hay::of(search), from, done)
    }

    /// Where in `text` the word's chars from the `done`-th on are found in
    /// order, looking from byte `from` on: the byte after the last one, or
    /// `None`. The chars are taken greedily, each at its first occurrence,
    /// so `resume(text, 0, 0)` is where the whole word ends, and when a word
    /// is typed further, `resume(text, end, n)` with the `end` found for its
    /// first `n` chars carries on from there instead of starting over.
    #[inline]
    pub fn resume(&self, text: &str, from: usize, done: usize) -> Option<usize> {
        self.resume_in(Hay::any(text), from, done)
    }

    #[inline]
    fn resume_in(&self, hay: Hay<'_>, from: usize, done: usize) -> Option<usize> {
        if self.unicode && hay.text.is_ascii() {
            return None;
        }
        match &self.ascii {
            Some(word) => self.ascii_in_text(word.get(done..)?, hay, from),
            None => self.chars_in_text(self.chars.get(done..)?, hay.text, from),
        }
    }

    /// How many chars of this word `shorter` already tested, when this word
    /// is `shorter` typed further: its chars come first in ours and both
    /// compare text chars the same way, so a text position `shorter` reached
    /// can be [resumed](FuzzyWord::resume) from.
    pub fn extends(&self, shorter: &FuzzyWord) -> Option<usize> {
        let same_rules = self.normalize == shorter.normalize
            && self.unicode == shorter.unicode
            && self.ascii.is_some() == shorter.ascii.is_some();
        (same_rules && self.chars.starts_with(&shorter.chars)).then_some(shorter.chars.len())
    }

    /// An ASCII word: jump to the next occurrence of each letter (either
    /// case); only when the stretch jumped over holds non-ASCII chars, and
    /// one of the text's may fold to the letter (`á` → `a`), are they decoded.
    fn ascii_in_text(&self, word: &[u8], hay: Hay<'_>, from: usize) -> Option<usize> {
        let text = hay.text;
        let bytes = text.as_bytes();
        let mut i = from;
        for &w in word {
            let rest = bytes.get(i..)?;
            let upper = w.to_ascii_uppercase();
            let found = if upper == w || hay.lower {
                memchr::memchr(w, rest)
            } else {
                memchr::memchr2(w, upper, rest)
            };
            let gap = found.unwrap_or(rest.len());
            if hay.folds & ascii_bit(w) != 0
                && !rest[..gap].is_ascii()
                && let Some(after) = text
                    .get(i..i + gap)
                    .and_then(|stretch| self.non_ascii_hit(stretch, w))
            {
                i += after;
                continue;
            }
            i += found? + 1;
        }
        Some(i)
    }

    /// Where the first non-ASCII char of `gap` that folds to `w` ends.
    fn non_ascii_hit(&self, gap: &str, w: u8) -> Option<usize> {
        gap.char_indices()
            .find(|&(_, c)| !c.is_ascii() && self.key(c) == w as char)
            .map(|(at, c)| at + c.len_utf8())
    }

    fn chars_in_text(&self, word: &[char], text: &str, from: usize) -> Option<usize> {
        let mut want = word.iter();
        let Some(mut w) = want.next().copied() else {
            return Some(from);
        };
        for (at, c) in text.get(from..)?.char_indices() {
            if self.key(c) == w {
                match want.next() {
                    Some(&next) => w = next,
                    None => return Some(from + at + c.len_utf8()),
                }
            }
        }
        None
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
    fn a_word_typed_further_extends_the_shorter_one() {
        let lote = FuzzyWord::new("lote");
        assert_eq!(lote.extends(&FuzzyWord::new("lo")), Some(2));
        assert_eq!(lote.extends(&FuzzyWord::new("")), Some(0));
        assert_eq!(lote.extends(&FuzzyWord::new("le")), None);
        // An accent changes how every char is compared: start over.
        assert_eq!(FuzzyWord::new("loté").extends(&FuzzyWord::new("lot")), None);
        let text = "hd-1 lote 12";
        let end = FuzzyWord::new("lo").resume(text, 0, 0);
        assert_eq!(end, Some(7));
        assert_eq!(lote.resume(text, 7, 2), Some(9));
        assert_eq!(FuzzyWord::new("lotex").resume(text, 9, 4), None);
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

        #[test]
        fn a_folded_text_with_its_accent_mask_answers_the_same(
            word in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', '1', 'A', 'é', 'ñ', 'ß', '\u{301}', '²',
            ]), 1..5).prop_map(text_of),
            text in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', 'x', '1', ' ', 'A', 'L', 'é', 'É', 'á', 'ñ', 'ß', 'ẞ',
                '\u{301}', 'ø', 'Ł', '²', '€', '¿', 'İ', 'K',
            ]), 0..24).prop_map(text_of),
        ) {
            let w = FuzzyWord::new(&word);
            let folded = crate::store::fold(&text);
            let hay = Hay {
                text: &folded,
                folds: crate::store::accent_folds(&folded),
                lower: true,
            };
            prop_assert_eq!(w.resume_in(hay, 0, 0), w.resume(&folded, 0, 0), "{:?} in {:?}", word, folded);
        }

        #[test]
        fn typing_further_resumes_where_the_shorter_word_ended(
            word in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', '1', 'A', 'é', 'á', 'ñ', 'ß', '\u{301}',
            ]), 1..6).prop_map(text_of),
            cut in 0usize..6,
            text in prop::collection::vec(prop::sample::select(vec![
                'a', 'e', 'l', 'o', 't', 'x', '1', ' ', 'A', 'L', 'é', 'É', 'á', 'ñ', 'ß', 'ẞ', '\u{301}',
            ]), 0..24).prop_map(text_of),
        ) {
            let whole = FuzzyWord::new(&word);
            let typed: String = word.chars().take(cut).collect();
            let shorter = FuzzyWord::new(&typed);
            if let Some(done) = whole.extends(&shorter) {
                let resumed = shorter
                    .resume(&text, 0, 0)
                    .and_then(|end| whole.resume(&text, end, done));
                prop_assert_eq!(resumed, whole.resume(&text, 0, 0), "{:?} after {:?} in {:?}", word, typed, text);
            }
        }
    }
}
