//! Tickets as stored: the one query that reads them whole, inserts, updates,
//! deletes, and generated references.

use chrono::{DateTime, Utc};
use deskterm_api::{
    Channel, ContactId, ContactRef, HistoryKind, OperatorId, OperatorRef, Priority, Ticket,
    TicketId,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyExecutor, Row};

use serde_json::{Value, json};

use super::history::{self, Actor, Record};
use crate::text::fold;
use crate::time;

/// The tables joined to `tickets t` to read a ticket whole, as a literal to
/// `concat!` onto. The status needs no join (its key is the ticket's, and its
/// position is copied into `t.status_position`).
macro_rules! ticket_joins {
    () => {
        // CROSS JOIN keeps `tickets` the outer loop, so a query ordered by
        // one of its indexes walks that index instead of sorting the join.
        "CROSS JOIN contacts ct ON ct.id = t.contact_id \
         LEFT JOIN categories c ON c.id = t.category_id \
         LEFT JOIN operators o ON o.id = t.operator_id "
    };
}

/// The columns of a whole ticket, as a literal to `concat!` onto.
macro_rules! ticket_columns {
    () => {
        "SELECT t.id, t.reference, t.title, t.description, t.status, t.priority, \
         c.name AS category_name, t.tags, t.important, \
         ct.id AS contact_id, ct.name AS contact_name, ct.phone AS contact_phone, \
         ct.email AS contact_email, o.id AS operator_id, o.name AS operator_name, \
         t.channel, t.sla_due_at, t.sla_state, t.pending_until, t.created_at, t.updated_at, t.closed_at, t.version "
    };
}

/// A whole ticket (a row of `tickets t` and [`ticket_joins!`]) as the JSON
/// text of its wire form, [`Ticket`] as serde writes it, built by SQLite.
/// Times are the stored RFC 3339 text, which reads back as the same instant.
/// The tests below hold it to [`from_row`] and to `Ticket`'s fields.
macro_rules! ticket_json {
    () => {
        "json_object(\
            'id', t.id, 'reference', t.reference, 'title', t.title, \
            'description', t.description, 'status', t.status, \
            'priority', CASE t.priority WHEN 0 THEN 'low' WHEN 1 THEN 'normal' \
                WHEN 2 THEN 'high' WHEN 3 THEN 'urgent' END, \
            'category', c.name, 'tags', json(t.tags), \
            'important', json(CASE WHEN t.important THEN 'true' ELSE 'false' END), \
            'contact', json_object('id', ct.id, 'name', ct.name, 'phone', ct.phone, \
                'email', ct.email), \
            'operator', json(CASE WHEN o.id IS NULL THEN NULL \
                ELSE json_object('id', o.id, 'name', o.name) END), \
            'channel', t.channel, 'sla_due_at', t.sla_due_at, 'sla_state', t.sla_state, \
            'pending_until', t.pending_until, \
            'created_at', t.created_at, \
            'updated_at', t.updated_at, 'closed_at', t.closed_at, 'version', t.version)"
    };
}

/// [`ticket_json!`] in PostgreSQL's SQL, as text.
macro_rules! ticket_json_postgres {
    () => {
        "json_build_object(\
            'id', t.id, 'reference', t.reference, 'title', t.title, \
            'description', t.description, 'status', t.status, \
            'priority', CASE t.priority WHEN 0 THEN 'low' WHEN 1 THEN 'normal' \
                WHEN 2 THEN 'high' WHEN 3 THEN 'urgent' END, \
            'category', c.name, 'tags', t.tags::json, 'important', t.important, \
            'contact', json_build_object('id', ct.id, 'name', ct.name, 'phone', ct.phone, \
                'email', ct.email), \
            'operator', CASE WHEN o.id IS NULL THEN NULL \
                ELSE json_build_object('id', o.id, 'name', o.name) END, \
            'channel', t.channel, 'sla_due_at', t.sla_due_at, 'sla_state', t.sla_state, \
            'pending_until', t.pending_until, \
            'created_at', t.created_at, \
            'updated_at', t.updated_at, 'closed_at', t.closed_at, 'version', t.version)::text"
    };
}

