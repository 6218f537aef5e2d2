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
    let mut at_word_start = true;
    for (i, c) in name.char_indices() {
        if c.is_whitespace() {
            at_word_start = true;
            continue;
        }
        if at_word_start && loose_starts_with(&name[i..], value) {
            return true;
        }
        at_word_start = false;
    }
    value.is_empty()
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
    fn word_prefix_starts_at_word_boundaries_only() {
        assert!(word_prefix("ana ruiz gómez", "ruiz"));
        assert!(word_prefix("ana ruiz gómez", "gomez"));
        assert!(word_prefix("ana ruiz gómez", "ana ru"));
        assert!(word_prefix("ana ruiz gómez", "ruiz g"));
        assert!(!word_prefix("ana ruiz gómez", "uiz"));
        assert!(!word_prefix("ana ruiz gómez", "ana x"));
        assert!(!word_prefix("", "a"));
    }
}
