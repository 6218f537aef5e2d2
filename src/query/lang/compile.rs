//! [`Query`] + the client's data → a predicate over [`Row`]s, built to run
//! over a million rows per keystroke: names are resolved once to sets of
//! interned symbols or operator ids, times to ranges of seconds, and the
//! tests run cheapest first, fuzzy words last.
//!
//! Resolution rules:
//! - `status:` values are status keys or labels (case- and accent-insensitive);
//!   a value naming no status is an error that lists the keys. Without
//!   statuses (meta not loaded yet) values are taken as keys, unchecked.
//! - `macro:` selects the statuses of that family; without statuses, a ticket
//!   counts as closed when it has a closing time.
//! - `op:<name>` selects the operators a name matches by word prefix
//!   ([`super::word_prefix`]); matching none of the known operators is an error.
//!   Without an operator list it is matched against the names on tickets.
//!   `op:me` matches nothing while the signed-in operator is unknown.
//! - `cat:`, `tag:`, `channel:` compare whole names, case- and
//!   accent-insensitively; an unknown name is not an error (nothing matches).
//! - `contact:` matches the contact's name by word prefix.
//! - `sla:` follows [`crate::query::sla`]: no SLA when there is no due time or
//!   the ticket is closed; breached when due; otherwise the state the server
//!   keeps, or at risk within [`crate::query::AT_RISK_WITHIN`] when it keeps none.
//! - `ref:` is the whole reference, case-insensitive.
//! - phrases are exact substrings of the folded search text; free words match
//!   it fuzzily (see [`super`]).

use deskterm_api::{MacroStatus, Meta, OperatorId, OperatorRef, StatusDef};
use memchr::memmem;

use super::QueryError;
use super::ast::{Atom, CategoryValue, OperatorValue, Query, TimeField};
use super::fuzzy::FuzzyWord;
use super::names::{WordPrefix, loose_eq};
use super::parse::{TermSpan, parse_spanned};
use super::resolve::{Resolver, Rule};
use super::time::{self, Bounds};
use crate::query::{Sla, sla_state_at};
use crate::store::{Interner, Listed, Row, Sym, fold};

/// What a query is compiled against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The names rows were interned with.
    pub names: &'a Interner,
    /// The signed-in operator, once known.
    pub me: Option<OperatorId>,
    /// The time relative terms and SLA states are measured at, Unix seconds.
    pub now: i64,
    /// Offset of the operator's time zone, seconds east of UTC, for dates.
    pub utc_offset: i32,
    /// The server's statuses; empty before the meta data arrives.
    pub statuses: &'a [StatusDef],
    /// The server's operators; empty before the meta data arrives.
    pub operators: &'a [OperatorRef],
}

impl<'a> Context<'a> {
    /// A context from the server's meta data, dates in UTC.
    pub fn new(
        names: &'a Interner,
        meta: Option<&'a Meta>,
        me: Option<OperatorId>,
        now: i64,
    ) -> Context<'a> {
        Context {
            names,
            me,
            now,
            utc_offset: 0,
            statuses: meta.map_or(&[], |m| &m.statuses),
            operators: meta.map_or(&[], |m| &m.operators),
        }
    }
}

/// A term that cannot be resolved against the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Index of the term in [`Query::terms`].
    pub term: usize,
    /// Index of the value within the term, when one value is at fault.
    pub value: Option<usize>,
    /// What is wrong, for the operator.
    pub message: String,
}

impl CompileError {
    /// The error placed in the text the query was parsed from.
    pub fn locate(self, spans: &[TermSpan]) -> QueryError {
        let span = spans
            .get(self.term)
            .map(|t| {
                self.value
                    .and_then(|v| t.values.get(v).cloned())
                    .unwrap_or_else(|| t.whole.clone())
            })
            .unwrap_or(0..0);
        QueryError {
            span,
            message: self.message,
        }
    }
}

