//! Contacts (customers): reading, searching, creating, and recognising the
//! sender of an inbound message.

use chrono::{DateTime, Utc};
use deskterm_api::{Contact, ContactId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyExecutor, Row};

use crate::text::{contact_search, fold, phone_digits};
use crate::time;

fn from_row(row: &AnyRow) -> Result<Contact, sqlx::Error> {
    Ok(Contact {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        channel: row.try_get("channel")?,
        created_at: time::from_db(row.try_get("created_at")?)?,
    })
}

/// Contact `id`, if it exists.
pub(crate) async fn get<'e>(
    ex: impl AnyExecutor<'e>,
    id: ContactId,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "SELECT id, name, phone, email, channel, created_at FROM contacts WHERE id = ?",
    ))
    .bind(id)
    .fetch_optional(ex)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Contacts whose name, phone or e-mail contains `q` (any case), by name.
pub(crate) async fn search<'e>(
    ex: impl AnyExecutor<'e>,
    q: Option<&str>,
    limit: u32,
) -> Result<Vec<Contact>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(
        "SELECT id, name, phone, email, channel, created_at FROM contacts \
         WHERE ?1 IS NULL OR instr(search, ?1) > 0 \
         ORDER BY name_folded, id LIMIT ?2",
    ))
    .bind(q.map(fold))
    .bind(i64::from(limit))
    .fetch_all(ex)
    .await?;
    rows.iter().map(from_row).collect()
}

/// A contact to insert (fields already checked).
#[derive(Debug, Clone)]
pub(crate) struct NewContactRow<'a> {
    pub(crate) name: &'a str,
    pub(crate) phone: Option<&'a str>,
    pub(crate) email: Option<&'a str>,
    pub(crate) channel: Option<&'a str>,
    pub(crate) created_at: DateTime<Utc>,
}

/// Inserts a contact; returns its id.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    c: &NewContactRow<'_>,
) -> Result<ContactId, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO contacts (name, name_folded, phone, phone_digits, email, email_folded, \
             channel, search, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    ))
    .bind(c.name)
    .bind(fold(c.name))
    .bind(c.phone)
    .bind(c.phone.map(phone_digits).filter(|d| !d.is_empty()))
    .bind(c.email)
    .bind(c.email.map(fold))
    .bind(c.channel)
    .bind(contact_search(c.name, c.phone, c.email))
    .bind(time::to_db(c.created_at))
    .fetch_one(conn)
    .await
}

/// The oldest contact with this phone number (by digits) or, failing that, this e-mail.
pub(crate) async fn find_by_address(
    conn: &mut AnyConnection,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<Option<ContactId>, sqlx::Error> {
    if let Some(digits) = phone.map(phone_digits).filter(|d| !d.is_empty()) {
        let found: Option<ContactId> = sqlx::query_scalar(crate::sql::sql(
            "SELECT id FROM contacts WHERE phone_digits = ? ORDER BY id LIMIT 1",
        ))
        .bind(digits)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    if let Some(email) = email {
        return sqlx::query_scalar(crate::sql::sql(
            "SELECT id FROM contacts WHERE email_folded = ? ORDER BY id LIMIT 1",
        ))
        .bind(fold(email))
        .fetch_optional(conn)
        .await;
    }
    Ok(None)
}
