//! Whether a new query can only keep fewer tickets than the old one, so the
//! old result can be re-filtered instead of every ticket while the user types.
//!
//! `new` narrows `old` when every term of `old` is implied by some term of
//! `new` (both are conjunctions). A term implies another when it is the same,
//! or when it is a stricter version of it on the same field: a shorter list
//! of alternatives, a tighter priority or time range, a longer phrase, a name
//! prefix typed further, or a free word whose letters contain the old word's
//! in order (fuzzy matching is subsequence matching, so `lote` implies `lo`,
//! and also `le`). A negated term implies another negated one when the
//! implication holds the other way round. Anything else answers `false`.
//!
//! Both queries are assumed compiled against the same context (same `now`,
//! signed-in operator, statuses and names): a caller re-filtering a previous
//! result compares those too.

use deskterm_api::Priority;

use super::ast::{Atom, CategoryValue, OperatorValue, Query, Term, TimeTest};
use super::fuzzy::FuzzyWord;
use super::names::{loose_eq, loose_starts_with};
use super::time::bounds;
use crate::query::Sla;
use crate::store::fold;

/// True when every ticket matching `new` surely matches `old`.
pub fn narrows(old: &Query, new: &Query) -> bool {
    old.terms
        .iter()
        .all(|o| new.terms.iter().any(|n| implies(n, o)))
}

/// When `new` is `old` with one free word typed further (or a free word
/// added at the end) and nothing else changed: that word's term index and
/// text. A ticket that `old` keeps is then kept by `new` exactly when it
/// holds the word, so only the word needs testing.
pub fn typed_word<'a>(old: &Query, new: &'a Query) -> Option<(usize, &'a str)> {
    let k = new
        .terms
        .iter()
        .zip(&old.terms)
        .position(|(n, o)| n != o)
        .unwrap_or(old.terms.len());
    let term = new.terms.get(k)?;
    let Atom::Word(word) = &term.atom else {
        return None;
    };
    if term.negated {
        return None;
    }
    if new.terms.len() == old.terms.len() + 1 {
        // A word added: only at the end.
        return (k == old.terms.len()).then_some((k, word.as_str()));
    }
    if new.terms.len() != old.terms.len() || new.terms.get(k + 1..) != old.terms.get(k + 1..) {
        return None;
    }
    let before = old.terms.get(k)?;
    match &before.atom {
        Atom::Word(shorter)
            if !before.negated && FuzzyWord::new(word).implies(&FuzzyWord::new(shorter)) =>
        {
            Some((k, word.as_str()))
        }
        _ => None,
    }
}

/// Whether `n` holding means `o` holds.
fn implies(n: &Term, o: &Term) -> bool {
    if n == o {
        return true;
    }
    // Fields whose values partition the tickets: a negation is the complement.
    if let (Some(a), Some(b)) = (partition(n), partition(o)) {
        return a.0 == b.0 && a.1 & !b.1 == 0;
    }
    match (n.negated, o.negated) {
        (false, false) => atom_implies(&n.atom, &o.atom),
        (true, true) => atom_implies(&o.atom, &n.atom),
        _ => false,
    }
}

/// For priority and SLA terms: which partition, and the set of parts kept.
fn partition(t: &Term) -> Option<(u8, u8)> {
    let (which, mask) = match &t.atom {
        Atom::Priority(p) => (0, p.mask()),
        Atom::Sla(list) => (
            1,
            list.iter().fold(0, |m, s| {
                m | match s {
                    Some(Sla::Ok) => 1,
                    Some(Sla::AtRisk) => 2,
                    Some(Sla::Breached) => 4,
                    None => 8,
                }
            }),
        ),
        _ => return None,
    };
    const ALL: u8 = (1 << Priority::ALL.len()) - 1;
    Some((which, if t.negated { !mask & ALL } else { mask }))
}

/// Whether every value of `a` is covered by some value of `b`.
fn covered<T, U>(a: &[T], b: &[U], by: impl Fn(&T, &U) -> bool) -> bool {
    a.iter().all(|x| b.iter().any(|y| by(x, y)))
}

fn same_name(x: &str, y: &str) -> bool {
    loose_eq(&fold(x), &fold(y))
}

fn longer_name(x: &str, y: &str) -> bool {
    loose_starts_with(&fold(x), &fold(y))
}

