//! `GET /tickets`: the filter, the sort order and the keyset cursor, read
//! from a [`TicketQuery`] and turned into SQL.
//!
//! A cursor is the hex of a small JSON document holding the sort order, the
//! sort key of the last ticket shown and its id; the next page starts
//! strictly after that pair, so paging visits every ticket once even while
//! tickets are added, changed or deleted. (A ticket whose sort key changes
//! while a listing is paged may show in its old place, its new one, both or
//! neither; every other ticket shows exactly once.) Nulls (no category, no
//! operator) sort last either way, and ties are broken by id in the
//! direction of the sort.
//!
//! At a million tickets a page must not cost more than its rows:
//! - every sort key is a column of `tickets` with an index on (key, id)
//!   (the keys kept in other tables are copied, see migration 0005), so a
//!   page walks that index from seeks to the cursor and stops after `limit`
//!   rows; nulls are walked separately, after the others;
//! - the filters test columns of `tickets` too (a status by its position, a
//!   macro-status by its statuses'), which those indexes also hold, so a
//!   filtered walk skips what it does not want without reading the table,
//!   and counting needs no join; a filter matching few tickets reads them
//!   through its own index instead ([`Plan`]);
//! - `total` is counted once per listing, for its first page; the cursor
//!   carries it to the later pages.

use deskterm_api::{
    MacroStatus, PAGE_LIMIT_MAX, Priority, Sort, SortField, StatusDef, TicketQuery,
};
use serde::{Deserialize, Serialize};
use sqlx::{Any, AnyPool, Row};

use crate::sql::Builder;

use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::store::tickets::{TICKET_JOINS, ticket_json};
use crate::text::fold;

/// Page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// Which tickets are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    /// Positions of the asked statuses.
    statuses: Vec<i64>,
    /// Positions of the statuses of the asked macro-status.
    macro_statuses: Option<Vec<i64>>,
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
    /// How many tickets matched when the first page was read (absent from
    /// cursors of older servers: then it is counted again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<u64>,
}

/// A sort key value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Key {
    Int(i64),
    Text(String),
    Null,
}

/// How much reading a matching ticket and sorting it costs, in steps over
/// index entries (measured at a million tickets: ~7 µs against ~0.1 µs).
const READ_VS_STEP: u128 = 70;

