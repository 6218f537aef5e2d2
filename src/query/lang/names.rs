//! How a typed name is compared with a stored one: case-insensitive and
//! accent-insensitive (`gomez` finds "Gómez"), char by char, without
//! allocating, so a compile can scan every interned name.
//!
//! Both sides are expected case-folded already ([`crate::store::fold`]); each
//! char is then reduced to its unaccented form by nucleo's normalisation, the
//! one free words use.

use nucleo_matcher::chars::normalize;

/// Whether two folded names are the same, ignoring accents.
pub fn loose_eq(a: &str, b: &str) -> bool {
    let mut a = a.chars();
    let mut b = b.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || normalize(x) == normalize(y) => {}
            _ => return false,
        }
    }
}

/// Whether folded `text` starts with folded `prefix`, ignoring accents.
pub fn loose_starts_with(text: &str, prefix: &str) -> bool {
    let mut t = text.chars();
    for p in prefix.chars() {
        match t.next() {
            Some(c) if c == p || normalize(c) == normalize(p) => {}
            _ => return false,
        }
    }
    true
}

/// The rule of `op:` and `contact:`: `value` starts at the beginning of one
/// of the words of `name` (`ruiz` and `ana ru` both match "ana ruiz").
pub fn word_prefix(name: &str, value: &str) -> bool {
    WordPrefix::new(value).matches(name)
}

/// A folded value prepared for testing many names by [`word_prefix`]'s rule.
#[derive(Debug, Clone)]
pub struct WordPrefix {
    /// The value's chars, unaccented.
    chars: Box<[char]>,
}

impl WordPrefix {
    /// Prepares a folded value.
    pub fn new(value: &str) -> WordPrefix {
        WordPrefix {
            chars: value.chars().map(normalize).collect(),
        }
    }

    /// Whether the value starts one of the words of folded `name`.
    pub fn matches(&self, name: &str) -> bool {
        let Some(&first) = self.chars.first() else {
            return true;
        };
        let mut at_word_start = true;
        for (i, c) in name.char_indices() {
            if c.is_whitespace() {
                at_word_start = true;
                continue;
            }
            if at_word_start && (c == first || normalize(c) == first) && self.starts(&name[i..]) {
                return true;
            }
            at_word_start = false;
        }
        false
    }

    fn starts(&self, text: &str) -> bool {
        let mut t = text.chars();
        self.chars
            .iter()
            .all(|&p| t.next().is_some_and(|c| c == p || normalize(c) == p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_ignores_accents_but_not_letters() {
        assert!(loose_eq("facturación", "facturacion"));
        assert!(loose_eq("fattura", "fattura"));
        assert!(!loose_eq("fattura", "fatture"));
        assert!(!loose_eq("fattura", "fattur"));
    }

    #[test]
    fn unaccenting_twice_changes_nothing() {
        // The rules above compare `c == p || normalize(c) == p` with `p`
        // already unaccented, which is the same test only if this holds.
        for c in (0..0x3_0000).filter_map(char::from_u32) {
            assert_eq!(normalize(normalize(c)), normalize(c), "{c:?}");
        }
    }

    #[test]
    fn word_prefix_starts_at_word_boundaries_only() {
        assert!(word_prefix("ana ruiz gómez", "ruiz"));
        assert!(word_prefix("ana ruiz gómez", "gomez"));
        assert!(word_prefix("ana ruiz gómez", "ana ru"));
        assert!(word_prefix("ana ruiz gómez", "ruiz g"));
        assert!(!word_prefix("ana ruiz gómez", "uiz"));
        assert!(!word_prefix("ana ruiz gómez", "ana x"));
        assert!(!word_prefix("", "a"));
        assert!(word_prefix("", ""));
        assert!(word_prefix("núria", "NURIA".to_lowercase().as_str()));
        assert!(word_prefix("nuria", "núr"));
    }
}
