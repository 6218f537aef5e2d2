//! The mail tables of migration 0010: the queue of e-mails to send, the
//! tickets waiting for their notification, and how far the history has
//! been read.

use chrono::{DateTime, Utc};
use deskterm_api::{OperatorId, TicketId};
use sqlx::{AnyConnection, AnyExecutor, Row};

use crate::time;

/// What an e-mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MailKind {
    /// Telling an operator what changed on a ticket.
    Notification,
    /// A ticket sent to someone outside the helpdesk.
    Escalation,
}

impl MailKind {
    fn to_db(self) -> &'static str {
        match self {
            MailKind::Notification => "notification",
            MailKind::Escalation => "escalation",
        }
    }
}

/// An e-mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewMail {
    pub(crate) kind: MailKind,
    pub(crate) ticket_id: Option<TicketId>,
    /// Addresses, checked already.
    pub(crate) recipients: Vec<String>,
    pub(crate) reply_to: Option<String>,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// A queued e-mail not sent yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Queued {
    pub(crate) id: i64,
    pub(crate) recipients: Vec<String>,
    pub(crate) reply_to: Option<String>,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) attempts: i64,
}

/// Queues `mail`, to be sent at once; returns its id.
pub(crate) async fn enqueue(conn: &mut AnyConnection, mail: &NewMail) -> Result<i64, sqlx::Error> {
    let recipients = serde_json::to_string(&mail.recipients)
        .map_err(|e| sqlx::Error::Encode(format!("recipients not serializable: {e}").into()))?;
    let at = time::to_db(mail.created_at);
    sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO mail_queue (kind, ticket_id, recipients, reply_to, subject, body, \
             created_at, next_attempt_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    ))
    .bind(mail.kind.to_db())
    .bind(mail.ticket_id)
    .bind(recipients)
    .bind(&mail.reply_to)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(&at)
    .bind(&at)
    .fetch_one(conn)
    .await
}

/// Up to `limit` unsent e-mails whose next attempt is due at `now`, oldest first.
pub(crate) async fn due<'e>(
    ex: impl AnyExecutor<'e>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Queued>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(
        "SELECT id, recipients, reply_to, subject, body, created_at, attempts FROM mail_queue \
         WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
    ))
    .bind(time::to_db(now))
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|row| {
            let recipients: String = row.try_get("recipients")?;
            Ok(Queued {
                id: row.try_get("id")?,
                recipients: serde_json::from_str(&recipients).map_err(|e| {
                    sqlx::Error::Decode(format!("bad stored recipients: {e}").into())
                })?,
                reply_to: row.try_get("reply_to")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                created_at: time::from_db(row.try_get("created_at")?)?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
}

/// Takes e-mails `ids` for sending until `until`: their next attempt moves
/// there, so no other server process on the database sends them meanwhile.
/// Only those still unsent and due at `now` are taken; returns their ids.
pub(crate) async fn claim(
    conn: &mut AnyConnection,
    ids: &[i64],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let mut taken = Vec::with_capacity(ids.len());
    for &id in ids {
        let done = sqlx::query(crate::sql::sql(
            "UPDATE mail_queue SET next_attempt_at = ? \
             WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?",
        ))
        .bind(time::to_db(until))
        .bind(id)
        .bind(time::to_db(now))
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            taken.push(id);
        }
    }
    Ok(taken)
}

/// Marks e-mail `id` sent at `at`.
pub(crate) async fn mark_sent<'e>(
    ex: impl AnyExecutor<'e>,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "UPDATE mail_queue SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
    ))
    .bind(time::to_db(at))
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Records a failed attempt at e-mail `id` and when to try again.
pub(crate) async fn mark_failed<'e>(
    ex: impl AnyExecutor<'e>,
    id: i64,
    reason: &str,
    next: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "UPDATE mail_queue SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? \
         WHERE id = ?",
    ))
    .bind(reason)
    .bind(time::to_db(next))
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Forgets e-mails sent before `before`; returns how many.
pub(crate) async fn prune_sent<'e>(
    ex: impl AnyExecutor<'e>,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(crate::sql::sql(
        "DELETE FROM mail_queue WHERE sent_at IS NOT NULL AND sent_at < ?",
    ))
    .bind(time::to_db(before))
    .execute(ex)
    .await?
    .rows_affected())
}

