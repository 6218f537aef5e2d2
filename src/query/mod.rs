//! Which tickets the list shows, and in which order. Pure: no I/O, no UI.
//!
//! Filtering and sorting run on the client over the tickets it holds, so a
//! new sort or filter answers at once, also when the server is slow.

pub mod lang;
mod sla;

pub use sla::{AT_RISK_WITHIN, Sla, sla};

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use deskterm_api::{Meta, OperatorId, Priority, Sort, SortField, Ticket, TicketId};

/// The operator filter value for "nobody assigned".
pub type OperatorChoice = Option<OperatorId>;

/// The active filters; an empty set means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Status keys.
    pub statuses: BTreeSet<String>,
    /// Priorities.
    pub priorities: BTreeSet<Priority>,
    /// Operators; `None` stands for unassigned.
    pub operators: BTreeSet<OperatorChoice>,
    /// Case-insensitive words that must all appear in the reference, title or contact.
    pub text: String,
}

impl Filter {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.priorities.is_empty()
            && self.operators.is_empty()
            && self.text.trim().is_empty()
    }

    /// Whether a ticket passes the filter; `words` is the text filter pre-split.
    fn matches(&self, t: &Ticket, words: &[String]) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&t.status))
            && (self.priorities.is_empty() || self.priorities.contains(&t.priority))
            && (self.operators.is_empty()
                || self.operators.contains(&t.operator.as_ref().map(|o| o.id)))
            && words.iter().all(|w| {
                contains_folded(&t.title, w)
                    || contains_folded(&t.reference, w)
                    || contains_folded(&t.contact.name, w)
            })
    }
}

fn contains_folded(haystack: &str, folded_needle: &str) -> bool {
    haystack.to_lowercase().contains(folded_needle)
}

/// The default order: most recently updated first.
pub const DEFAULT_SORT: Sort = Sort {
    field: SortField::Updated,
    descending: true,
};

/// Ids of the tickets that pass `filter`, ordered by `sort` (ties broken by id
/// so the order is stable between refreshes).
pub fn view<'a>(
    tickets: impl IntoIterator<Item = &'a Ticket>,
    meta: Option<&Meta>,
    filter: &Filter,
    sort: Sort,
) -> Vec<TicketId> {
    let words: Vec<String> = filter
        .text
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let status_rank: HashMap<&str, usize> = meta
        .map(|m| {
            m.statuses
                .iter()
                .enumerate()
                .map(|(i, s)| (s.key.as_str(), i))
                .collect()
        })
        .unwrap_or_default();
    let mut rows: Vec<&Ticket> = tickets
        .into_iter()
        .filter(|t| filter.matches(t, &words))
        .collect();
    rows.sort_by(|a, b| {
        let ord = compare(a, b, sort.field, &status_rank);
        let ord = if sort.descending { ord.reverse() } else { ord };
        ord.then(a.id.cmp(&b.id))
    });
    rows.into_iter().map(|t| t.id).collect()
}

