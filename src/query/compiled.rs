//! Compiled queries test rows on the query worker.

use crate::store::Row;
use crate::store::worker::Predicate;

impl Predicate for super::lang::Compiled {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|row| self.matches(row))
    }
}
