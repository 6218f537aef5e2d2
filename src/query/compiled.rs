//! A [`Filter`] made ready to test millions of compact rows: names resolved
//! to interned symbols once, search words folded once.

use deskterm_api::{OperatorId, Priority};

use super::Filter;
use crate::store::worker::Predicate;
use crate::store::{Row, Store, Sym, fold};

/// A filter compiled against a store's names.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFilter {
    statuses: Option<Vec<Sym>>,
    priorities: Option<Vec<Priority>>,
    operators: Option<Vec<Option<OperatorId>>>,
    words: Vec<String>,
}

impl CompiledFilter {
    /// Compiles `filter`; status names the store has never seen are interned
    /// so a ticket arriving later in that status matches.
    pub fn new(filter: &Filter, store: &mut Store) -> CompiledFilter {
        CompiledFilter {
            statuses: (!filter.statuses.is_empty())
                .then(|| filter.statuses.iter().map(|s| store.intern(s)).collect()),
            priorities: (!filter.priorities.is_empty())
                .then(|| filter.priorities.iter().copied().collect()),
            operators: (!filter.operators.is_empty())
                .then(|| filter.operators.iter().copied().collect()),
            words: filter.text.split_whitespace().map(fold).collect(),
        }
    }

    /// Whether a row passes.
    pub fn matches(&self, row: &Row) -> bool {
        self.statuses
            .as_ref()
            .is_none_or(|s| s.contains(&row.status))
            && self
                .priorities
                .as_ref()
                .is_none_or(|p| p.contains(&row.priority))
            && self
                .operators
                .as_ref()
                .is_none_or(|o| o.contains(&row.operator()))
            && self
                .words
                .iter()
                .all(|w| row.haystack().contains(w.as_str()))
    }

    /// True when every row passing `self` surely passed `before`: the same
    /// field filters, and each earlier word still typed, possibly longer, with
    /// maybe more words after. Then only the previous result needs filtering.
    pub fn narrows(&self, before: &CompiledFilter) -> bool {
        self.statuses == before.statuses
            && self.priorities == before.priorities
            && self.operators == before.operators
            && self.words.len() >= before.words.len()
            && before
                .words
                .iter()
                .zip(&self.words)
                .all(|(old, new)| new.contains(old.as_str()))
    }
}

impl Predicate for CompiledFilter {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|row| self.matches(row))
    }
}

impl Predicate for super::lang::Compiled {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|row| self.matches(row))
    }
}
