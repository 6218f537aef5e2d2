//! Compiled queries test rows on the query worker.

use std::any::Any;

use super::lang::FuzzyWord;
use crate::store::Row;
use crate::store::worker::{Predicate, TypedWord};

impl Predicate for super::lang::Compiled {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|row| self.matches(row))
    }
}

impl TypedWord for FuzzyWord {
    fn resume(&self, row: &Row, from: usize, done: usize) -> Option<usize> {
        self.resume_row(row, from, done)
    }

    fn extends(&self, shorter: &dyn TypedWord) -> Option<usize> {
        shorter
            .as_any()
            .downcast_ref::<FuzzyWord>()
            .and_then(|s| FuzzyWord::extends(self, s))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
