//! `GET /tickets`: the filter, the sort order and the keyset cursor, read
//! from a [`TicketQuery`] and turned into SQL.
//!
//! A cursor is the hex of a small JSON document holding the sort order, the
//! sort key of the last ticket shown and its id; the next page starts
//! strictly after that pair, so paging visits every ticket once even while
//! tickets change. Nulls (no category, no operator) sort last either way, and
//! ties are broken by id in the direction of the sort.

use deskterm_api::{
    MacroStatus, PAGE_LIMIT_MAX, Priority, Sort, SortField, StatusDef, Ticket, TicketQuery,
};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};

use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::store::tickets::{SELECT_TICKETS, TICKET_FROM};
use crate::text::fold;
use crate::time;

/// Page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// Which tickets are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    statuses: Vec<String>,
    macro_status: Option<MacroStatus>,
    priorities: Vec<Priority>,
    operators: Vec<i64>,
    unassigned: bool,
    categories: Vec<String>,
    contact: Option<i64>,
    q: Option<String>,
}

/// A checked `GET /tickets` request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listing {
    pub(crate) filter: Filter,
    pub(crate) sort: Sort,
    pub(crate) limit: u32,
    after: Option<Position>,
}

/// Where a page starts: after this sort key and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// Sort order the cursor was made for.
    s: String,
    /// Sort key of the last ticket of the previous page.
    k: Key,
    /// Id of that ticket.
    i: i64,
}

/// A sort key value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Key {
    Int(i64),
    Text(String),
    Null,
}

fn list(value: Option<&str>) -> Vec<&str> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

impl Listing {
    /// Checks a query against the known statuses.
    pub(crate) fn parse(query: &TicketQuery, statuses: &[StatusDef]) -> ApiResult<Listing> {
        let mut errors = FieldErrors::default();
        let mut filter = Filter::default();
        for key in list(query.status.as_deref()) {
            if statuses.iter().any(|s| s.key == key) {
                filter.statuses.push(key.to_owned());
            } else {
                errors.add("status", format!("unknown status {key:?}"));
            }
        }
        filter.macro_status = query.macro_status;
        for name in list(query.priority.as_deref()) {
            match name.parse() {
                Ok(p) => filter.priorities.push(p),
                Err(e) => errors.add("priority", e),
            }
        }
        for id in list(query.operator.as_deref()) {
            if id.eq_ignore_ascii_case("none") {
                filter.unassigned = true;
            } else {
                match id.parse() {
                    Ok(id) => filter.operators.push(id),
                    Err(_) => errors.add(
                        "operator",
                        format!("{id:?} is neither an operator id nor `none`"),
                    ),
                }
            }
        }
        filter.categories = list(query.category.as_deref())
            .into_iter()
            .map(fold)
            .collect();
        filter.contact = query.contact;
        filter.q = query
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(fold);

        let sort = match query.sort.as_deref().map(str::trim) {
            None | Some("") => Sort {
                field: SortField::Updated,
                descending: true,
            },
            Some(s) => s.parse().unwrap_or_else(|e: String| {
                errors.add("sort", e);
                Sort {
                    field: SortField::Updated,
                    descending: true,
                }
            }),
        };
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > PAGE_LIMIT_MAX {
            errors.add(
                "limit",
                format!("the page size must be 1 to {PAGE_LIMIT_MAX}"),
            );
        }
        errors.check()?;
        let after = match query.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => Some(decode_cursor(cursor, sort)?),
        };
        Ok(Listing {
            filter,
            sort,
            limit,
            after,
        })
    }

    /// The query counting every matching ticket.
    pub(crate) fn count_query(&self) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::new(format!("SELECT COUNT(*) {TICKET_FROM} WHERE 1 = 1"));
        self.filter.push(&mut qb);
        qb
    }

    /// The query reading this page, plus one ticket to tell whether another page follows.
    pub(crate) fn page_query(&self) -> QueryBuilder<Sqlite> {
        let mut qb = QueryBuilder::new(format!("{SELECT_TICKETS} WHERE 1 = 1"));
        self.filter.push(&mut qb);
        let expr = sort_expr(self.sort.field);
        let (cmp, dir) = if self.sort.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some(after) = &self.after {
            match &after.k {
                Key::Null => {
                    qb.push(format_args!(" AND ({expr} IS NULL AND t.id {cmp} "));
                    qb.push_bind(after.i);
                    qb.push(")");
                }
                key => {
                    qb.push(format_args!(" AND ({expr} IS NULL OR {expr} {cmp} "));
                    push_key(&mut qb, key);
                    qb.push(format_args!(" OR ({expr} = "));
                    push_key(&mut qb, key);
                    qb.push(format_args!(" AND t.id {cmp} "));
                    qb.push_bind(after.i);
                    qb.push("))");
                }
            }
        }
        qb.push(format_args!(
            " ORDER BY ({expr} IS NULL), {expr} {dir}, t.id {dir} LIMIT "
        ));
        qb.push_bind(i64::from(self.limit) + 1);
        qb
    }

    /// The cursor of the page after one ending with `last`.
    pub(crate) fn cursor_after(&self, last: &Ticket, statuses: &[StatusDef]) -> String {
        let position = Position {
            s: self.sort.to_string(),
            k: key_of(self.sort.field, last, statuses),
            i: last.id,
        };
        // A small struct of strings and integers always serializes.
        hex::encode(serde_json::to_vec(&position).unwrap_or_default())
    }
}

