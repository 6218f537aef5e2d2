//! Operators as the API shows them.

use deskterm_api::{Me, OperatorId, OperatorRef};
use sqlx::AnyExecutor;

/// Every operator, by name.
pub(crate) async fn all<'e>(ex: impl AnyExecutor<'e>) -> Result<Vec<OperatorRef>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT id, name FROM operators ORDER BY name_folded, id",
    ))
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| OperatorRef { id, name })
        .collect())
}

/// Whether operator `id` exists.
pub(crate) async fn exists<'e>(
    ex: impl AnyExecutor<'e>,
    id: OperatorId,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar(crate::sql::sql("SELECT id FROM operators WHERE id = ?"))
            .bind(id)
            .fetch_optional(ex)
            .await?;
    Ok(found.is_some())
}

/// The profile of operator `id`.
pub(crate) async fn me<'e>(
    ex: impl AnyExecutor<'e>,
    id: OperatorId,
) -> Result<Option<Me>, sqlx::Error> {
    let row: Option<(i64, String, String, crate::sql::Flag)> = sqlx::query_as(crate::sql::sql(
        "SELECT id, name, email, receive_ticket_emails FROM operators WHERE id = ?",
    ))
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(row.map(|(id, name, email, receive_ticket_emails)| Me {
        id,
        name,
        email,
        receive_ticket_emails: receive_ticket_emails.0,
    }))
}

/// Sets the "receive ticket e-mails" option of operator `id`.
pub(crate) async fn set_receive_ticket_emails<'e>(
    ex: impl AnyExecutor<'e>,
    id: OperatorId,
    on: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(crate::sql::sql(
        "UPDATE operators SET receive_ticket_emails = ? WHERE id = ?",
    ))
    .bind(on)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}