/// Compares on one column, ascending. Empty values (no category, nobody
/// assigned) sort after every name.
fn compare(
    a: &Ticket,
    b: &Ticket,
    field: SortField,
    status_rank: &HashMap<&str, usize>,
) -> Ordering {
    match field {
        SortField::Reference => a.reference.cmp(&b.reference),
        SortField::Title => cmp_text(&a.title, &b.title),
        SortField::Status => {
            let rank = |t: &Ticket| {
                status_rank
                    .get(t.status.as_str())
                    .copied()
                    .unwrap_or(usize::MAX)
            };
            rank(a).cmp(&rank(b)).then_with(|| a.status.cmp(&b.status))
        }
        SortField::Priority => a.priority.cmp(&b.priority),
        SortField::Category => cmp_optional(a.category.as_deref(), b.category.as_deref()),
        SortField::Operator => cmp_optional(
            a.operator.as_ref().map(|o| o.name.as_str()),
            b.operator.as_ref().map(|o| o.name.as_str()),
        ),
        SortField::Contact => cmp_text(&a.contact.name, &b.contact.name),
        SortField::Created => a.created_at.cmp(&b.created_at),
        SortField::Updated => a.updated_at.cmp(&b.updated_at),
    }
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    // Case-insensitive first so "álvaro" and "Álvaro" sit together; exact as tie-break.
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

fn cmp_optional(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => cmp_text(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use deskterm_api::{ContactRef, OperatorRef};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn ticket(
        id: i64,
        title: &str,
        status: &str,
        priority: Priority,
        op: Option<(i64, &str)>,
    ) -> Ticket {
        Ticket {
            id,
            reference: format!("HD-{id:06}"),
            title: title.into(),
            description: String::new(),
            status: status.into(),
            priority,
            category: None,
            tags: vec![],
            important: false,
            contact: ContactRef {
                id: 1,
                name: "Núria".into(),
                phone: None,
                email: None,
            },
            operator: op.map(|(id, name)| OperatorRef {
                id,
                name: name.into(),
            }),
            channel: "web".into(),
            sla_due_at: None,
            created_at: at(id),
            updated_at: at(100 - id),
            closed_at: None,
            version: 1,
        }
    }

    fn sample() -> Vec<Ticket> {
        vec![
            ticket(
                1,
                "Pedido perdido",
                "open",
                Priority::High,
                Some((7, "Marco")),
            ),
            ticket(2, "fattura errata", "new", Priority::Low, None),
            ticket(
                3,
                "Broken screen",
                "open",
                Priority::Urgent,
                Some((8, "Ana")),
            ),
            ticket(
                4,
                "Ápice de ventas",
                "closed",
                Priority::Normal,
                Some((7, "Marco")),
            ),
        ]
    }

    #[test]
    fn default_sort_is_most_recent_first() {
        let t = sample();
        assert_eq!(
            view(&t, None, &Filter::default(), DEFAULT_SORT),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn sorts_by_priority_both_ways() {
        let t = sample();
        let asc = Sort {
            field: SortField::Priority,
            descending: false,
        };
        assert_eq!(view(&t, None, &Filter::default(), asc), vec![2, 4, 1, 3]);
        let desc = Sort {
            descending: true,
            ..asc
        };
        assert_eq!(view(&t, None, &Filter::default(), desc), vec![3, 1, 4, 2]);
    }

    #[test]
    fn title_sort_ignores_case_and_unassigned_go_last() {
        let t = sample();
        let by_title = Sort {
            field: SortField::Title,
            descending: false,
        };
        assert_eq!(
            view(&t, None, &Filter::default(), by_title),
            vec![3, 2, 1, 4]
        );
        let by_op = Sort {
            field: SortField::Operator,
            descending: false,
        };
        assert_eq!(view(&t, None, &Filter::default(), by_op), vec![3, 1, 4, 2]);
    }

    #[test]
    fn filters_combine() {
        let t = sample();
        let mut f = Filter::default();
        f.statuses.insert("open".into());
        assert_eq!(view(&t, None, &f, DEFAULT_SORT), vec![1, 3]);
        f.operators.insert(Some(7));
        assert_eq!(view(&t, None, &f, DEFAULT_SORT), vec![1]);
        let mut unassigned = Filter::default();
        unassigned.operators.insert(None);
        assert_eq!(view(&t, None, &unassigned, DEFAULT_SORT), vec![2]);
        let mut urgent = Filter::default();
        urgent.priorities.insert(Priority::Urgent);
        assert_eq!(view(&t, None, &urgent, DEFAULT_SORT), vec![3]);
    }

    #[test]
    fn text_filter_matches_words_case_insensitively() {
        let t = sample();
        let f = Filter {
            text: "PEDIDO".into(),
            ..Default::default()
        };
        assert_eq!(view(&t, None, &f, DEFAULT_SORT), vec![1]);
        let f = Filter {
            text: "hd-000003".into(),
            ..Default::default()
        };
        assert_eq!(view(&t, None, &f, DEFAULT_SORT), vec![3]);
        let f = Filter {
            text: "núria zzz".into(),
            ..Default::default()
        };
        assert!(view(&t, None, &f, DEFAULT_SORT).is_empty());
    }
}
