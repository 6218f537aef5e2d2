//! Name values → the interned symbols they select, remembered between
//! compiles: recompiling while the user types elsewhere in the query scans
//! only the names interned since, not every name again.
//!
//! Symbols belong to one [`Interner`]; it only grows, so a remembered answer
//! stays right and is extended with the names added since. A cache is tied
//! to the interner it was filled from: when the client replaces its
//! interner, it starts a new cache (one that shrank is noticed and dropped).

use std::collections::HashMap;

use super::names::{WordPrefix, loose_eq};
use crate::store::{Interner, Sym};

/// How a value selects names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The whole name, case- and accent-insensitive ([`loose_eq`]).
    Equal,
    /// The start of one of its words ([`WordPrefix`]).
    WordPrefix,
}

/// Remembered resolutions.
#[derive(Debug, Default, Clone)]
pub struct Resolver {
    entries: HashMap<(Rule, Box<str>), Entry>,
    names_len: usize,
    generation: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    /// How many names were scanned.
    scanned: usize,
    syms: Vec<Sym>,
    /// The compile that last used it.
    used: u64,
}

impl Resolver {
    /// Starts a compile against `names`.
    pub fn begin(&mut self, names: &Interner) {
        if names.len() < self.names_len {
            self.entries.clear();
        }
        self.names_len = names.len();
        self.generation += 1;
    }

    /// Ends a compile: forgets values neither this compile nor the one
    /// before used, so the cache holds about one query's worth.
    pub fn end(&mut self) {
        let now = self.generation;
        self.entries.retain(|_, e| e.used + 1 >= now);
    }

    /// Appends to `out` the symbols a folded value selects.
    pub fn syms(&mut self, rule: Rule, value: &str, names: &Interner, out: &mut Vec<Sym>) {
        let entry = self
            .entries
            .entry((rule, value.into()))
            .or_insert_with(|| Entry {
                scanned: 0,
                syms: Vec::new(),
                used: 0,
            });
        if entry.scanned < names.len() {
            scan(rule, value, names, entry.scanned, &mut entry.syms);
            entry.scanned = names.len();
        }
        entry.used = self.generation;
        out.extend_from_slice(&entry.syms);
    }

    /// How many values are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

fn scan(rule: Rule, value: &str, names: &Interner, from: usize, out: &mut Vec<Sym>) {
    let syms = (from..names.len()).filter_map(|i| Sym::try_from(i).ok());
    match rule {
        Rule::Equal => out.extend(syms.filter(|&s| loose_eq(names.folded(s), value))),
        Rule::WordPrefix => {
            let prefix = WordPrefix::new(value);
            out.extend(syms.filter(|&s| prefix.matches(names.folded(s))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interner(names: &[&str]) -> Interner {
        let mut i = Interner::default();
        for n in names {
            i.intern(n);
        }
        i
    }

    #[test]
    fn remembers_and_extends_with_names_added_since() {
        let mut names = interner(&["Billing", "Ana Ruiz", "billing"]);
        let mut r = Resolver::default();
        r.begin(&names);
        let mut out = Vec::new();
        r.syms(Rule::Equal, "billing", &names, &mut out);
        assert_eq!(out, vec![0, 2]);
        r.end();
        let late = names.intern("BILLING");
        r.begin(&names);
        out.clear();
        r.syms(Rule::Equal, "billing", &names, &mut out);
        assert_eq!(out, vec![0, 2, late]);
        out.clear();
        r.syms(Rule::WordPrefix, "ruiz", &names, &mut out);
        assert_eq!(out, vec![1]);
        r.end();
    }

    #[test]
    fn forgets_values_no_longer_used_and_a_replaced_interner() {
        let names = interner(&["a", "b"]);
        let mut r = Resolver::default();
        let mut out = Vec::new();
        r.begin(&names);
        r.syms(Rule::Equal, "a", &names, &mut out);
        r.end();
        r.begin(&names);
        r.syms(Rule::Equal, "b", &names, &mut out);
        r.end();
        assert_eq!(r.len(), 2);
        r.begin(&names);
        r.syms(Rule::Equal, "b", &names, &mut out);
        r.end();
        assert_eq!(r.len(), 1);
        let smaller = interner(&["b"]);
        r.begin(&smaller);
        out.clear();
        r.syms(Rule::Equal, "b", &smaller, &mut out);
        assert_eq!(out, vec![0]);
    }
}