/// A query ready to test rows.
#[derive(Debug, Clone)]
pub struct Compiled {
    tests: Vec<Test>,
    words: Vec<Word>,
    names_len: usize,
    uses_now: bool,
}

#[derive(Debug, Clone)]
struct Test {
    negated: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Word {
    negated: bool,
    word: FuzzyWord,
}

#[derive(Debug, Clone)]
enum Kind {
    Important,
    /// A bit per priority rank.
    Priority(u8),
    Status(SymSet),
    /// Macro-status without a status list: by the closing time.
    ClosedAt {
        closed: bool,
        in_progress: bool,
    },
    Operator {
        ids: Box<[OperatorId]>,
        names: SymSet,
        nobody: bool,
    },
    Category {
        names: SymSet,
        nobody: bool,
    },
    Channel(SymSet),
    Time {
        field: TimeField,
        bounds: Bounds,
    },
    Tag(SymSet),
    Contact(SymSet),
    Sla {
        /// Bits: ok, at risk, breached, none.
        mask: u8,
        closed: SymSet,
        now: i64,
    },
    /// Folded references.
    Reference(Box<[Box<str>]>),
    /// A searcher for the folded phrase.
    Phrase(memmem::Finder<'static>),
}

impl Kind {
    /// Rough cost, to run cheap tests first.
    fn cost(&self) -> u8 {
        match self {
            Kind::Important | Kind::Priority(_) | Kind::ClosedAt { .. } => 0,
            Kind::Status(_)
            | Kind::Operator { .. }
            | Kind::Category { .. }
            | Kind::Channel(_)
            | Kind::Time { .. } => 1,
            Kind::Tag(_) | Kind::Contact(_) | Kind::Sla { .. } => 2,
            Kind::Reference(_) => 3,
            Kind::Phrase(_) => 4,
        }
    }

    #[inline]
    fn test(&self, row: Listed<'_>) -> bool {
        match self {
            Kind::Important => row.important,
            Kind::Priority(mask) => mask & (1 << row.priority.rank()) != 0,
            Kind::Status(set) => set.contains(row.status),
            Kind::ClosedAt {
                closed,
                in_progress,
            } => {
                if row.closed_at().is_some() {
                    *closed
                } else {
                    *in_progress
                }
            }
            Kind::Operator { ids, names, nobody } => match row.operator() {
                None => *nobody,
                Some(id) => {
                    ids.contains(&id) || row.operator_name().is_some_and(|n| names.contains(n))
                }
            },
            Kind::Category { names, nobody } => match row.category() {
                None => *nobody,
                Some(c) => names.contains(c),
            },
            Kind::Channel(set) => set.contains(row.channel),
            Kind::Time { field, bounds } => bounds.contains(match field {
                TimeField::Updated => row.updated_at,
                TimeField::Created => row.created_at,
            }),
            Kind::Tag(set) => row.tags.iter().any(|t| set.contains(*t)),
            Kind::Contact(set) => set.contains(row.contact_name),
            Kind::Sla { mask, closed, now } => mask & sla_bit(sla_of(row.row(), closed, *now)) != 0,
            Kind::Reference(refs) => refs.iter().any(|r| same_reference(row.reference(), r)),
            Kind::Phrase(p) => p.find(row.haystack().as_bytes()).is_some(),
        }
    }
}

fn same_reference(reference: &str, folded: &str) -> bool {
    if reference.is_ascii() {
        reference.eq_ignore_ascii_case(folded)
    } else {
        fold(reference) == folded
    }
}

/// The SLA state of a row, by the rule of [`crate::query::sla`].
fn sla_of(row: &Row, closed: &SymSet, now: i64) -> Option<Sla> {
    let is_closed = row.closed_at().is_some() || closed.contains(row.status);
    sla_state_at(row.sla_due_at(), is_closed, row.sla_state, now)
}

fn sla_bit(s: Option<Sla>) -> u8 {
    match s {
        Some(Sla::Ok) => 1,
        Some(Sla::AtRisk) => 2,
        Some(Sla::Breached) => 4,
        None => 8,
    }
}

/// A set of symbols: a short sorted list, or a bitmap when large.
#[derive(Debug, Clone)]
enum SymSet {
    Few(Box<[Sym]>),
    Many(Box<[u64]>),
}

const FEW: usize = 8;

impl SymSet {
    fn new(mut syms: Vec<Sym>) -> SymSet {
        syms.sort_unstable();
        syms.dedup();
        if syms.len() <= FEW {
            return SymSet::Few(syms.into_boxed_slice());
        }
        let top = syms.last().map_or(0, |&s| s as usize);
        let mut bits = vec![0u64; top / 64 + 1];
        for s in syms {
            bits[s as usize / 64] |= 1 << (s % 64);
        }
        SymSet::Many(bits.into_boxed_slice())
    }