impl Filter {
    fn push(&self, qb: &mut QueryBuilder<Sqlite>) {
        if !self.statuses.is_empty() {
            qb.push(" AND t.status IN (");
            let mut list = qb.separated(", ");
            for s in &self.statuses {
                list.push_bind(s.clone());
            }
            qb.push(")");
        }
        if let Some(m) = self.macro_status {
            qb.push(" AND s.macro = ").push_bind(m.as_str());
        }
        if !self.priorities.is_empty() {
            qb.push(" AND t.priority IN (");
            let mut list = qb.separated(", ");
            for p in &self.priorities {
                list.push_bind(i64::from(p.rank()));
            }
            qb.push(")");
        }
        if !self.operators.is_empty() || self.unassigned {
            qb.push(" AND (");
            if !self.operators.is_empty() {
                qb.push("t.operator_id IN (");
                let mut list = qb.separated(", ");
                for id in &self.operators {
                    list.push_bind(*id);
                }
                qb.push(")");
                if self.unassigned {
                    qb.push(" OR ");
                }
            }
            if self.unassigned {
                qb.push("t.operator_id IS NULL");
            }
            qb.push(")");
        }
        if !self.categories.is_empty() {
            qb.push(" AND c.folded IN (");
            let mut list = qb.separated(", ");
            for c in &self.categories {
                list.push_bind(c.clone());
            }
            qb.push(")");
        }
        if let Some(contact) = self.contact {
            qb.push(" AND t.contact_id = ").push_bind(contact);
        }
        if let Some(q) = &self.q {
            qb.push(" AND (instr(t.reference_folded, ")
                .push_bind(q.clone())
                .push(") > 0 OR instr(t.title_folded, ")
                .push_bind(q.clone())
                .push(") > 0)");
        }
    }
}

fn push_key(qb: &mut QueryBuilder<Sqlite>, key: &Key) {
    match key {
        Key::Int(i) => qb.push_bind(*i),
        Key::Text(t) => qb.push_bind(t.clone()),
        Key::Null => qb.push("NULL"),
    };
}

/// The SQL of a sort column; its values match [`key_of`].
fn sort_expr(field: SortField) -> &'static str {
    match field {
        SortField::Reference => "t.reference_folded",
        SortField::Title => "t.title_folded",
        SortField::Status => "s.position",
        SortField::Priority => "t.priority",
        SortField::Category => "c.folded",
        SortField::Operator => "o.name_folded",
        SortField::Contact => "ct.name_folded",
        SortField::Created => "t.created_at",
        SortField::Updated => "t.updated_at",
    }
}

/// The sort key of a ticket, computed as [`sort_expr`] stores it.
fn key_of(field: SortField, t: &Ticket, statuses: &[StatusDef]) -> Key {
    match field {
        SortField::Reference => Key::Text(fold(&t.reference)),
        SortField::Title => Key::Text(fold(&t.title)),
        SortField::Status => statuses
            .iter()
            .position(|s| s.key == t.status)
            .and_then(|p| i64::try_from(p).ok())
            .map_or(Key::Null, Key::Int),
        SortField::Priority => Key::Int(i64::from(t.priority.rank())),
        SortField::Category => t
            .category
            .as_deref()
            .map_or(Key::Null, |c| Key::Text(fold(c))),
        SortField::Operator => t
            .operator
            .as_ref()
            .map_or(Key::Null, |o| Key::Text(fold(&o.name))),
        SortField::Contact => Key::Text(fold(&t.contact.name)),
        SortField::Created => Key::Text(time::to_db(t.created_at)),
        SortField::Updated => Key::Text(time::to_db(t.updated_at)),
    }
}

