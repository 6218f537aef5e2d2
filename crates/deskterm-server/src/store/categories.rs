//! Categories: created the first time a name is typed, matched case-insensitively after.

use deskterm_api::Category;
use sqlx::{AnyConnection, AnyExecutor};

use crate::text::fold;

/// Every category, by name.
pub(crate) async fn all<'e>(ex: impl AnyExecutor<'e>) -> Result<Vec<Category>, sqlx::Error> {
    let rows: Vec<(i64, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT id, name FROM categories ORDER BY folded, id",
    ))
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Category { id, name })
        .collect())
}

/// The id of the category called `name` (any case), creating it if new.
/// The flag says whether it was created.
pub(crate) async fn find_or_create(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<(i64, bool), sqlx::Error> {
    let folded = fold(name);
    let found: Option<i64> = sqlx::query_scalar(crate::sql::sql(
        "SELECT id FROM categories WHERE folded = ?",
    ))
    .bind(&folded)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = found {
        return Ok((id, false));
    }
    let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO categories (name, folded) VALUES (?, ?) RETURNING id",
    ))
    .bind(name)
    .bind(&folded)
    .fetch_one(conn)
    .await?;
    Ok((id, true))
}