/// How a page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Along the sort order's index, skipping tickets the filter does not want.
    Walk,
    /// Through a filter's index, the matches sorted.
    Filter,
}

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page {
    /// Its tickets, in order, each the JSON text of a [`Ticket`].
    pub(crate) items: Vec<String>,
    /// The sort key and id of its last ticket, when another page follows.
    next: Option<(Key, i64)>,
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
            match position(statuses, |s| s.key == key).next() {
                Some(p) => filter.statuses.push(p),
                None => errors.add("status", format!("unknown status {key:?}")),
            }
        }
        filter.macro_statuses = query
            .macro_status
            .map(|m: MacroStatus| position(statuses, |s| s.macro_status == m).collect());
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

    /// How many tickets match, over all pages: counted for a listing's first
    /// page, carried by the cursor to the later ones.
    pub(crate) async fn total(&self, pool: &AnyPool) -> Result<u64, sqlx::Error> {
        if let Some(n) = self.after.as_ref().and_then(|a| a.n) {
            return Ok(n);
        }
        // Without a WHERE clause SQLite counts the smallest index's pages.
        let mut qb = Builder::new("SELECT COUNT(*) FROM tickets t");
        if !self.filter.is_empty() {
            qb.push(" WHERE 1 = 1");
            self.filter.push(&mut qb);
        }
        let n: i64 = qb.build_query_scalar()?.fetch_one(pool).await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Reads this page of a listing matching `total` tickets.
    pub(crate) async fn page(&self, pool: &AnyPool, total: u64) -> Result<Page, sqlx::Error> {
        let plan = self.plan(pool, total).await?;
        self.page_by(pool, plan).await
    }

    /// Reads this page as `plan` says.
    async fn page_by(&self, pool: &AnyPool, plan: Plan) -> Result<Page, sqlx::Error> {
        // One more than the page, to tell whether another follows.
        let want = i64::from(self.limit) + 1;
        let column = sort_column(self.sort.field);
        let (cmp, dir) = if self.sort.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let order = format!(" ORDER BY {column} {dir}, t.id {dir}");
        let mut rows = Vec::new();
        let short = |rows: &Vec<_>| want - i64::try_from(rows.len()).unwrap_or(want);
        let (keyed, unkeyed) = self.filter.keys_wanted(self.sort.field);
        match &self.after {
            _ if !keyed => {}
            None => {
                let mut qb = self.select(plan, true);
                qb.push(format_args!(" AND {column} IS NOT NULL {order} LIMIT "));
                qb.push_bind(want);
                rows = qb.build()?.fetch_all(pool).await?;
            }
            // Past the keyed tickets already: only tickets without a key are left.
            Some(Position { k: Key::Null, .. }) => {}
            Some(after) => {
                // The rest of the last key's tickets, then the next keys: two
                // seeks (SQLite seeks a row value `(key, id) > (?, ?)` on the
                // key alone and would step over the whole key's tickets).
                let mut qb = self.select(plan, true);
                qb.push(format_args!(" AND {column} = "));
                push_key(&mut qb, &after.k);
                qb.push(format_args!(" AND t.id {cmp} "))
                    .push_bind(after.i)
                    .push(format_args!(" ORDER BY t.id {dir} LIMIT "))
                    .push_bind(want);
                rows = qb.build()?.fetch_all(pool).await?;
                if short(&rows) > 0 {
                    let mut qb = self.select(plan, true);
                    qb.push(format_args!(" AND {column} {cmp} "));
                    push_key(&mut qb, &after.k);
                    qb.push(format_args!("{order} LIMIT "))
                        .push_bind(short(&rows));
                    rows.extend(qb.build()?.fetch_all(pool).await?);
                }
            }
        }
        if unkeyed && short(&rows) > 0 {
            let mut qb = self.select(plan, false);
            qb.push(format_args!(" AND {column} IS NULL"));
            if let Some(Position {
                k: Key::Null, i, ..
            }) = &self.after
            {
                qb.push(format_args!(" AND t.id {cmp} ")).push_bind(*i);
            }
            qb.push(format_args!(" ORDER BY t.id {dir} LIMIT "))
                .push_bind(short(&rows));
            rows.extend(qb.build()?.fetch_all(pool).await?);
        }
        let int_key = matches!(self.sort.field, SortField::Status | SortField::Priority);
        let mut items = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows.iter().take(self.limit as usize) {
            let key = if int_key {
                row.try_get::<Option<i64>, _>("sort_key")?.map(Key::Int)
            } else {
                row.try_get::<Option<String>, _>("sort_key")?.map(Key::Text)
            };
            last = Some((key.unwrap_or(Key::Null), row.try_get("id")?));
            items.push(row.try_get("line")?);
        }
        let more = rows.len() > self.limit as usize;
        Ok(Page {
            items,
            next: last.filter(|_| more),
        })
    }

    /// How to read a page of a listing matching `total` tickets. Walking the
    /// sort order's index costs a step per ticket passed over, about
    /// `limit × tickets / total` of them; reading the matches through a
    /// filter's index costs a read and a sort per match. SQLite cannot tell
    /// (it does not count on a walk stopping at the `LIMIT`), so the choice
    /// is made here.
    async fn plan(&self, pool: &AnyPool, total: u64) -> Result<Plan, sqlx::Error> {
        if !self.filter.has_index() {
            return Ok(Plan::Walk);
        }
        // Ids are never reused: the highest one bounds the number of tickets.
        let highest: i64 =
            sqlx::query_scalar(crate::sql::sql("SELECT COALESCE(MAX(id), 0) FROM tickets"))
                .fetch_one(pool)
                .await?;
        let tickets = u128::try_from(highest).unwrap_or_default();
        let (total, want) = (u128::from(total), u128::from(self.limit) + 1);
        Ok(if want * tickets <= READ_VS_STEP * total * total {
            Plan::Walk
        } else {
            Plan::Filter
        })
    }

    /// The start of a query of this listing's tickets with a sort key
    /// (`keyed`) or without one, read as `plan` says.
    fn select(&self, plan: Plan, keyed: bool) -> Builder {
        let from = match plan {
            Plan::Walk => format!("tickets t INDEXED BY {}", sort_index(self.sort.field)),
            Plan::Filter => "tickets t".to_owned(),
        };
        let column = sort_column(self.sort.field);
        let mut qb = Builder::new(format!(
            "SELECT t.id AS id, {column} AS sort_key, {} AS line \
             FROM {from} {TICKET_JOINS}WHERE 1 = 1",
            ticket_json()
        ));
        self.filter.push(&mut qb);
        if keyed && self.sort.field == SortField::Operator && !self.filter.operators.is_empty() {
            // The operators' names too: the walk then seeks to them instead
            // of stepping over everyone else's tickets.
            qb.push(" AND t.operator_folded IN (SELECT name_folded FROM operators WHERE id IN ")
                .push_list(self.filter.operators.iter().copied())
                .push(")");
        }
        qb
    }

    /// The cursor of the page after `page`, carrying the listing's `total`;
    /// `None` after the last page.
    pub(crate) fn next_cursor(&self, page: &Page, total: u64) -> Option<String> {
        let (key, id) = page.next.clone()?;
        Some(self.cursor_at(key, id, total))
    }

    fn cursor_at(&self, k: Key, i: i64, total: u64) -> String {
        let position = Position {
            s: self.sort.to_string(),
            k,
            i,
            n: Some(total),
        };
        // A small struct of strings and integers always serializes.
        hex::encode(serde_json::to_vec(&position).unwrap_or_default())
    }
}

