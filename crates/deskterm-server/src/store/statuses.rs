//! Ticket statuses: the built-in ones (seeded by the migration) and custom ones.

use deskterm_api::{MacroStatus, StatusDef};
use sqlx::{AnyConnection, AnyExecutor, Row};

fn macro_from_db(text: &str) -> Result<MacroStatus, sqlx::Error> {
    match text {
        "in_progress" => Ok(MacroStatus::InProgress),
        "closed" => Ok(MacroStatus::Closed),
        other => Err(sqlx::Error::Decode(
            format!("bad stored macro-status {other:?}").into(),
        )),
    }
}

/// Every status, in display order.
pub(crate) async fn all<'e>(ex: impl AnyExecutor<'e>) -> Result<Vec<StatusDef>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(
        "SELECT key, label, macro, builtin FROM statuses ORDER BY position",
    ))
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StatusDef {
                key: row.try_get("key")?,
                label: row.try_get("label")?,
                macro_status: macro_from_db(row.try_get("macro")?)?,
                builtin: row.try_get::<crate::sql::Flag, _>("builtin")?.0,
            })
        })
        .collect()
}

/// The macro-status of status `key`, if the status exists.
pub(crate) async fn macro_of<'e>(
    ex: impl AnyExecutor<'e>,
    key: &str,
) -> Result<Option<MacroStatus>, sqlx::Error> {
    let text: Option<String> =
        sqlx::query_scalar(crate::sql::sql("SELECT macro FROM statuses WHERE key = ?"))
            .bind(key)
            .fetch_optional(ex)
            .await?;
    text.as_deref().map(macro_from_db).transpose()
}

/// Adds a custom status after the others; `false` when the key is taken.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    status: &StatusDef,
) -> Result<bool, sqlx::Error> {
    let taken: Option<String> =
        sqlx::query_scalar(crate::sql::sql("SELECT key FROM statuses WHERE key = ?"))
            .bind(&status.key)
            .fetch_optional(&mut *conn)
            .await?;
    if taken.is_some() {
        return Ok(false);
    }
    sqlx::query(crate::sql::sql(
        "INSERT INTO statuses (key, label, macro, builtin, position) \
         SELECT ?, ?, ?, FALSE, COALESCE(MAX(position), -1) + 1 FROM statuses",
    ))
    .bind(&status.key)
    .bind(&status.label)
    .bind(status.macro_status.as_str())
    .execute(conn)
    .await?;
    Ok(true)
}
