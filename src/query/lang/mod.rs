//! The query language of the ticket list. Pure: text in, predicate out.
//!
//! A query is a list of terms separated by spaces; a ticket must pass every
//! term. `-` before a term negates it; `a,b` lists alternatives of one field.
//!
//! | term | keeps tickets |
//! |---|---|
//! | `status:open,pending` | in one of these statuses (keys or labels, any case) |
//! | `macro:closed`, `macro:in_progress` | whose status belongs to that family |
//! | `priority:high,urgent`, `priority>=high` (`>` `<` `<=` `=`) | of these priorities |
//! | `op:me`, `op:none`, `op:marco` | assigned to me, to nobody, to an operator whose name has a word starting so |
//! | `cat:billing`, `cat:none` | in that category (whole name), or in none |
//! | `tag:vip` | with that tag |
//! | `important` | marked important |
//! | `sla:ok,at_risk,breached,none` | in that SLA state (see [`crate::query::sla`]) |
//! | `channel:email` | that came from that channel |
//! | `updated<7d`, `created>2w` | changed (created) less / more than that long ago; units `m` `h` `d` `w` |
//! | `updated>2026-01-01`, `created<=…`, `updated:2026-01-05` | changed after that day, up to its end, on it (local days) |
//! | `contact:"Ana Ruiz"` | whose contact's name has a word starting so |
//! | `ref:HD-000123` | with exactly that reference |
//! | `"refund"` | whose search text contains exactly that (any case) |
//! | `lote` | whose search text matches the word fuzzily |
//!
//! Names compare case- and accent-insensitively. Values with spaces, commas
//! or quotes are quoted, with `\"` and `\\` inside; `op:"me"` and
//! `cat:"none"` are names, not the keywords.
//!
//! **Free words** match fuzzily: the word's letters must appear in order,
//! gaps allowed (fzf's and nucleo-matcher's rule; [`FuzzyWord`] accepts
//! exactly what nucleo's fuzzy match accepts, without ranking), any case; an
//! unaccented letter also matches its accented forms. They are matched
//! against the whole search text — the folded `reference title contact
//! category` of [`crate::store::Row`] — so one word may find its letters
//! across fields, as in fzf over a line. Every word must match; a `-word`
//! must not. To search for the word `important`, or one that looks like a
//! field, escape it: `\important`, `re\:x`.
//!
//! Pipeline: [`parse`] (text → [`Query`], errors carry byte spans) →
//! [`compile`] (with a [`Context`] → [`Compiled`]) → [`Compiled::matches`]
//! per row (no per-thread state: a `Compiled` can be shared by threads).
//! [`Query`] prints back
//! canonically with `Display`; [`narrows`] tells when a new query can
//! re-filter the previous result; [`Query::set`] and friends edit one field.

mod ast;
mod compile;
mod edit;
mod fuzzy;
mod names;
mod narrows;
mod parse;
mod print;
mod remote;
mod resolve;
mod time;

#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod testkit;

use std::ops::Range;

pub use ast::{
    Atom, CategoryValue, Cmp, Field, OperatorValue, PriorityTest, Query, Term, TimeField, TimeTest,
    Unit,
};
pub use compile::{CompileError, Compiled, Compiler, Context, compile};
pub use fuzzy::FuzzyWord;
pub use names::word_prefix;
pub use narrows::{narrows, typed_word};
pub use parse::{TermSpan, parse, parse_spanned};
pub use remote::{in_progress_only, listing};

/// Why a query cannot be used, and where in its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// Byte range of the offending token in the query text.
    pub span: Range<usize>,
    /// What is wrong, for the operator.
    pub message: String,
}

/// Parses and compiles in one step, with compile errors placed in the text.
pub fn compile_text(text: &str, ctx: &Context<'_>) -> Result<(Query, Compiled), QueryError> {
    Compiler::default().compile_text(text, ctx)
}
