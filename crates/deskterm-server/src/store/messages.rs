//! The chat between a contact and the operators.

use chrono::{DateTime, Utc};
use deskterm_api::{
    ChatMessage, ContactId, Direction, HistoryKind, OperatorId, OperatorRef, TicketId,
};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyExecutor, Row};

use super::history::{self, Actor, Record};
use crate::time;

/// The columns of a message, as a literal to `concat!` a `WHERE` onto.
macro_rules! select_messages {
    () => {
        "SELECT m.id, m.contact_id, m.ticket_id, m.direction, m.body, \
         m.channel, m.created_at, o.id AS operator_id, o.name AS operator_name \
         FROM messages m LEFT JOIN operators o ON o.id = m.operator_id "
    };
}

fn direction_to_db(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

fn from_row(row: &AnyRow) -> Result<ChatMessage, sqlx::Error> {
    let direction = match row.try_get::<&str, _>("direction")? {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => {
            return Err(sqlx::Error::Decode(
                format!("bad stored direction {other:?}").into(),
            ));
        }
    };
    let operator = match row.try_get::<Option<OperatorId>, _>("operator_id")? {
        Some(id) => Some(OperatorRef {
            id,
            name: row.try_get("operator_name")?,
        }),
        None => None,
    };
    Ok(ChatMessage {
        id: row.try_get("id")?,
        contact_id: row.try_get("contact_id")?,
        ticket_id: row.try_get("ticket_id")?,
        direction,
        operator,
        body: row.try_get("body")?,
        channel: row.try_get("channel")?,
        created_at: time::from_db(row.try_get("created_at")?)?,
    })
}

/// Messages of a contact with an id above `after`, oldest first.
pub(crate) async fn of_contact<'e>(
    ex: impl AnyExecutor<'e>,
    contact: ContactId,
    after: i64,
    limit: u32,
) -> Result<Vec<ChatMessage>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(concat!(
        select_messages!(),
        "WHERE m.contact_id = ? AND m.id > ? ORDER BY m.id LIMIT ?"
    )))
    .bind(contact)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest `limit` messages of a contact, oldest first.
pub(crate) async fn last_of_contact<'e>(
    ex: impl AnyExecutor<'e>,
    contact: ContactId,
    limit: u32,
) -> Result<Vec<ChatMessage>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(concat!(
        select_messages!(),
        "WHERE m.contact_id = ? ORDER BY m.id DESC LIMIT ?"
    )))
    .bind(contact)
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    let mut messages = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}

/// A message to insert (fields already checked).
#[derive(Debug, Clone)]
pub(crate) struct NewMessageRow<'a> {
    pub(crate) contact_id: ContactId,
    pub(crate) ticket_id: Option<TicketId>,
    pub(crate) direction: Direction,
    pub(crate) operator_id: Option<OperatorId>,
    pub(crate) body: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) created_at: DateTime<Utc>,
    /// The channel token that brought an inbound message.
    pub(crate) channel_token_id: Option<i64>,
    /// The automation that wrote an outbound message, if one did.
    pub(crate) automation: Option<&'a str>,
}

/// Adds a message and returns it as stored. A message about a ticket is
/// recorded in its history: an inbound one by its channel, an outbound one
/// by its operator.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    m: &NewMessageRow<'_>,
) -> Result<ChatMessage, sqlx::Error> {
    let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO messages (contact_id, ticket_id, direction, operator_id, body, channel, \
             created_at, channel_token_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    ))
    .bind(m.contact_id)
    .bind(m.ticket_id)
    .bind(direction_to_db(m.direction))
    .bind(m.operator_id)
    .bind(m.body)
    .bind(m.channel)
    .bind(time::to_db(m.created_at))
    .bind(m.channel_token_id)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(ticket) = m.ticket_id {
        let actor = match (m.direction, m.operator_id, m.automation) {
            (Direction::Outbound, _, Some(name)) => Actor::Automation(name.to_owned()),
            (Direction::Outbound, Some(operator), None) => Actor::Operator(operator),
            _ => Actor::Channel(m.channel.to_owned()),
        };
        let added = Record {
            kind: HistoryKind::MessageAdded,
            field: None,
            old: None,
            new: Some(json!({
                "id": id,
                "direction": direction_to_db(m.direction),
                "body": m.body,
            })),
        };
        history::record(conn, ticket, m.created_at, &actor, &added).await?;
    }
    let row = sqlx::query(crate::sql::sql(concat!(
        select_messages!(),
        "WHERE m.id = ?"
    )))
    .bind(id)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}
