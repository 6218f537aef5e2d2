//! Internal notes on tickets.

use chrono::{DateTime, Utc};
use deskterm_api::{HistoryKind, Note, OperatorRef, TicketId};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyExecutor, Row};

use super::history::{self, Actor, Record};
use crate::time;

/// The columns of a note, as a literal to `concat!` a `WHERE` onto.
macro_rules! select_notes {
    () => {
        "SELECT n.id, n.ticket_id, n.body, n.created_at, \
         o.id AS operator_id, o.name AS operator_name \
         FROM notes n JOIN operators o ON o.id = n.operator_id "
    };
}

fn from_row(row: &AnyRow) -> Result<Note, sqlx::Error> {
    Ok(Note {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        author: OperatorRef {
            id: row.try_get("operator_id")?,
            name: row.try_get("operator_name")?,
        },
        body: row.try_get("body")?,
        created_at: time::from_db(row.try_get("created_at")?)?,
    })
}

/// The notes of a ticket, oldest first.
pub(crate) async fn of_ticket<'e>(
    ex: impl AnyExecutor<'e>,
    ticket: TicketId,
) -> Result<Vec<Note>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(concat!(
        select_notes!(),
        "WHERE n.ticket_id = ? ORDER BY n.id"
    )))
    .bind(ticket)
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Adds a note, records it in the ticket's history by its author, and
/// returns it as stored.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    ticket: TicketId,
    author: i64,
    body: &str,
    at: DateTime<Utc>,
) -> Result<Note, sqlx::Error> {
    let id = sqlx::query_scalar::<_, i64>(
        crate::sql::sql("INSERT INTO notes (ticket_id, operator_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id"),
    )
    .bind(ticket)
    .bind(author)
    .bind(body)
    .bind(time::to_db(at))
    .fetch_one(&mut *conn)
    .await?;
    let added = Record {
        kind: HistoryKind::NoteAdded,
        field: None,
        old: None,
        new: Some(json!({ "id": id, "body": body })),
    };
    history::record(conn, ticket, at, &Actor::Operator(author), &added).await?;
    let row = sqlx::query(crate::sql::sql(concat!(select_notes!(), "WHERE n.id = ?")))
        .bind(id)
        .fetch_one(conn)
        .await?;
    from_row(&row)
}