    #[inline]
    fn contains(&self, sym: Sym) -> bool {
        match self {
            SymSet::Few(list) => list.contains(&sym),
            SymSet::Many(bits) => bits
                .get(sym as usize / 64)
                .is_some_and(|w| w & (1 << (sym % 64)) != 0),
        }
    }
}

impl Compiled {
    /// Whether `row` passes every term.
    #[inline]
    pub fn matches(&self, row: Listed<'_>) -> bool {
        for t in &self.tests {
            if t.kind.test(row) == t.negated {
                return false;
            }
        }
        self.words
            .iter()
            .all(|w| w.word.matches_row(row) != w.negated)
    }

    /// How many names the interner held when this was compiled. A name
    /// interned since (a new category, a new contact) may change the result:
    /// recompile when [`Interner::len`] differs.
    pub fn names_len(&self) -> usize {
        self.names_len
    }

    /// Whether the result depends on the time it was compiled at (relative
    /// times, SLA states): such a query is recompiled as time passes.
    pub fn uses_now(&self) -> bool {
        self.uses_now
    }

    /// True for the empty query, which every row passes.
    pub fn is_everything(&self) -> bool {
        self.tests.is_empty() && self.words.is_empty()
    }
}

/// Compiles a query against the client's data, with nothing remembered
/// from earlier compiles (see [`Compiler`]).
pub fn compile(query: &Query, ctx: &Context<'_>) -> Result<Compiled, CompileError> {
    Compiler::default().compile(query, ctx)
}

/// Compiles queries one after another, remembering which names each name
/// value selected: while the user types, a term already resolved costs
/// nothing, however many contacts there are. One per [`Interner`]: start a
/// new one when the client replaces its interner.
#[derive(Debug, Default, Clone)]
pub struct Compiler {
    resolver: Resolver,
}

impl Compiler {
    /// Compiles a query against the client's data.
    pub fn compile(&mut self, query: &Query, ctx: &Context<'_>) -> Result<Compiled, CompileError> {
        self.resolver.begin(ctx.names);
        let compiled = build(query, ctx, &mut self.resolver);
        self.resolver.end();
        compiled
    }