/// The query of whole tickets, as a literal to `concat!` a `WHERE`/`ORDER BY` onto.
macro_rules! select_tickets {
    () => {
        concat!(ticket_columns!(), "FROM tickets t ", ticket_joins!())
    };
}

/// The values of a new ticket's sort-key columns (`status_position`,
/// `category_folded`, `operator_folded`, `contact_folded`), read from the
/// tables they are copied from; binds status, category id, operator id and
/// contact id, in that order.
macro_rules! sort_keys {
    () => {
        "(SELECT position FROM statuses WHERE key = ?), \
         (SELECT folded FROM categories WHERE id = ?), \
         (SELECT name_folded FROM operators WHERE id = ?), \
         (SELECT name_folded FROM contacts WHERE id = ?)"
    };
}

/// [`ticket_json!`] for queries built at run time, in the SQL of the
/// database this process serves.
pub(crate) fn ticket_json() -> &'static str {
    crate::sql::pick(ticket_json!(), ticket_json_postgres!())
}
/// [`ticket_joins!`] for queries built at run time.
pub(crate) const TICKET_JOINS: &str = ticket_joins!();

fn priority_from_row(row: &AnyRow) -> Result<Priority, sqlx::Error> {
    let rank: i64 = row.try_get("priority")?;
    usize::try_from(rank)
        .ok()
        .and_then(|r| Priority::ALL.get(r).copied())
        .ok_or_else(|| sqlx::Error::Decode(format!("bad stored priority {rank}").into()))
}

fn tags_from_row(row: &AnyRow) -> Result<Vec<String>, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    serde_json::from_str(&tags)
        .map_err(|e| sqlx::Error::Decode(format!("bad stored tags: {e}").into()))
}

/// A ticket from a row of [`select_tickets!`].
pub(crate) fn from_row(row: &AnyRow) -> Result<Ticket, sqlx::Error> {
    let priority = priority_from_row(row)?;
    let tags = tags_from_row(row)?;
    let operator = match row.try_get::<Option<OperatorId>, _>("operator_id")? {
        Some(id) => Some(OperatorRef {
            id,
            name: row.try_get("operator_name")?,
        }),
        None => None,
    };
    Ok(Ticket {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        priority,
        category: row.try_get("category_name")?,
        tags,
        important: row.try_get::<crate::sql::Flag, _>("important")?.0,
        contact: ContactRef {
            id: row.try_get("contact_id")?,
            name: row.try_get("contact_name")?,
            phone: row.try_get("contact_phone")?,
            email: row.try_get("contact_email")?,
        },
        operator,
        channel: row.try_get("channel")?,
        sla_due_at: time::from_db_opt(row.try_get("sla_due_at")?)?,
        sla_state: crate::sla::state_from_db(row.try_get("sla_state")?)?,
        pending_until: time::from_db_opt(row.try_get("pending_until")?)?,
        created_at: time::from_db(row.try_get("created_at")?)?,
        updated_at: time::from_db(row.try_get("updated_at")?)?,
        closed_at: time::from_db_opt(row.try_get("closed_at")?)?,
        version: row.try_get("version")?,
    })
}

/// The ticket `id`, if it exists.
pub(crate) async fn get<'e>(
    ex: impl AnyExecutor<'e>,
    id: TicketId,
) -> Result<Option<Ticket>, sqlx::Error> {
    sqlx::query(crate::sql::sql(concat!(
        select_tickets!(),
        "WHERE t.id = ?"
    )))
    .bind(id)
    .fetch_optional(ex)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Where an export stands: the last ticket sent, by the order it sends in
/// (most recently updated first, then the highest id first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportCursor {
    /// Its last change, as stored.
    pub(crate) updated_at: String,
    /// Its id.
    pub(crate) id: TicketId,
}