/// Whether `a` (positive) implies `b` (positive).
fn atom_implies(a: &Atom, b: &Atom) -> bool {
    match (a, b) {
        (Atom::Status(a), Atom::Status(b))
        | (Atom::Tag(a), Atom::Tag(b))
        | (Atom::Channel(a), Atom::Channel(b)) => covered(a, b, |x, y| same_name(x, y)),
        (Atom::Contact(a), Atom::Contact(b)) => covered(a, b, |x, y| longer_name(x, y)),
        (Atom::Reference(a), Atom::Reference(b)) => covered(a, b, |x, y| fold(x) == fold(y)),
        (Atom::Macro(a), Atom::Macro(b)) => covered(a, b, |x, y| x == y),
        (Atom::Operator(a), Atom::Operator(b)) => covered(a, b, |x, y| match (x, y) {
            (OperatorValue::Name(x), OperatorValue::Name(y)) => longer_name(x, y),
            (x, y) => x == y,
        }),
        (Atom::Category(a), Atom::Category(b)) => covered(a, b, |x, y| match (x, y) {
            (CategoryValue::Name(x), CategoryValue::Name(y)) => same_name(x, y),
            (x, y) => x == y,
        }),
        (Atom::Priority(a), Atom::Priority(b)) => {
            let (a, b) = (a.mask(), b.mask());
            a & !b == 0
        }
        (Atom::Time(fa, ta), Atom::Time(fb, tb)) => {
            let same_kind = matches!(
                (ta, tb),
                (TimeTest::Age { .. }, TimeTest::Age { .. })
                    | (TimeTest::Date { .. }, TimeTest::Date { .. })
            );
            // The same `now` and time zone shift both ranges alike.
            fa == fb && same_kind && bounds(ta, 0, 0).within(&bounds(tb, 0, 0))
        }
        (Atom::Phrase(a), Atom::Phrase(b)) => fold(a).contains(&fold(b)),
        (Atom::Word(a), Atom::Word(b)) => FuzzyWord::new(a).implies(&FuzzyWord::new(b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lang::parse::parse;

    fn n(old: &str, new: &str) -> bool {
        narrows(&parse(old).unwrap(), &parse(new).unwrap())
    }

    #[test]
    fn adding_terms_narrows() {
        assert!(n("", "status:open"));
        assert!(n("status:open", "status:open op:me"));
        assert!(n("status:open", "op:me status:open"));
        assert!(!n("status:open op:me", "status:open"));
    }

    #[test]
    fn typing_a_word_further_narrows() {
        assert!(n("lo", "lot"));
        assert!(n("lo", "lote"));
        assert!(n("lote", "lote 1"));
        assert!(n("lote 1", "lote 12"));
        assert!(n("le", "lote"));
        assert!(n("LO", "lote"));
        assert!(!n("lote", "lo"));
        assert!(!n("ol", "lote"));
        assert!(n("-lote", "-lo"));
        assert!(!n("-lo", "-lote"));
    }

    fn typed(old: &str, new: &str) -> Option<(usize, String)> {
        let (old, new) = (parse(old).unwrap(), parse(new).unwrap());
        typed_word(&old, &new).map(|(k, w)| (k, w.to_owned()))
    }

    #[test]
    fn one_word_typed_further_or_added_is_told() {
        assert_eq!(typed("", "l"), Some((0, "l".into())));
        assert_eq!(typed("lo", "lot"), Some((0, "lot".into())));
        assert_eq!(
            typed("status:open lo", "status:open lote"),
            Some((1, "lote".into()))
        );
        assert_eq!(typed("lote", "lote 1"), Some((1, "1".into())));
        assert_eq!(typed("lo 12", "lot 12"), Some((0, "lot".into())));
        assert_eq!(typed("le", "lote"), Some((0, "lote".into())));
        // Anything else changed, or not a plain word: no.
        assert_eq!(typed("lote", "lo"), None);
        assert_eq!(typed("lo", "lote op:me"), None);
        assert_eq!(typed("lo", "op:me"), None);
        assert_eq!(typed("lo 1", "lot 12"), None);
        assert_eq!(typed("-lo", "-lot"), None);
        assert_eq!(typed("lo", "lo"), None);
        assert_eq!(typed("lote", "lote \"12\""), None);
        assert_eq!(typed("12", "lote 12"), None);
    }

    #[test]
    fn shorter_lists_narrow() {
        assert!(n("status:open,pending", "status:open"));
        assert!(n("status:open,pending", "status:Pending"));
        assert!(!n("status:open", "status:open,pending"));
        assert!(n("-status:open", "-status:open,pending"));
        assert!(!n("-status:open,pending", "-status:open"));
        assert!(n("op:me,none", "op:none"));
        assert!(n("cat:billing,none", "cat:Billing"));
        assert!(!n("cat:billing", "cat:\"none\""));
        assert!(n("tag:vip,b2b", "tag:vip"));
        assert!(n("macro:closed,in_progress", "macro:closed"));
    }

    #[test]
    fn names_typed_further_narrow() {
        assert!(n("op:mar", "op:marco"));
        assert!(n("contact:ana", "contact:\"ana ruiz\""));
        assert!(!n("contact:\"ana ruiz\"", "contact:ana"));
        assert!(!n("tag:vi", "tag:vip"));
    }

    #[test]
    fn priorities_and_sla_compare_as_sets() {
        assert!(n("priority>=high", "priority:urgent"));
        assert!(n("priority>=normal", "priority>high"));
        assert!(n("priority:high,urgent", "priority>=high"));
        assert!(!n("priority>high", "priority>=high"));
        assert!(n("-priority:low", "priority>=normal"));
        assert!(n("priority>=normal", "-priority:low"));
        assert!(n("sla:at_risk,breached", "sla:breached"));
        assert!(n("-sla:none", "sla:ok"));
    }

    #[test]
    fn tighter_time_ranges_narrow() {
        assert!(n("updated<7d", "updated<3d"));
        assert!(n("updated<1w", "updated<7d"));
        assert!(n("updated<7d", "updated<=6d"));
        assert!(!n("updated<7d", "updated<=7d"));
        assert!(n("updated>7d", "updated>30d"));
        assert!(!n("updated<7d", "created<3d"));
        assert!(n("updated>=2026-01-01", "updated:2026-02-01"));
        assert!(!n("updated>=2026-01-01", "updated<3d"));
    }

    #[test]
    fn longer_phrases_narrow() {
        assert!(n("\"refund\"", "\"refunds\""));
        assert!(n("\"fund\"", "\"Refund\""));
        assert!(!n("\"refund\"", "\"fund\""));
    }
}
