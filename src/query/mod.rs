//! Which tickets the list shows, and in which order. Pure: no I/O, no UI.
//!
//! Filtering and sorting run on the client over the tickets it holds, so a
//! new sort or filter answers at once, also when the server is slow.

mod compiled;
pub mod lang;
mod sla;

pub use sla::{AT_RISK_WITHIN, Sla, sla, state_at as sla_state_at};

use deskterm_api::{Sort, SortField};

/// The default order: most recently updated first.
pub const DEFAULT_SORT: Sort = Sort {
    field: SortField::Updated,
    descending: true,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Order, Store};
    use deskterm_api::{Meta, Priority, Ticket, TicketId};

    /// Ids of the tickets that pass `query`, ordered by `sort` (ties broken
    /// by id), worked out from scratch.
    fn view<'a>(
        tickets: impl IntoIterator<Item = &'a Ticket>,
        meta: Option<&Meta>,
        query: &str,
        sort: Sort,
    ) -> Vec<TicketId> {
        let mut store = Store::new();
        for t in tickets {
            store.put(t);
        }
        let order = Order::new(sort, &mut store, meta);
        let query = lang::parse(query).expect("a query");
        let ctx = lang::Context::new(store.names(), meta, Some(7), 0);
        let compiled = lang::compile(&query, &ctx).expect("it compiles");
        order
            .select(&store, &compiled)
            .into_iter()
            .filter_map(|s| store.row(s).map(|r| r.id))
            .collect()
    }
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
            pending_until: None,
            created_at: at(id),
            updated_at: at(100 - id),
            closed_at: None,
            sla_state: None,
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
        assert_eq!(view(&t, None, "", DEFAULT_SORT), vec![1, 2, 3, 4]);
    }

    #[test]
    fn sorts_by_priority_both_ways() {
        let t = sample();
        let asc = Sort {
            field: SortField::Priority,
            descending: false,
        };
        assert_eq!(view(&t, None, "", asc), vec![2, 4, 1, 3]);
        let desc = Sort {
            descending: true,
            ..asc
        };
        assert_eq!(view(&t, None, "", desc), vec![3, 1, 4, 2]);
    }

    #[test]
    fn title_sort_ignores_case_and_unassigned_go_last() {
        let t = sample();
        let by_title = Sort {
            field: SortField::Title,
            descending: false,
        };
        assert_eq!(view(&t, None, "", by_title), vec![3, 2, 1, 4]);
        let by_op = Sort {
            field: SortField::Operator,
            descending: false,
        };
        assert_eq!(view(&t, None, "", by_op), vec![3, 1, 4, 2]);
    }

    #[test]
    fn filters_combine() {
        let t = sample();
        assert_eq!(view(&t, None, "status:open", DEFAULT_SORT), vec![1, 3]);
        assert_eq!(view(&t, None, "status:open op:me", DEFAULT_SORT), vec![1]);
        assert_eq!(view(&t, None, "op:none", DEFAULT_SORT), vec![2]);
        assert_eq!(view(&t, None, "priority:urgent", DEFAULT_SORT), vec![3]);
    }

    #[test]
    fn words_match_without_case() {
        let t = sample();
        assert_eq!(view(&t, None, "PEDIDO", DEFAULT_SORT), vec![1]);
        assert_eq!(view(&t, None, "hd-000003", DEFAULT_SORT), vec![3]);
        assert!(view(&t, None, "núria zzz", DEFAULT_SORT).is_empty());
    }
}