    /// Parses and compiles, with compile errors placed in the text.
    pub fn compile_text(
        &mut self,
        text: &str,
        ctx: &Context<'_>,
    ) -> Result<(Query, Compiled), QueryError> {
        let (query, spans) = parse_spanned(text)?;
        let compiled = self.compile(&query, ctx).map_err(|e| e.locate(&spans))?;
        Ok((query, compiled))
    }
}

fn build(
    query: &Query,
    ctx: &Context<'_>,
    resolver: &mut Resolver,
) -> Result<Compiled, CompileError> {
    let mut tests = Vec::new();
    let mut words = Vec::new();
    let mut uses_now = false;
    for (i, term) in query.terms.iter().enumerate() {
        let fail = |value: Option<usize>, message: String| CompileError {
            term: i,
            value,
            message,
        };
        let kind = match &term.atom {
            Atom::Word(w) => {
                words.push(Word {
                    negated: term.negated,
                    word: FuzzyWord::new(w),
                });
                continue;
            }
            Atom::Phrase(p) => Kind::Phrase(memmem::Finder::new(fold(p).as_bytes()).into_owned()),
            Atom::Important => Kind::Important,
            Atom::Priority(p) => Kind::Priority(p.mask()),
            Atom::Status(values) => {
                let mut syms = Vec::new();
                for (j, v) in values.iter().enumerate() {
                    let v = fold(v);
                    if ctx.statuses.is_empty() {
                        resolver.syms(Rule::Equal, &v, ctx.names, &mut syms);
                        continue;
                    }
                    let mut found = false;
                    for s in ctx.statuses {
                        if loose_eq(&fold(&s.key), &v) || loose_eq(&fold(&s.label), &v) {
                            found = true;
                            syms.extend(ctx.names.get(&s.key));
                        }
                    }
                    if !found {
                        let keys: Vec<&str> = ctx.statuses.iter().map(|s| s.key.as_str()).collect();
                        return Err(fail(
                            Some(j),
                            format!(
                                "unknown status '{}' (statuses: {})",
                                values[j],
                                keys.join(", ")
                            ),
                        ));
                    }
                }
                Kind::Status(SymSet::new(syms))
            }
            Atom::Macro(values) => {
                if ctx.statuses.is_empty() {
                    Kind::ClosedAt {
                        closed: values.contains(&MacroStatus::Closed),
                        in_progress: values.contains(&MacroStatus::InProgress),
                    }
                } else {
                    Kind::Status(status_syms(ctx, |s| values.contains(&s.macro_status)))
                }
            }
            Atom::Operator(values) => {
                let mut ids = Vec::new();
                let mut syms = Vec::new();
                let mut nobody = false;
                for (j, v) in values.iter().enumerate() {
                    match v {
                        OperatorValue::Me => ids.extend(ctx.me),
                        OperatorValue::Nobody => nobody = true,
                        OperatorValue::Name(name) => {
                            let name = fold(name);
                            if ctx.operators.is_empty() {
                                resolver.syms(Rule::WordPrefix, &name, ctx.names, &mut syms);
                                continue;
                            }
                            let before = ids.len();
                            let prefix = WordPrefix::new(&name);
                            ids.extend(
                                ctx.operators
                                    .iter()
                                    .filter(|o| prefix.matches(&fold(&o.name)))
                                    .map(|o| o.id),
                            );
                            if ids.len() == before {
                                return Err(fail(Some(j), no_operator(v, ctx.operators)));
                            }
                        }
                    }
                }
                ids.sort_unstable();
                ids.dedup();
                Kind::Operator {
                    ids: ids.into_boxed_slice(),
                    names: SymSet::new(syms),
                    nobody,
                }
            }
            Atom::Category(values) => {
                let mut syms = Vec::new();
                let mut nobody = false;
                for v in values {
                    match v {
                        CategoryValue::Nobody => nobody = true,
                        CategoryValue::Name(name) => {
                            resolver.syms(Rule::Equal, &fold(name), ctx.names, &mut syms);
                        }
                    }
                }
                Kind::Category {
                    names: SymSet::new(syms),
                    nobody,
                }
            }
            Atom::Tag(values) => Kind::Tag(names_equal(ctx, resolver, values)),
            Atom::Channel(values) => Kind::Channel(names_equal(ctx, resolver, values)),
            Atom::Contact(values) => {
                let mut syms = Vec::new();
                for v in values {
                    resolver.syms(Rule::WordPrefix, &fold(v), ctx.names, &mut syms);
                }
                Kind::Contact(SymSet::new(syms))
            }
            Atom::Sla(values) => {
                uses_now = true;
                Kind::Sla {
                    mask: values.iter().fold(0, |m, s| m | sla_bit(*s)),
                    closed: status_syms(ctx, |s| s.macro_status == MacroStatus::Closed),
                    now: ctx.now,
                }
            }
            Atom::Time(field, test) => {
                uses_now |= time::is_relative(test);
                Kind::Time {
                    field: *field,
                    bounds: time::bounds(test, ctx.now, ctx.utc_offset),
                }
            }
            Atom::Reference(values) => {
                Kind::Reference(values.iter().map(|v| fold(v).into_boxed_str()).collect())
            }
        };
        tests.push(Test {
            negated: term.negated,
            kind,
        });
    }
    tests.sort_by_key(|t| t.kind.cost());
    Ok(Compiled {
        tests,
        words,
        names_len: ctx.names.len(),
        uses_now,
    })
}

/// Symbols of the status keys `pick` selects.
fn status_syms(ctx: &Context<'_>, pick: impl Fn(&StatusDef) -> bool) -> SymSet {
    SymSet::new(
        ctx.statuses
            .iter()
            .filter(|s| pick(s))
            .filter_map(|s| ctx.names.get(&s.key))
            .collect(),
    )
}

fn names_equal(ctx: &Context<'_>, resolver: &mut Resolver, values: &[String]) -> SymSet {
    let mut syms = Vec::new();
    for v in values {
        resolver.syms(Rule::Equal, &fold(v), ctx.names, &mut syms);
    }
    SymSet::new(syms)
}

fn no_operator(v: &OperatorValue, operators: &[OperatorRef]) -> String {
    const SHOWN: usize = 8;
    let name = match v {
        OperatorValue::Name(n) => n.as_str(),
        OperatorValue::Me => "me",
        OperatorValue::Nobody => "none",
    };
    let mut known: Vec<&str> = operators
        .iter()
        .take(SHOWN)
        .map(|o| o.name.as_str())
        .collect();
    if operators.len() > SHOWN {
        known.push("…");
    }
    format!(
        "no operator matches '{name}' (operators: {}; also me, none)",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use deskterm_api::{Priority, Ticket, TicketId};

    use super::*;
    use crate::query::lang::compile_text;
    use crate::query::lang::testkit::{ME, NOW, op, operators, rows, statuses, ticket};
    use crate::store::Indexed;

    /// Ids of the tickets `text` keeps, with statuses, operators and me known.
    fn hits(text: &str, tickets: &[Ticket]) -> Vec<TicketId> {
        let mut names = Interner::default();
        let rows = rows(tickets, &mut names);
        let (statuses, operators) = (statuses(), operators());
        let ctx = Context {
            names: &names,
            me: Some(ME),
            now: NOW,
            utc_offset: 0,
            statuses: &statuses,
            operators: &operators,
        };
        let (_, compiled) = compile_text(text, &ctx).unwrap();
        rows.iter()
            .filter(|r| compiled.matches(r.listed()))
            .map(|r| r.row.id)
            .collect()
    }

    fn error(text: &str) -> QueryError {
        let names = Interner::default();
        let (statuses, operators) = (statuses(), operators());
        let ctx = Context {
            names: &names,
            me: Some(ME),
            now: NOW,
            utc_offset: 0,
            statuses: &statuses,
            operators: &operators,
        };
        compile_text(text, &ctx).unwrap_err()
    }

    fn with(id: TicketId, edit: impl FnOnce(&mut Ticket)) -> Ticket {
        let mut t = ticket(id);
        edit(&mut t);
        t
    }

    fn at(s: i64) -> DateTime<chrono::Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn empty_query_keeps_everything() {
        let t = [ticket(1), ticket(2)];
        assert_eq!(hits("", &t), vec![1, 2]);
    }

    #[test]
    fn status_by_key_or_label_any_case_and_accent() {
        let t = [
            with(1, |t| t.status = "open".into()),
            with(2, |t| t.status = "waiting_parts".into()),
            with(3, |t| t.status = "closed".into()),
        ];
        assert_eq!(hits("status:OPEN", &t), vec![1]);
        assert_eq!(hits("status:open,\"esperando PIEZAS\"", &t), vec![1, 2]);
        assert_eq!(hits("status:Waiting_Parts", &t), vec![2]);
        assert_eq!(hits("-status:closed", &t), vec![1, 2]);
        assert_eq!(hits("macro:closed", &t), vec![3]);
        assert_eq!(hits("macro:in_progress", &t), vec![1, 2]);
    }

    #[test]
    fn unknown_status_is_an_error_naming_the_valid_ones() {
        let e = error("lote status:open,opn");
        assert_eq!(e.span, 17..20);
        assert!(e.message.contains("unknown status 'opn'"), "{}", e.message);
        assert!(e.message.contains("waiting_parts"), "{}", e.message);
    }

    #[test]
    fn without_meta_statuses_are_keys_and_closed_is_the_closing_time() {
        let tickets = [
            with(1, |t| t.status = "open".into()),
            with(2, |t| {
                t.status = "done".into();
                t.closed_at = Some(at(NOW));
            }),
        ];
        let mut names = Interner::default();
        let rows = rows(&tickets, &mut names);
        let ctx = Context::new(&names, None, None, NOW);
        let run = |text: &str| -> Vec<TicketId> {
            let (_, c) = compile_text(text, &ctx).unwrap();
            rows.iter()
                .filter(|r| c.matches(r.listed()))
                .map(|r| r.row.id)
                .collect()
        };
        assert_eq!(run("status:DONE,nosuch"), vec![2]);
        assert_eq!(run("macro:closed"), vec![2]);
        assert_eq!(run("macro:in_progress"), vec![1]);
        assert!(run("op:me").is_empty());
    }

    #[test]
    fn priorities_as_sets_and_ranges() {
        let t: Vec<Ticket> = Priority::ALL
            .into_iter()
            .zip(1..)
            .map(|(p, id)| with(id, |t| t.priority = p))
            .collect();
        assert_eq!(hits("priority:high,urgent", &t), vec![3, 4]);
        assert_eq!(hits("priority>=high", &t), vec![3, 4]);
        assert_eq!(hits("priority>high", &t), vec![4]);
        assert_eq!(hits("priority<high", &t), vec![1, 2]);
        assert_eq!(hits("priority<=high", &t), vec![1, 2, 3]);
        assert_eq!(hits("priority=normal", &t), vec![2]);
        assert_eq!(hits("-priority:low", &t), vec![2, 3, 4]);
    }

    #[test]
    fn operators_me_none_and_names_by_word_prefix() {
        let t = [
            with(1, |t| t.operator = op(7)),
            with(2, |t| t.operator = op(8)),
            with(3, |t| t.operator = op(9)),
            ticket(4),
        ];
        assert_eq!(hits("op:me", &t), vec![1]);
        assert_eq!(hits("op:none", &t), vec![4]);
        assert_eq!(hits("op:me,none", &t), vec![1, 4]);
        assert_eq!(hits("op:mar", &t), vec![1, 3]);
        assert_eq!(hits("op:gomez", &t), vec![2]);
        assert_eq!(hits("op:\"ana ruiz\"", &t), vec![2]);
        assert_eq!(hits("-op:none", &t), vec![1, 2, 3]);
        let e = error("op:zoe");
        assert_eq!(e.span, 3..6);
        assert!(e.message.contains("Marco Rossi"), "{}", e.message);
    }

    #[test]
    fn categories_tags_channels_by_whole_name() {
        let t = [
            with(1, |t| t.category = Some("Facturación".into())),
            with(2, |t| {
                t.category = Some("Hardware".into());
                t.tags = vec!["vip".into(), "B2B".into()];
                t.channel = "email".into();
            }),
            ticket(3),
        ];
        assert_eq!(hits("cat:facturacion", &t), vec![1]);
        assert_eq!(hits("cat:FACTURACIÓN", &t), vec![1]);
        assert_eq!(hits("cat:factura", &t), Vec::<TicketId>::new());
        assert_eq!(hits("cat:none", &t), vec![3]);
        assert_eq!(hits("cat:hardware,none", &t), vec![2, 3]);
        assert_eq!(hits("cat:nosuch", &t), Vec::<TicketId>::new());
        assert_eq!(hits("tag:b2b", &t), vec![2]);
        assert_eq!(hits("-tag:vip", &t), vec![1, 3]);
        assert_eq!(hits("channel:EMAIL", &t), vec![2]);
        assert_eq!(hits("channel:web", &t), vec![1, 3]);
    }

    #[test]
    fn important_flag() {
        let t = [with(1, |t| t.important = true), ticket(2)];
        assert_eq!(hits("important", &t), vec![1]);
        assert_eq!(hits("-important", &t), vec![2]);
    }

    #[test]
    fn sla_states_follow_the_sla_rule() {
        let due = |s: i64| Some(at(NOW + s));
        let t = [
            with(1, |t| t.sla_due_at = due(7_200)),
            with(2, |t| t.sla_due_at = due(3_600)),
            with(3, |t| t.sla_due_at = due(0)),
            with(4, |t| t.sla_due_at = due(-60)),
            ticket(5),
            with(6, |t| {
                t.sla_due_at = due(-60);
                t.status = "resolved".into();
            }),
            with(7, |t| {
                t.sla_due_at = due(-60);
                t.closed_at = Some(at(NOW - 100));
            }),
            // The server's state is believed before the due time.
            with(8, |t| {
                t.sla_due_at = due(7_200);
                t.sla_state = Some(deskterm_api::SlaState::AtRisk);
            }),
            with(9, |t| {
                t.sla_due_at = due(600);
                t.sla_state = Some(deskterm_api::SlaState::Ok);
            }),
            with(10, |t| {
                t.sla_due_at = due(-1);
                t.sla_state = Some(deskterm_api::SlaState::Ok);
            }),
        ];
        let meta_statuses = statuses();
        let meta = deskterm_api::Meta {
            statuses: meta_statuses,
            priorities: Priority::ALL.to_vec(),
            categories: vec![],
            operators: operators(),
            tags: vec![],
            channels: vec![],
            capabilities: deskterm_api::ServerCapabilities {
                preconditions: true,
                live_events: true,
                custom_statuses: true,
                stats: true,
                history: true,
                escalations: false,
            },
            server_version: String::new(),
        };
        let now = DateTime::from_timestamp(NOW, 0).unwrap();
        for (state, name) in [
            (Some(Sla::Ok), "ok"),
            (Some(Sla::AtRisk), "at_risk"),
            (Some(Sla::Breached), "breached"),
            (None, "none"),
        ] {
            let expected: Vec<TicketId> = t
                .iter()
                .filter(|t| crate::query::sla(t, Some(&meta), now) == state)
                .map(|t| t.id)
                .collect();
            assert_eq!(hits(&format!("sla:{name}"), &t), expected, "{name}");
        }
        assert_eq!(hits("sla:at_risk,breached", &t), vec![2, 3, 4, 8, 10]);
        assert_eq!(hits("sla:ok", &t), vec![1, 9]);
    }

    #[test]
    fn relative_and_absolute_times() {
        let t = [
            with(1, |t| t.updated_at = at(NOW - 60)),
            with(2, |t| t.updated_at = at(NOW - 86_400 * 3)),
            with(3, |t| t.updated_at = at(NOW - 86_400 * 10)),
        ];
        assert_eq!(hits("updated<1h", &t), vec![1]);
        assert_eq!(hits("updated<7d", &t), vec![1, 2]);
        assert_eq!(hits("updated>7d", &t), vec![3]);
        assert_eq!(hits("updated>=1w", &t), vec![3]);
        // NOW is 2026-03-01 12:00 UTC; ticket 2 was updated on 26 February.
        assert_eq!(hits("updated:2026-02-26", &t), vec![2]);
        assert_eq!(hits("updated>2026-02-26", &t), vec![1]);
        assert_eq!(hits("updated>=2026-02-26", &t), vec![1, 2]);
        assert_eq!(hits("updated<2026-02-26", &t), vec![3]);
        assert_eq!(hits("updated<=2026-02-26", &t), vec![2, 3]);
        assert_eq!(hits("created<7d", &t), Vec::<TicketId>::new());
        assert_eq!(hits("created>4w", &t), vec![1, 2, 3]);
    }

    #[test]
    fn contact_reference_and_phrase() {
        let t = [
            with(1, |t| t.contact.name = "Ana Ruiz".into()),
            with(2, |t| {
                t.contact.name = "Juliana Sanz".into();
                t.title = "Refund for order 12".into();
            }),
        ];
        assert_eq!(hits("contact:ana", &t), vec![1]);
        assert_eq!(hits("contact:\"ana ruiz\"", &t), vec![1]);
        assert_eq!(hits("contact:sanz", &t), vec![2]);
        assert_eq!(hits("ref:hd-000002", &t), vec![2]);
        assert_eq!(hits("ref:HD-00000", &t), Vec::<TicketId>::new());
        assert_eq!(hits("\"REFUND FOR\"", &t), vec![2]);
        assert_eq!(hits("\"refnd\"", &t), Vec::<TicketId>::new());
        assert_eq!(hits("-\"refund\"", &t), vec![1]);
    }

    #[test]
    fn free_words_match_fuzzily_all_of_them() {
        let t = [
            with(1, |t| t.title = "Lote 12 sin etiqueta".into()),
            with(2, |t| t.title = "Ritardo consegna".into()),
            with(3, |t| t.title = "Cámara rota".into()),
        ];
        assert_eq!(hits("lote", &t), vec![1]);
        assert_eq!(hits("lt12", &t), vec![1]);
        assert_eq!(hits("lote 12", &t), vec![1]);
        assert_eq!(hits("lote ritardo", &t), Vec::<TicketId>::new());
        assert_eq!(hits("RITARDO", &t), vec![2]);
        assert_eq!(hits("camara", &t), vec![3]);
        assert_eq!(hits("nuria camara", &t), vec![3]);
        assert_eq!(hits("-lote", &t), vec![2, 3]);
        assert_eq!(hits("hd3", &t), vec![3]);
    }

    #[test]
    fn tells_when_names_grew_since_compiling() {
        let mut names = Interner::default();
        let t = [ticket(1)];
        let _ = rows(&t, &mut names);
        let mut compiler = Compiler::default();
        let ctx = Context::new(&names, None, None, NOW);
        let (_, compiled) = compiler.compile_text("cat:billing", &ctx).unwrap();
        assert_eq!(compiled.names_len(), names.len());
        assert!(!compiled.uses_now());
        let late = with(2, |t| t.category = Some("Billing".into()));
        let row = Indexed::new(&late, &mut names);
        assert!(!compiled.matches(row.listed()));
        assert_ne!(compiled.names_len(), names.len());
        // The same compiler remembers "billing" and scans only the new names.
        let ctx = Context::new(&names, None, None, NOW);
        let (_, again) = compiler.compile_text("cat:billing", &ctx).unwrap();
        assert!(again.matches(row.listed()));
        let (_, timed) = compiler.compile_text("updated<1d", &ctx).unwrap();
        assert!(timed.uses_now());
    }

    #[test]
    fn many_names_use_a_bitmap() {
        let t: Vec<Ticket> = (1..=40)
            .map(|i| with(i, |t| t.contact.name = format!("Ana {i}")))
            .collect();
        let mut expected: Vec<TicketId> = (1..=40).collect();
        assert_eq!(hits("contact:ana", &t), expected);
        expected.retain(|&i| i == 1 || (10..20).contains(&i));
        assert_eq!(hits("contact:\"ana 1\"", &t), expected);
    }
}