/// When something is next due: a ticket's notification or a queued
/// e-mail's next attempt.
pub(crate) async fn next_due<'e>(
    ex: impl AnyExecutor<'e>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let next: Option<String> = sqlx::query_scalar(crate::sql::sql(
        "SELECT MIN(t) FROM ( \
             SELECT MIN(due_at) AS t FROM mail_batches \
             UNION ALL \
             SELECT MIN(next_attempt_at) FROM mail_queue WHERE sent_at IS NULL) AS due",
    ))
    .fetch_one(ex)
    .await?;
    time::from_db_opt(next.as_deref())
}

/// How far the history has been read; starts it at the newest entry the
/// first time.
pub(crate) async fn cursor(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "INSERT INTO mail_cursor (id, history_id) \
         SELECT 1, COALESCE((SELECT MAX(id) FROM ticket_history), 0) \
         WHERE NOT EXISTS (SELECT 1 FROM mail_cursor)",
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(crate::sql::sql(
        "SELECT history_id FROM mail_cursor WHERE id = 1",
    ))
    .fetch_one(conn)
    .await
}

/// Moves the cursor to history entry `id`.
pub(crate) async fn set_cursor(conn: &mut AnyConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "UPDATE mail_cursor SET history_id = ? WHERE id = 1",
    ))
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` history entries after `after`: id, ticket and time.
pub(crate) async fn history_after<'e>(
    ex: impl AnyExecutor<'e>,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, TicketId, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(i64, TicketId, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT id, ticket_id, at FROM ticket_history WHERE id > ? ORDER BY id LIMIT ?",
    ))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(id, ticket, at)| Ok((id, ticket, time::from_db(&at)?)))
        .collect()
}

/// Starts a notification for `ticket` from history entry `first`, due at
/// `due`, unless one is waiting already (that one takes this change too).
pub(crate) async fn add_batch(
    conn: &mut AnyConnection,
    ticket: TicketId,
    first: i64,
    due: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "INSERT INTO mail_batches (ticket_id, first_history_id, due_at) VALUES (?, ?, ?) \
         ON CONFLICT (ticket_id) DO NOTHING",
    ))
    .bind(ticket)
    .bind(first)
    .bind(time::to_db(due))
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` notifications due at `now`: ticket and first history entry.
pub(crate) async fn due_batches<'e>(
    ex: impl AnyExecutor<'e>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(TicketId, i64)>, sqlx::Error> {
    sqlx::query_as(crate::sql::sql(
        "SELECT ticket_id, first_history_id FROM mail_batches WHERE due_at <= ? \
         ORDER BY due_at LIMIT ?",
    ))
    .bind(time::to_db(now))
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await
}

/// Ends the notification of `ticket` (it is queued, or there was no one to tell).
pub(crate) async fn delete_batch(
    conn: &mut AnyConnection,
    ticket: TicketId,
) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "DELETE FROM mail_batches WHERE ticket_id = ?",
    ))
    .bind(ticket)
    .execute(conn)
    .await?;
    Ok(())
}

/// An operator who receives ticket e-mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recipient {
    pub(crate) id: OperatorId,
    pub(crate) name: String,
    pub(crate) email: String,
}

/// Operators with "receive ticket e-mails" on who can still sign in.
pub(crate) async fn recipients<'e>(
    ex: impl AnyExecutor<'e>,
) -> Result<Vec<Recipient>, sqlx::Error> {
    let rows: Vec<(OperatorId, String, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT id, name, email FROM operators \
         WHERE receive_ticket_emails = TRUE AND revoked_at IS NULL AND email <> '' ORDER BY id",
    ))
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, email)| Recipient { id, name, email })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_due_e_mail_is_taken_once_and_is_not_due_while_taken() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("t.db")).await.unwrap();
        let now = time::now();
        let mut tx = db.write().await.unwrap();
        let id = enqueue(
            tx.conn(),
            &NewMail {
                kind: MailKind::Escalation,
                ticket_id: None,
                recipients: vec!["a@example.com".into()],
                reply_to: None,
                subject: "s".into(),
                body: "b".into(),
                created_at: now,
            },
        )
        .await
        .unwrap();
        let until = now + chrono::Duration::minutes(10);
        assert_eq!(claim(tx.conn(), &[id], now, until).await.unwrap(), [id]);
        // Another process, reading the same due list, takes nothing.
        assert!(
            claim(tx.conn(), &[id], now, until)
                .await
                .unwrap()
                .is_empty()
        );
        tx.commit().await.unwrap();
        assert!(due(db.pool(), now, 10).await.unwrap().is_empty());
        assert_eq!(due(db.pool(), until, 10).await.unwrap()[0].id, id);
    }
}
