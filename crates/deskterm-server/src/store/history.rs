//! A ticket's history: what changed, old → new, who and when. Rows are
//! written by the store functions that make the change ([`super::tickets`],
//! [`super::notes`], [`super::messages`]), on the same connection and so in
//! the same transaction: a write that fails or is rolled back leaves no
//! history behind.

use chrono::{DateTime, Utc};
use deskterm_api::{ActorKind, HistoryActor, HistoryEntry, HistoryKind, OperatorId, TicketId};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyExecutor, Row};

use crate::time;

/// Who makes a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Actor {
    /// An operator; their name is taken as it is when the change is recorded.
    Operator(OperatorId),
    /// A channel posting a customer's message, by name.
    Channel(String),
    /// The server itself, e.g. `demo` for the demo loader.
    System(&'static str),
    /// An automation of the configuration file, by name.
    Automation(String),
}

fn kind_to_db(kind: HistoryKind) -> &'static str {
    match kind {
        HistoryKind::Created => "created",
        HistoryKind::FieldChanged => "field_changed",
        HistoryKind::NoteAdded => "note_added",
        HistoryKind::MessageAdded => "message_added",
        HistoryKind::Deleted => "deleted",
        HistoryKind::Escalated => "escalated",
    }
}

fn kind_from_db(kind: &str) -> Result<HistoryKind, sqlx::Error> {
    Ok(match kind {
        "created" => HistoryKind::Created,
        "field_changed" => HistoryKind::FieldChanged,
        "note_added" => HistoryKind::NoteAdded,
        "message_added" => HistoryKind::MessageAdded,
        "deleted" => HistoryKind::Deleted,
        "escalated" => HistoryKind::Escalated,
        other => {
            return Err(sqlx::Error::Decode(
                format!("bad stored history kind {other:?}").into(),
            ));
        }
    })
}

fn actor_kind_from_db(kind: &str) -> Result<ActorKind, sqlx::Error> {
    Ok(match kind {
        "operator" => ActorKind::Operator,
        "channel" => ActorKind::Channel,
        "automation" => ActorKind::Automation,
        "system" => ActorKind::System,
        other => {
            return Err(sqlx::Error::Decode(
                format!("bad stored actor kind {other:?}").into(),
            ));
        }
    })
}

fn json_text(v: Option<&Value>) -> Option<String> {
    v.map(Value::to_string)
}

fn json_from_db(text: Option<String>) -> Result<Option<Value>, sqlx::Error> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| sqlx::Error::Decode(format!("bad stored history value: {e}").into()))
    })
    .transpose()
}

/// One change to record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record<'a> {
    pub(crate) kind: HistoryKind,
    pub(crate) field: Option<&'a str>,
    pub(crate) old: Option<Value>,
    pub(crate) new: Option<Value>,
}

/// Appends `record` to ticket `ticket`'s history.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    ticket: TicketId,
    at: DateTime<Utc>,
    actor: &Actor,
    record: &Record<'_>,
) -> Result<(), sqlx::Error> {
    let (kind, operator, name): (&str, Option<OperatorId>, Option<&str>) = match actor {
        Actor::Operator(id) => ("operator", Some(*id), None),
        Actor::Channel(name) => ("channel", None, Some(name)),
        Actor::System(name) => ("system", None, Some(name)),
        Actor::Automation(name) => ("automation", None, Some(name)),
    };
    sqlx::query(crate::sql::sql(
        "INSERT INTO ticket_history (ticket_id, at, actor_kind, actor_operator_id, actor_name, \
             kind, field, old_value, new_value) \
         VALUES (?, ?, ?, ?, \
             COALESCE(?, (SELECT name FROM operators WHERE id = ?), ''), ?, ?, ?, ?)",
    ))
    .bind(ticket)
    .bind(time::to_db(at))
    .bind(kind)
    .bind(operator)
    .bind(name)
    .bind(operator)
    .bind(kind_to_db(record.kind))
    .bind(record.field)
    .bind(json_text(record.old.as_ref()))
    .bind(json_text(record.new.as_ref()))
    .execute(conn)
    .await?;
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<HistoryEntry, sqlx::Error> {
    Ok(HistoryEntry {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        at: time::from_db(row.try_get("at")?)?,
        actor: HistoryActor {
            kind: actor_kind_from_db(row.try_get("actor_kind")?)?,
            operator_id: row.try_get("actor_operator_id")?,
            name: row.try_get("actor_name")?,
        },
        kind: kind_from_db(row.try_get("kind")?)?,
        field: row.try_get("field")?,
        old: json_from_db(row.try_get("old_value")?)?,
        new: json_from_db(row.try_get("new_value")?)?,
    })
}

/// Up to `limit` entries of ticket `ticket`'s history with an id above
/// `after`, oldest first: a seek into `ticket_history_by_ticket`.
pub(crate) async fn of_ticket<'e>(
    ex: impl AnyExecutor<'e>,
    ticket: TicketId,
    after: i64,
    limit: u32,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(
        "SELECT id, ticket_id, at, actor_kind, actor_operator_id, actor_name, kind, field, \
             old_value, new_value \
         FROM ticket_history WHERE ticket_id = ? AND id > ? ORDER BY id LIMIT ?",
    ))
    .bind(ticket)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Whether ticket `ticket` exists or ever had history (it may be deleted).