fn push_in<T>(qb: &mut Builder, column: &str, values: &[T])
where
    T: Clone + sqlx::Encode<'static, Any> + sqlx::Type<Any> + Send + 'static,
{
    if values.is_empty() {
        qb.push(" AND FALSE");
        return;
    }
    qb.push(format_args!(" AND {column} IN "))
        .push_list(values.iter().cloned());
}

/// Positions (places in display order) of the statuses for which `pick` holds.
/// Positions are 0, 1, 2… in display order: built-in statuses take 0 to 4
/// and each custom status the next one.
fn position<'a>(
    statuses: &'a [StatusDef],
    pick: impl Fn(&StatusDef) -> bool + 'a,
) -> impl Iterator<Item = i64> + 'a {
    statuses
        .iter()
        .enumerate()
        .filter(move |(_, s)| pick(s))
        .filter_map(|(p, _)| i64::try_from(p).ok())
}

impl Filter {
    /// Whether it lets every ticket through.
    fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether some condition has an index of its own (all but `q` do).
    fn has_index(&self) -> bool {
        Filter {
            q: None,
            ..self.clone()
        } != Filter::default()
    }

    /// Whether tickets with a key in `field`'s order, and tickets without
    /// one, may pass the filter (an operator filter decides whether tickets
    /// with and without an operator do).
    fn keys_wanted(&self, field: SortField) -> (bool, bool) {
        match field {
            SortField::Operator if !self.operators.is_empty() || self.unassigned => {
                (!self.operators.is_empty(), self.unassigned)
            }
            SortField::Category | SortField::Operator => (true, true),
            _ => (true, false),
        }
    }

