//! Compiled queries test rows on the query worker.

use std::any::Any;

use super::lang::FuzzyWord;
use crate::store::worker::{Predicate, TypedWord};
use crate::store::{Listed, Searched};

impl Predicate for super::lang::Compiled {
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_> {
        Box::new(|row| self.matches(row))
    }

    fn is_everything(&self) -> bool {
        super::lang::Compiled::is_everything(self)
    }
}

impl TypedWord for FuzzyWord {
    fn resume(&self, search: Searched<'_>, from: usize, done: usize) -> Option<usize> {
        self.resume_row(search, from, done)
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
