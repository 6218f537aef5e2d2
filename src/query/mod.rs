//! Which tickets the list shows, and in which order. Pure: no I/O, no UI.
//!
//! Filtering and sorting run on the client over the tickets it holds, so a
//! new sort or filter answers at once, also when the server is slow.

mod compiled;
pub mod lang;
mod sla;

pub use compiled::CompiledFilter;

pub use sla::{AT_RISK_WITHIN, Sla, sla};

use std::collections::BTreeSet;

use deskterm_api::{Meta, OperatorId, Priority, Sort, SortField, Ticket, TicketId};

use crate::store::{Order, Store};

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
    /// Case-insensitive words that must all appear in the reference, title,
    /// contact or category.
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
}

/// The default order: most recently updated first.
pub const DEFAULT_SORT: Sort = Sort {
    field: SortField::Updated,
    descending: true,
};

/// Ids of the tickets that pass `filter`, ordered by `sort` (ties broken by id
/// so the order is stable between refreshes). Builds a store for the
/// occasion: the console keeps one and asks its worker instead.
pub fn view<'a>(
    tickets: impl IntoIterator<Item = &'a Ticket>,
    meta: Option<&Meta>,
    filter: &Filter,
    sort: Sort,
) -> Vec<TicketId> {
    let mut store = Store::new();
    for t in tickets {
        store.put(t);
    }
    let order = Order::new(sort, &mut store, meta);
    let compiled = CompiledFilter::new(filter, &mut store);
    let slots = order.select(&store, &compiled);
    slots
        .into_iter()
        .filter_map(|s| store.row(s).map(|r| r.id))
        .collect()
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