    /// Appends the filter's conditions, on columns of `tickets t` only.
    fn push(&self, qb: &mut Builder) {
        if !self.statuses.is_empty() {
            push_in(qb, "t.status_position", &self.statuses);
        }
        if let Some(positions) = &self.macro_statuses {
            push_in(qb, "t.status_position", positions);
        }
        if !self.priorities.is_empty() {
            let ranks: Vec<i64> = self
                .priorities
                .iter()
                .map(|p| i64::from(p.rank()))
                .collect();
            push_in(qb, "t.priority", &ranks);
        }
        if !self.operators.is_empty() || self.unassigned {
            qb.push(" AND (");
            if !self.operators.is_empty() {
                qb.push("t.operator_id IN ")
                    .push_list(self.operators.iter().copied());
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
            push_in(qb, "t.category_folded", &self.categories);
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

fn push_key(qb: &mut Builder, key: &Key) {
    match key {
        Key::Int(i) => qb.push_bind(*i),
        Key::Text(t) => qb.push_bind(t.clone()),
        Key::Null => qb.push("NULL"),
    };
}

/// The column of `tickets t` a sort orders by.
fn sort_column(field: SortField) -> &'static str {
    match field {
        SortField::Reference => "t.reference_folded",
        SortField::Title => "t.title_folded",
        SortField::Status => "t.status_position",
        SortField::Priority => "t.priority",
        SortField::Category => "t.category_folded",
        SortField::Operator => "t.operator_folded",
        SortField::Contact => "t.contact_folded",
        SortField::Created => "t.created_at",
        SortField::Updated => "t.updated_at",
    }
}

/// The index a walk in `field`'s order takes (migration 0005).
fn sort_index(field: SortField) -> &'static str {
    match field {
        SortField::Reference => "tickets_by_reference",
        SortField::Title => "tickets_by_title",
        SortField::Status => "tickets_by_status",
        SortField::Priority => "tickets_by_priority",
        SortField::Category => "tickets_by_category",
        SortField::Operator => "tickets_by_operator",
        SortField::Contact => "tickets_by_contact_name",
        SortField::Created => "tickets_by_created",
        SortField::Updated => "tickets_by_updated",
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
    use deskterm_api::{MacroStatus, Ticket};

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
                let key = match field {
                    SortField::Status | SortField::Priority => Key::Int(2),
                    SortField::Category | SortField::Operator => Key::Null,
                    _ => Key::Text("impresora".into()),
                };
                let cursor = listing.cursor_at(key, 7, 42);
                assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()));
                let next = TicketQuery {
                    cursor: Some(cursor),
                    ..query(&sort.to_string())
                };
                let parsed = Listing::parse(&next, &statuses()).unwrap();
                let after = parsed.after.unwrap();
                assert_eq!((after.i, after.n), (7, Some(42)), "{sort}");
            }
        }
        // A cursor from before the count travelled in it is still good.
        let older = hex::encode(r#"{"s":"title","k":"impresora","i":3}"#);
        let next = TicketQuery {
            cursor: Some(older),
            ..query("title")
        };
        let after = Listing::parse(&next, &statuses()).unwrap().after.unwrap();
        assert_eq!((after.i, after.n), (3, None));
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
        let cursor = listing.cursor_at(Key::Text("impresora".into()), 7, 1);
        let other_sort = TicketQuery {
            cursor: Some(cursor),
            ..query("-title")
        };
        assert_eq!(refuse(other_sort), StatusCode::BAD_REQUEST);
    }

    /// A database with tickets of every kind: repeated titles, every
    /// status and priority, with and without category and operator,
    /// operators and contacts sharing names.
    async fn varied_db(dir: &std::path::Path) -> crate::db::Db {
        let db = crate::db::Db::open(&dir.join("t.db")).await.unwrap();
        let pool = db.pool();
        for (name, email) in [("Ana", "a@x"), ("Bruno", "b@x"), ("bruno", "c@x")] {
            sqlx::query(crate::sql::sql(
                "INSERT INTO operators (name, name_folded, email, email_folded, created_at) \
                 VALUES (?, lower(?), ?, ?, '2026-01-01T00:00:00.000Z')",
            ))
            .bind(name)
            .bind(name)
            .bind(email)
            .bind(email)
            .execute(pool)
            .await
            .unwrap();
        }
        for name in ["Lucía", "lucía", "Zoe"] {
            sqlx::query(crate::sql::sql(
                "INSERT INTO contacts (name, name_folded, search, created_at) \
                 VALUES (?, ?, '', '2026-01-01T00:00:00.000Z')",
            ))
            .bind(name)
            .bind(fold(name))
            .execute(pool)
            .await
            .unwrap();
        }
        sqlx::query(crate::sql::sql("INSERT INTO categories (name, folded) VALUES ('Soporte', 'soporte'), ('Ventas', 'ventas')"))
            .execute(pool)
            .await
            .unwrap();
        for i in 0..60_i64 {
            let title = if i % 5 == 0 {
                "Same".to_owned()
            } else {
                format!("T{}", i % 9)
            };
            sqlx::query(
                crate::sql::sql("INSERT INTO tickets (reference, reference_folded, title, title_folded, description, \
                     status, priority, category_id, operator_id, contact_id, channel, created_at, \
                     updated_at) \
                 VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, 'web', ?, ?)"),
            )
            .bind(format!("HD-{i:06}"))
            .bind(format!("hd-{i:06}"))
            .bind(&title)
            .bind(fold(&title))
            .bind(["new", "open", "pending", "resolved", "closed"][(i % 5) as usize])
            .bind(i % 4)
            .bind([None, Some(1), Some(2)][(i % 3) as usize])
            .bind([None, Some(1), Some(2), Some(3)][(i % 4) as usize])
            .bind(1 + i % 3)
            .bind(format!("2026-01-01T00:00:{:02}.000Z", i % 7))
            .bind(format!("2026-01-02T00:00:{:02}.000Z", i % 11))
            .execute(pool)
            .await
            .unwrap();
        }
        db
    }

    /// Every ticket of a listing, paged by `plan`.
    async fn walk(
        pool: &AnyPool,
        mut query: TicketQuery,
        statuses: &[StatusDef],
        plan: Plan,
    ) -> Vec<i64> {
        let mut ids = Vec::new();
        loop {
            let listing = Listing::parse(&query, statuses).unwrap();
            let total = listing.total(pool).await.unwrap();
            let page = listing.page_by(pool, plan).await.unwrap();
            for item in &page.items {
                let ticket: Ticket = serde_json::from_str(item).unwrap();
                ids.push(ticket.id);
            }
            match listing.next_cursor(&page, total) {
                Some(cursor) => query.cursor = Some(cursor),
                None => return ids,
            }
            assert!(ids.len() < 1000, "paging does not end");
        }
    }

    #[tokio::test]
    async fn both_plans_list_the_same_tickets_in_the_same_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path()).await;
        let pool = db.pool();
        let statuses = crate::store::statuses::all(pool).await.unwrap();
        let filters: [fn(&mut TicketQuery); 7] = [
            |_| {},
            |q| q.status = Some("open,new".into()),
            |q| q.macro_status = Some(MacroStatus::Closed),
            |q| q.priority = Some("high,urgent".into()),
            |q| q.operator = Some("2".into()),
            |q| q.operator = Some("2,none".into()),
            |q| q.category = Some("soporte".into()),
        ];
        for field in SortField::ALL {
            for descending in [false, true] {
                for (n, filter) in filters.iter().enumerate() {
                    let mut query = TicketQuery {
                        sort: Some(Sort { field, descending }.to_string()),
                        limit: Some(7),
                        ..Default::default()
                    };
                    filter(&mut query);
                    let walked = walk(pool, query.clone(), &statuses, Plan::Walk).await;
                    let filtered = walk(pool, query.clone(), &statuses, Plan::Filter).await;
                    assert_eq!(walked, filtered, "{query:?}");
                    let listing = Listing::parse(&query, &statuses).unwrap();
                    let total = listing.total(pool).await.unwrap();
                    assert_eq!(walked.len() as u64, total, "{query:?}");
                    if n == 0 {
                        assert_eq!(total, 60);
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn a_walk_is_chosen_when_the_matches_are_many() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path()).await;
        let pool = db.pool();
        let s = statuses();
        let listing = |q: TicketQuery| Listing::parse(&q, &s).unwrap();
        let unfiltered = listing(TicketQuery::default());
        assert_eq!(unfiltered.plan(pool, 0).await.unwrap(), Plan::Walk);
        let by_status = listing(TicketQuery {
            status: Some("open".into()),
            limit: Some(10),
            ..Default::default()
        });
        // 11 × 60 tickets against 70 × matches²: 660 ≤ 1120 (4 matches), > 630 (3).
        assert_eq!(by_status.plan(pool, 4).await.unwrap(), Plan::Walk);
        assert_eq!(by_status.plan(pool, 3).await.unwrap(), Plan::Filter);
        let searching = listing(TicketQuery {
            q: Some("t1".into()),
            ..Default::default()
        });
        assert_eq!(searching.plan(pool, 1).await.unwrap(), Plan::Walk);
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
        assert_eq!(l.filter.statuses, vec![1, 0], "positions");
        assert_eq!(l.filter.operators, vec![3]);
        assert!(l.filter.unassigned);
        assert_eq!(l.filter.q.as_deref(), Some("impre"));
        assert_eq!(l.sort.to_string(), "-updated");
        assert_eq!(l.limit, DEFAULT_LIMIT);
    }
}
