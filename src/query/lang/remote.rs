//! A query as a backend listing ([`TicketQuery`]): for tickets this client
//! does not hold (closed ones outside the sync scope), the server searches.
//!
//! A listing filters by status, family, priority, operator, category and
//! one search string. Only terms it can say exactly are passed on, so what
//! it returns is the query's matches or more (apart from the search string:
//! the server's search, on reference and title, applies to what it holds);
//! the client then keeps what the whole query matches.

use deskterm_api::{MacroStatus, Meta, OperatorId, Priority, TicketQuery};

use super::ast::{Atom, CategoryValue, OperatorValue, Query};
use super::names::{loose_eq, word_prefix};

/// Whether every ticket `query` matches is surely in progress (by family or
/// by statuses that all are): then nothing closed needs asking for.
pub fn in_progress_only(query: &Query, meta: Option<&Meta>) -> bool {
    query
        .terms
        .iter()
        .filter(|t| !t.negated)
        .any(|t| match &t.atom {
            Atom::Macro(families) => families.iter().all(|m| *m == MacroStatus::InProgress),
            Atom::Status(names) => meta.is_some_and(|meta| {
                names.iter().all(|name| {
                    meta.statuses.iter().any(|s| {
                        (loose_eq(&s.key, name) || loose_eq(&s.label, name))
                            && s.macro_status == MacroStatus::InProgress
                    })
                })
            }),
            _ => false,
        })
}

/// The listing that asks a backend for `query`'s matches (or more), newest
/// first, at most `limit`.
pub fn listing(
    query: &Query,
    meta: Option<&Meta>,
    me: Option<OperatorId>,
    limit: u32,
) -> TicketQuery {
    let mut out = TicketQuery {
        sort: Some("-updated".into()),
        limit: Some(limit),
        ..TicketQuery::default()
    };
    for term in query.terms.iter().filter(|t| !t.negated) {
        match &term.atom {
            Atom::Status(names) if out.status.is_none() => {
                out.status = status_keys(names, meta).map(|k| k.join(","));
            }
            Atom::Macro(families) if out.macro_status.is_none() => {
                if let [one] = families.as_slice() {
                    out.macro_status = Some(*one);
                }
            }
            Atom::Priority(test) if out.priority.is_none() => {
                let mask = test.mask();
                let names: Vec<&str> = Priority::ALL
                    .into_iter()
                    .filter(|p| mask & (1 << p.rank()) != 0)
                    .map(Priority::as_str)
                    .collect();
                out.priority = Some(names.join(","));
            }
            Atom::Operator(values) if out.operator.is_none() => {
                out.operator = operators(values, meta, me).map(|o| o.join(","));
            }
            Atom::Category(values) if out.category.is_none() => {
                let names: Option<Vec<&str>> = values
                    .iter()
                    .map(|v| match v {
                        CategoryValue::Name(n) => Some(n.as_str()),
                        CategoryValue::Nobody => None,
                    })
                    .collect();
                out.category = names.map(|n| n.join(","));
            }
            Atom::Reference(refs) if out.q.is_none() => {
                if let [one] = refs.as_slice() {
                    out.q = Some(one.clone());
                }
            }
            Atom::Phrase(text) | Atom::Word(text) if out.q.is_none() => {
                out.q = Some(text.clone());
            }
            _ => {}
        }
    }
    out
}

/// Status keys for names (keys or labels); `None` when one is unknown here.
fn status_keys(names: &[String], meta: Option<&Meta>) -> Option<Vec<String>> {
    let meta = meta?;
    names
        .iter()
        .map(|name| {
            meta.statuses
                .iter()
                .find(|s| loose_eq(&s.key, name) || loose_eq(&s.label, name))
                .map(|s| s.key.clone())
        })
        .collect()
}

/// Operator ids (or `none`) for the values; `None` when one cannot be said.
fn operators(
    values: &[OperatorValue],
    meta: Option<&Meta>,
    me: Option<OperatorId>,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for value in values {
        match value {
            OperatorValue::Nobody => out.push("none".to_owned()),
            OperatorValue::Me => out.push(me?.to_string()),
            OperatorValue::Name(name) => {
                let ids: Vec<String> = meta?
                    .operators
                    .iter()
                    .filter(|o| word_prefix(&o.name, name))
                    .map(|o| o.id.to_string())
                    .collect();
                if ids.is_empty() {
                    return None;
                }
                out.extend(ids);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lang::{parse, testkit};

    fn meta() -> Meta {
        Meta {
            statuses: testkit::statuses(),
            priorities: Priority::ALL.to_vec(),
            categories: Vec::new(),
            operators: testkit::operators(),
            tags: Vec::new(),
            channels: Vec::new(),
            capabilities: deskterm_api::ServerCapabilities {
                live_events: true,
                preconditions: true,
                custom_statuses: true,
                stats: false,
                history: false,
                escalations: false,
            },
            server_version: String::new(),
        }
    }

    #[test]
    fn what_a_listing_can_say_is_passed_on() {
        let meta = meta();
        let q =
            parse("status:Open priority>=high op:me,none cat:billing -tag:vip \"refund\" later")
                .expect("parses");
        let l = listing(&q, Some(&meta), Some(7), 200);
        assert_eq!(l.status.as_deref(), Some("open"));
        assert_eq!(l.priority.as_deref(), Some("high,urgent"));
        assert_eq!(l.operator.as_deref(), Some("7,none"));
        assert_eq!(l.category.as_deref(), Some("billing"));
        assert_eq!(l.q.as_deref(), Some("refund"), "the first search text");
        assert_eq!((l.sort.as_deref(), l.limit), (Some("-updated"), Some(200)));
    }

    #[test]
    fn what_it_cannot_say_is_left_out_rather_than_guessed() {
        let meta = meta();
        let q =
            parse("status:nonsense op:nobodyknown cat:none macro:closed,in_progress -status:open")
                .expect("parses");
        let l = listing(&q, Some(&meta), None, 10);
        assert_eq!(
            (l.status, l.operator, l.category, l.macro_status),
            (None, None, None, None)
        );
        let l = listing(&parse("op:me").expect("parses"), Some(&meta), None, 10);
        assert_eq!(l.operator, None, "me, before signing in");
    }

    #[test]
    fn in_progress_queries_need_nothing_closed() {
        let meta = meta();
        let only = |text: &str| in_progress_only(&parse(text).expect("parses"), Some(&meta));
        assert!(only("macro:in_progress lote"));
        assert!(only("status:open,pending"));
        assert!(!only("status:open,closed"));
        assert!(
            !only("-macro:closed"),
            "a negation is not a restriction here"
        );
        assert!(!only("lote"));
    }
}