/// Tickets as JSON lines, a batch of them.
#[derive(Debug)]
pub(crate) struct JsonLines {
    /// The last one, where the next batch starts after.
    pub(crate) last: ExportCursor,
    /// How many.
    pub(crate) count: u64,
    /// One ticket per line, each line ending in `\n`.
    pub(crate) text: String,
}

/// One batch of the export as a literal: the tickets of `$range` in
/// `updated_at DESC, id DESC` order, a walk down `tickets_by_updated`, read
/// once (`MATERIALIZED`) and answered as one row: the last ticket's sort key,
/// the count, and the lines joined.
macro_rules! json_lines_query {
    ($range:literal) => {
        crate::sql::pick(
            json_lines_query!(ticket_json!(), $range),
            json_lines_query!(ticket_json_postgres!(), $range),
        )
    };
    ($json:expr, $range:literal) => {
        concat!(
            "WITH page AS MATERIALIZED (SELECT t.id AS id, t.updated_at AS updated_at, ",
            $json,
            " AS line FROM tickets t ",
            ticket_joins!(),
            $range,
            " ORDER BY t.updated_at DESC, t.id DESC LIMIT ?) \
             SELECT last.updated_at, last.id, (SELECT COUNT(*) FROM page), \
                 (SELECT string_agg(line, char(10) ORDER BY updated_at DESC, id DESC) FROM page) \
                 || char(10) \
             FROM (SELECT updated_at, id FROM page ORDER BY updated_at, id LIMIT 1) AS last"
        )
    };
}

/// Up to `limit` tickets after `after` (from the first when `None`), most
/// recently updated first (ties: the highest id first), as JSON lines; `None`
/// past the last ticket. The newest tickets come first so that a client
/// listing them newest first (its default) has its first screen right after
/// the first batch. SQLite writes the JSON and joins the lines, so a batch
/// costs one row to hand over instead of one per ticket and column. On a
/// connection inside a transaction, successive batches read one consistent
/// snapshot.
///
/// With `closed_since` (in the database's time format), tickets closed
/// before it are left out.
pub(crate) async fn json_lines_after(
    conn: &mut AnyConnection,
    after: Option<&ExportCursor>,
    closed_since: Option<&str>,
    limit: u32,
) -> Result<Option<JsonLines>, sqlx::Error> {
    let query = match (after, closed_since) {
        (None, None) => sqlx::query_as(crate::sql::sql(json_lines_query!(""))),
        (None, Some(since)) => sqlx::query_as(crate::sql::sql(json_lines_query!(
            "WHERE (t.closed_at IS NULL OR t.closed_at >= ?)"
        )))
        .bind(since),
        (Some(after), None) => sqlx::query_as(crate::sql::sql(json_lines_query!(
            "WHERE (t.updated_at, t.id) < (?, ?)"
        )))
        .bind(after.updated_at.as_str())
        .bind(after.id),
        (Some(after), Some(since)) => sqlx::query_as(crate::sql::sql(json_lines_query!(
            "WHERE (t.updated_at, t.id) < (?, ?) AND (t.closed_at IS NULL OR t.closed_at >= ?)"
        )))
        .bind(after.updated_at.as_str())
        .bind(after.id)
        .bind(since),
    };
    let query = query.bind(i64::from(limit));
    let row: Option<(String, i64, i64, String)> = query.fetch_optional(conn).await?;
    Ok(row.map(|(updated_at, id, count, text)| JsonLines {
        last: ExportCursor { updated_at, id },
        count: u64::try_from(count).unwrap_or_default(),
        text,
    }))
}

/// Every stored field of a ticket but its id and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TicketFields {
    pub(crate) reference: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) status: String,
    pub(crate) priority: Priority,
    pub(crate) category_id: Option<i64>,
    pub(crate) tags: Vec<String>,
    pub(crate) important: bool,
    pub(crate) contact_id: ContactId,
    pub(crate) operator_id: Option<OperatorId>,
    pub(crate) channel: Channel,
    pub(crate) sla_due_at: Option<DateTime<Utc>>,
    pub(crate) pending_until: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
}