fn decode_cursor(cursor: &str, sort: Sort) -> ApiResult<Position> {
    let bad = || ApiError::bad_request("the cursor is not one this server gave out");
    let bytes = hex::decode(cursor.trim()).map_err(|_| bad())?;
    let position: Position = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if position.s != sort.to_string() {
        return Err(ApiError::bad_request(
            "the cursor was made for another sort order; start again without it",
        ));
    }
    let int_key = matches!(sort.field, SortField::Status | SortField::Priority);
    let nullable = matches!(sort.field, SortField::Category | SortField::Operator);
    let fits = match position.k {
        Key::Int(_) => int_key,
        Key::Text(_) => !int_key,
        Key::Null => nullable,
    };
    if !fits {
        return Err(bad());
    }
    Ok(position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use deskterm_api::{ContactRef, MacroStatus};

    fn statuses() -> Vec<StatusDef> {
        ["new", "open", "closed"]
            .into_iter()
            .map(|k| StatusDef {
                key: k.to_owned(),
                label: k.to_owned(),
                macro_status: MacroStatus::InProgress,
                builtin: true,
            })
            .collect()
    }

    fn ticket() -> Ticket {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Ticket {
            id: 7,
            reference: "HD-000007".into(),
            title: "Impresora".into(),
            description: String::new(),
            status: "open".into(),
            priority: Priority::High,
            category: None,
            tags: vec![],
            important: false,
            contact: ContactRef {
                id: 1,
                name: "Ana".into(),
                phone: None,
                email: None,
            },
            operator: None,
            channel: "web".into(),
            sla_due_at: None,
            created_at: at,
            updated_at: at,
            closed_at: None,
            version: 1,
        }
    }

    fn query(sort: &str) -> TicketQuery {
        TicketQuery {
            sort: Some(sort.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn cursors_round_trip_for_every_sort() {
        for field in SortField::ALL {
            for descending in [false, true] {
                let sort = Sort { field, descending };
                let listing = Listing::parse(&query(&sort.to_string()), &statuses()).unwrap();
                let cursor = listing.cursor_after(&ticket(), &statuses());
                assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()));
                let next = TicketQuery {
                    cursor: Some(cursor),
                    ..query(&sort.to_string())
                };
                let parsed = Listing::parse(&next, &statuses()).unwrap();
                assert_eq!(parsed.after.map(|p| p.i), Some(7), "{sort}");
            }
        }
    }

    #[test]
    fn bad_queries_are_refused() {
        let s = statuses();
        let refuse = |q: TicketQuery| Listing::parse(&q, &s).unwrap_err().status();
        assert_eq!(refuse(query("-nope")), StatusCode::UNPROCESSABLE_ENTITY);
        let q = |f: fn(&mut TicketQuery)| {
            let mut q = TicketQuery::default();
            f(&mut q);
            q
        };
        assert_eq!(
            refuse(q(|q| q.priority = Some("high,asap".into()))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            refuse(q(|q| q.status = Some("open,gone".into()))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            refuse(q(|q| q.limit = Some(0))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            refuse(q(|q| q.limit = Some(PAGE_LIMIT_MAX + 1))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            refuse(q(|q| q.operator = Some("x".into()))),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            refuse(q(|q| q.cursor = Some("zz".into()))),
            StatusCode::BAD_REQUEST
        );
        let listing = Listing::parse(&query("title"), &s).unwrap();
        let cursor = listing.cursor_after(&ticket(), &s);
        let other_sort = TicketQuery {
            cursor: Some(cursor),
            ..query("-title")
        };
        assert_eq!(refuse(other_sort), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn filters_parse() {
        let q = TicketQuery {
            status: Some("open, new".into()),
            operator: Some("3,none".into()),
            q: Some("  ImPre ".into()),
            ..Default::default()
        };
        let l = Listing::parse(&q, &statuses()).unwrap();
        assert_eq!(l.filter.statuses, vec!["open", "new"]);
        assert_eq!(l.filter.operators, vec![3]);
        assert!(l.filter.unassigned);
        assert_eq!(l.filter.q.as_deref(), Some("impre"));
        assert_eq!(l.sort.to_string(), "-updated");
        assert_eq!(l.limit, DEFAULT_LIMIT);
    }
}