pub(crate) async fn known<'e>(
    ex: impl AnyExecutor<'e>,
    ticket: TicketId,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(crate::sql::sql(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE id = ?) \
             OR EXISTS (SELECT 1 FROM ticket_history WHERE ticket_id = ?)",
    ))
    .bind(ticket)
    .bind(ticket)
    .fetch_one(ex)
    .await
    .map(|crate::sql::Flag(known)| known)
}

#[cfg(test)]
mod tests {
    use deskterm_api::Priority;

    use super::*;
    use crate::store::tickets::{self, TicketFields};

    fn fields(title: &str) -> TicketFields {
        let at = time::from_db("2026-01-02T03:04:05.678Z").unwrap();
        TicketFields {
            reference: "HD-1".to_owned(),
            title: title.to_owned(),
            description: String::new(),
            status: "new".to_owned(),
            priority: Priority::Normal,
            category_id: None,
            tags: Vec::new(),
            important: false,
            contact_id: 1,
            operator_id: None,
            channel: "web".to_owned(),
            sla_due_at: None,
            pending_until: None,
            created_at: at,
            updated_at: at,
            closed_at: None,
        }
    }

    #[tokio::test]
    async fn history_is_written_and_undone_with_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("t.db")).await.unwrap();
        sqlx::query(crate::sql::sql(
            "INSERT INTO contacts (name, name_folded, search, created_at) \
             VALUES ('Eva', 'eva', '', '2026-01-01T00:00:00.000Z')",
        ))
        .execute(db.pool())
        .await
        .unwrap();
        let actor = Actor::Channel("web".to_owned());
        // A ticket written, changed and deleted in a transaction rolled back:
        // no trace of it in the history.
        let mut tx = db.write().await.unwrap();
        let before = fields("Uno");
        let id = tickets::insert(tx.conn(), &before, &actor).await.unwrap();
        tickets::update(tx.conn(), id, &before, &fields("Dos"), 2, &actor)
            .await
            .unwrap();
        tickets::delete(tx.conn(), id, before.updated_at, &actor)
            .await
            .unwrap();
        assert_eq!(of_ticket(tx.conn(), id, 0, 10).await.unwrap().len(), 3);
        drop(tx);
        assert!(of_ticket(db.pool(), id, 0, 10).await.unwrap().is_empty());
        assert!(!known(db.pool(), id).await.unwrap());
        // Committed, it stays, the deletion included.
        let mut tx = db.write().await.unwrap();
        let id = tickets::insert(tx.conn(), &before, &actor).await.unwrap();
        tickets::delete(tx.conn(), id, before.updated_at, &actor)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let kinds: Vec<HistoryKind> = of_ticket(db.pool(), id, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, [HistoryKind::Created, HistoryKind::Deleted]);
        assert!(known(db.pool(), id).await.unwrap());
    }
}