/// The stored fields of ticket `id`, for a patch to change.
pub(crate) async fn fields(
    conn: &mut AnyConnection,
    id: TicketId,
) -> Result<Option<TicketFields>, sqlx::Error> {
    let Some(row) = sqlx::query(crate::sql::sql(
        "SELECT reference, title, description, status, priority, category_id, tags, important, \
             contact_id, operator_id, channel, sla_due_at, pending_until, created_at, updated_at, \
             closed_at \
         FROM tickets WHERE id = ?",
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(TicketFields {
        reference: row.try_get("reference")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: row.try_get("status")?,
        priority: priority_from_row(&row)?,
        category_id: row.try_get("category_id")?,
        tags: tags_from_row(&row)?,
        important: row.try_get::<crate::sql::Flag, _>("important")?.0,
        contact_id: row.try_get("contact_id")?,
        operator_id: row.try_get("operator_id")?,
        channel: row.try_get("channel")?,
        sla_due_at: time::from_db_opt(row.try_get("sla_due_at")?)?,
        pending_until: time::from_db_opt(row.try_get("pending_until")?)?,
        created_at: time::from_db(row.try_get("created_at")?)?,
        updated_at: time::from_db(row.try_get("updated_at")?)?,
        closed_at: time::from_db_opt(row.try_get("closed_at")?)?,
    }))
}

fn tags_json(tags: &[String]) -> Result<String, sqlx::Error> {
    serde_json::to_string(tags).map_err(|e| sqlx::Error::Encode(e.to_string().into()))
}

/// Inserts a ticket at version 1 and records its creation by `actor` in
/// its history; returns its id.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    f: &TicketFields,
    actor: &Actor,
) -> Result<TicketId, sqlx::Error> {
    let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(concat!(
        "INSERT INTO tickets (reference, reference_folded, title, title_folded, description, \
                 status, priority, category_id, tags, important, contact_id, operator_id, channel, \
                 sla_due_at, pending_until, created_at, updated_at, closed_at, version, \
                 status_position, category_folded, operator_folded, contact_folded) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ",
        sort_keys!(),
        ")",
        " RETURNING id"
    )))
    .bind(&f.reference)
    .bind(fold(&f.reference))
    .bind(&f.title)
    .bind(fold(&f.title))
    .bind(&f.description)
    .bind(&f.status)
    .bind(i64::from(f.priority.rank()))
    .bind(f.category_id)
    .bind(tags_json(&f.tags)?)
    .bind(f.important)
    .bind(f.contact_id)
    .bind(f.operator_id)
    .bind(&f.channel)
    .bind(f.sla_due_at.map(time::to_db))
    .bind(f.pending_until.map(time::to_db))
    .bind(time::to_db(f.created_at))
    .bind(time::to_db(f.updated_at))
    .bind(f.closed_at.map(time::to_db))
    .bind(&f.status)
    .bind(f.category_id)
    .bind(f.operator_id)
    .bind(f.contact_id)
    .fetch_one(&mut *conn)
    .await?;
    let created = Record {
        kind: HistoryKind::Created,
        field: None,
        old: None,
        new: Some(json!({
            "reference": f.reference,
            "title": f.title,
            "status": f.status,
            "priority": f.priority,
        })),
    };
    history::record(conn, id, f.created_at, actor, &created).await?;
    Ok(id)
}

fn wire<T: serde::Serialize>(v: &T) -> Result<Value, sqlx::Error> {
    serde_json::to_value(v).map_err(|e| sqlx::Error::Encode(e.to_string().into()))
}

/// A category as its history shows it: its name, or `null`.
async fn category_value(conn: &mut AnyConnection, id: Option<i64>) -> Result<Value, sqlx::Error> {
    let Some(id) = id else {
        return Ok(Value::Null);
    };
    let name: Option<String> =
        sqlx::query_scalar(crate::sql::sql("SELECT name FROM categories WHERE id = ?"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(name.map_or(Value::Null, Value::String))
}

/// An operator as its history shows it: `{"id", "name"}`, or `null`.
async fn operator_value(
    conn: &mut AnyConnection,
    id: Option<OperatorId>,
) -> Result<Value, sqlx::Error> {
    let Some(id) = id else {
        return Ok(Value::Null);
    };
    let name: Option<String> =
        sqlx::query_scalar(crate::sql::sql("SELECT name FROM operators WHERE id = ?"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(json!({ "id": id, "name": name }))
}

/// A contact as its history shows it: `{"id", "name"}`.
async fn contact_value(conn: &mut AnyConnection, id: ContactId) -> Result<Value, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar(crate::sql::sql("SELECT name FROM contacts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(json!({ "id": id, "name": name }))
}

/// The editable fields that differ between `before` and `after`, with their
/// values as the history shows them (named as in [`Ticket`]). `closed_at`
/// and `updated_at` follow the others and are not listed.
async fn changed_fields(
    conn: &mut AnyConnection,
    before: &TicketFields,
    after: &TicketFields,
) -> Result<Vec<(&'static str, Value, Value)>, sqlx::Error> {
    let mut out = Vec::new();
    if before.title != after.title {
        out.push(("title", wire(&before.title)?, wire(&after.title)?));
    }
    if before.description != after.description {
        out.push((
            "description",
            wire(&before.description)?,
            wire(&after.description)?,
        ));
    }
    if before.status != after.status {
        out.push(("status", wire(&before.status)?, wire(&after.status)?));
    }
    if before.priority != after.priority {
        out.push(("priority", wire(&before.priority)?, wire(&after.priority)?));
    }
    if before.category_id != after.category_id {
        let old = category_value(conn, before.category_id).await?;
        let new = category_value(conn, after.category_id).await?;
        out.push(("category", old, new));
    }
    if before.tags != after.tags {
        out.push(("tags", wire(&before.tags)?, wire(&after.tags)?));
    }
    if before.important != after.important {
        out.push((
            "important",
            wire(&before.important)?,
            wire(&after.important)?,
        ));
    }
    if before.operator_id != after.operator_id {
        let old = operator_value(conn, before.operator_id).await?;
        let new = operator_value(conn, after.operator_id).await?;
        out.push(("operator", old, new));
    }
    if before.sla_due_at != after.sla_due_at {
        out.push((
            "sla_due_at",
            wire(&before.sla_due_at)?,
            wire(&after.sla_due_at)?,
        ));
    }
    if before.pending_until != after.pending_until {
        out.push((
            "pending_until",
            wire(&before.pending_until)?,
            wire(&after.pending_until)?,
        ));
    }
    if before.reference != after.reference {
        out.push((
            "reference",
            wire(&before.reference)?,
            wire(&after.reference)?,
        ));
    }
    if before.contact_id != after.contact_id {
        let old = contact_value(conn, before.contact_id).await?;
        let new = contact_value(conn, after.contact_id).await?;
        out.push(("contact", old, new));
    }
    Ok(out)
}

/// Overwrites the editable fields of ticket `id` (stored as `before`) with
/// those of `f`, sets its version, and records each changed field in its
/// history, by `actor` at `f.updated_at`.
pub(crate) async fn update(
    conn: &mut AnyConnection,
    id: TicketId,
    before: &TicketFields,
    f: &TicketFields,
    version: i64,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    for (field, old, new) in changed_fields(conn, before, f).await? {
        let change = Record {
            kind: HistoryKind::FieldChanged,
            field: Some(field),
            old: Some(old),
            new: Some(new),
        };
        history::record(conn, id, f.updated_at, actor, &change).await?;
    }
    sqlx::query(crate::sql::sql(
        "UPDATE tickets SET title = ?, title_folded = ?, description = ?, status = ?, \
             priority = ?, category_id = ?, tags = ?, important = ?, operator_id = ?, \
             sla_due_at = ?, pending_until = ?, updated_at = ?, closed_at = ?, version = ?, \
             reference = ?, reference_folded = ?, contact_id = ?, \
             status_position = (SELECT position FROM statuses WHERE key = ?), \
             category_folded = (SELECT folded FROM categories WHERE id = ?), \
             operator_folded = (SELECT name_folded FROM operators WHERE id = ?) \
         WHERE id = ?",
    ))
    .bind(&f.title)
    .bind(fold(&f.title))
    .bind(&f.description)
    .bind(&f.status)
    .bind(i64::from(f.priority.rank()))
    .bind(f.category_id)
    .bind(tags_json(&f.tags)?)
    .bind(f.important)
    .bind(f.operator_id)
    .bind(f.sla_due_at.map(time::to_db))
    .bind(f.pending_until.map(time::to_db))
    .bind(time::to_db(f.updated_at))
    .bind(f.closed_at.map(time::to_db))
    .bind(version)
    .bind(&f.reference)
    .bind(fold(&f.reference))
    .bind(f.contact_id)
    .bind(&f.status)
    .bind(f.category_id)
    .bind(f.operator_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes ticket `id` with its notes; its messages stay, detached, and its
/// history stays, ending with the deletion by `actor` at `at`.
pub(crate) async fn delete(
    conn: &mut AnyConnection,
    id: TicketId,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<(), sqlx::Error> {
    let gone: Option<(String, String)> = sqlx::query_as(crate::sql::sql(
        "DELETE FROM tickets WHERE id = ? RETURNING reference, title",
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((reference, title)) = gone {
        let deleted = Record {
            kind: HistoryKind::Deleted,
            field: None,
            old: Some(json!({ "reference": reference, "title": title })),
            new: None,
        };
        history::record(conn, id, at, actor, &deleted).await?;
    }
    Ok(())
}

/// Whether a reference is taken, ignoring case.
pub(crate) async fn reference_taken(
    conn: &mut AnyConnection,
    reference: &str,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(crate::sql::sql(
        "SELECT id FROM tickets WHERE reference_folded = ?",
    ))
    .bind(fold(reference))
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The next generated reference (`HD-000123`), skipping numbers typed by hand.
pub(crate) async fn next_reference(conn: &mut AnyConnection) -> Result<String, sqlx::Error> {
    loop {
        let n: i64 = sqlx::query_scalar(crate::sql::sql(
            "UPDATE reference_counter SET value = value + 1 WHERE id = 1 RETURNING value",
        ))
        .fetch_one(&mut *conn)
        .await?;
        let reference = format!("HD-{n:06}");
        if !reference_taken(conn, &reference).await? {
            return Ok(reference);
        }
    }
}

/// The newest in-progress ticket of a contact, where a customer's message belongs.
pub(crate) async fn newest_in_progress(
    conn: &mut AnyConnection,
    contact: ContactId,
) -> Result<Option<TicketId>, sqlx::Error> {
    sqlx::query_scalar(crate::sql::sql(
        "SELECT t.id FROM tickets t JOIN statuses s ON s.key = t.status \
         WHERE t.contact_id = ? AND s.macro = 'in_progress' \
         ORDER BY t.updated_at DESC, t.id DESC LIMIT 1",
    ))
    .bind(contact)
    .fetch_optional(conn)
    .await
}

/// Tickets of a contact, newest first.
pub(crate) async fn of_contact<'e>(
    ex: impl AnyExecutor<'e>,
    contact: ContactId,
    limit: u32,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(concat!(
        select_tickets!(),
        "WHERE t.contact_id = ? ORDER BY t.created_at DESC, t.id DESC LIMIT ?"
    )))
    .bind(contact)
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    /// The keys of every object in `v`, with their paths.
    fn keys(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        if let Value::Object(map) = v {
            for (k, inner) in map {
                let path = format!("{path}.{k}");
                keys(inner, &path, out);
                out.insert(path);
            }
        }
    }

    #[tokio::test]
    async fn tickets_as_json_lines_are_their_wire_form() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("t.db")).await.unwrap();
        let pool = db.pool();
        sqlx::query(crate::sql::sql(
            "INSERT INTO operators (name, name_folded, email, email_folded, created_at) \
             VALUES ('Ana \"la\" jefa', 'ana', 'a@x', 'a@x', '2026-01-01T00:00:00.000Z')",
        ))
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(crate::sql::sql(
            "INSERT INTO contacts (name, name_folded, phone, email, search, created_at) VALUES \
             ('Lucía', 'lucía', '+34 600', NULL, '', '2026-01-01T00:00:00.000Z'), \
             ('Zoe\u{1b}[2J', 'zoe', NULL, 'z@x', '', '2026-01-01T00:00:00.000Z')",
        ))
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(crate::sql::sql(
            "INSERT INTO categories (name, folded) VALUES ('Soporte', 'soporte')",
        ))
        .execute(pool)
        .await
        .unwrap();
        // Every priority; with and without category, operator, tags, times.
        for i in 0..8_i64 {
            sqlx::query(crate::sql::sql(
                "INSERT INTO tickets (reference, reference_folded, title, title_folded, \
                     description, status, priority, category_id, tags, important, contact_id, \
                     operator_id, channel, sla_due_at, created_at, updated_at, closed_at, version) \
                 VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, 'web', ?, \
                     '2026-01-01T00:00:00.000Z', ?, ?, ?)",
            ))
            .bind(format!("HD-{i}"))
            .bind(format!("hd-{i}"))
            .bind(format!("Título \"{i}\"\t\u{7}"))
            .bind("línea uno\nlínea dos\\")
            .bind(if i % 2 == 0 { "open" } else { "closed" })
            .bind(i % 4)
            .bind((i % 2 == 0).then_some(1))
            .bind(if i % 3 == 0 {
                "[]"
            } else {
                r#"["vip","a \"b\""]"#
            })
            .bind(i % 2 == 1)
            .bind(1 + i % 2)
            .bind((i % 4 < 2).then_some(1))
            .bind((i % 2 == 0).then_some("2026-02-01T00:00:00.500Z"))
            // Tickets 2, 5 and 8 changed last; the others share one time.
            .bind(if i % 3 == 1 {
                "2026-01-05T00:00:00.000Z"
            } else {
                "2026-01-02T03:04:05.678Z"
            })
            .bind((i % 2 == 1).then_some("2026-01-03T00:00:00.000Z"))
            .bind(i + 1)
            .execute(pool)
            .await
            .unwrap();
        }
        let mut conn = pool.acquire().await.unwrap();
        let mut lines = Vec::new();
        let mut after = None;
        // Batches of three cut through tickets sharing a time.
        while let Some(batch) = json_lines_after(&mut conn, after.as_ref(), None, 3)
            .await
            .unwrap()
        {
            assert!(batch.count <= 3 && batch.text.ends_with('\n'));
            assert_eq!(batch.text.lines().count() as u64, batch.count);
            let last: Ticket = serde_json::from_str(batch.text.lines().last().unwrap()).unwrap();
            assert_eq!(
                batch.last.id, last.id,
                "the cursor is the batch's last ticket"
            );
            after = Some(batch.last);
            lines.extend(batch.text.lines().map(str::to_owned));
        }
        // The most recently updated first, then the highest id first.
        let order = [8, 5, 2, 7, 6, 4, 3, 1];
        assert_eq!(lines.len(), order.len());
        for (line, id) in lines.iter().zip(order) {
            let ticket = get(pool, id).await.unwrap().unwrap();
            let read: Ticket = serde_json::from_str(line).unwrap();
            assert_eq!(read, ticket, "{line}");
            let (mut ours, mut serdes) = (BTreeSet::new(), BTreeSet::new());
            keys(&serde_json::from_str(line).unwrap(), "", &mut ours);
            keys(&serde_json::to_value(&ticket).unwrap(), "", &mut serdes);
            assert_eq!(ours, serdes, "the same fields as Ticket");
        }
        assert!(
            json_lines_after(&mut conn, after.as_ref(), None, 3)
                .await
                .unwrap()
                .is_none()
        );
    }
}
