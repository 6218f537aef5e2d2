//! `GET /meta` and `POST /statuses`: what a client needs to label and check tickets.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use deskterm_api::{ChangeKind, Meta, NewStatus, Priority, ServerCapabilities, StatusDef};

use super::AppState;
use crate::auth::Caller;
use crate::extract::Body;
use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::roles::{Action, permit};
use crate::rules::{STATUS_KEY_MAX_CHARS, STATUS_LABEL_MAX_CHARS};
use crate::store::{categories, operators, statuses};
use crate::text::{chars, is_status_key, status_key_from_label};
use crate::time;

/// What this server supports.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        preconditions: true,
        live_events: true,
        custom_statuses: true,
        stats: true,
        history: true,
        escalations: true,
    }
}

/// Statuses, priorities, categories, operators, tags and channels in use.
pub(super) async fn get(State(state): State<AppState>) -> ApiResult<Json<Meta>> {
    let pool = state.db.pool();
    let tags = tags_in_use(pool).await?;
    let channels = channels_in_use(pool).await?;
    Ok(Json(Meta {
        statuses: statuses::all(pool).await?,
        priorities: Priority::ALL.to_vec(),
        categories: categories::all(pool).await?,
        operators: operators::all(pool).await?,
        tags,
        channels,
        capabilities: capabilities(),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

/// The distinct non-null values of `$column` in `$table` as a recursive
/// table named `$name` (with NULL at its end), as a literal: each step seeks
/// the next value in the column's index, so a million rows with five values
/// cost six seeks instead of a million rows read.
macro_rules! distinct_values {
    ($name:literal, $table:literal, $column:literal) => {
        concat!(
            $name,
            "(v) AS (SELECT MIN(",
            $column,
            ") FROM ",
            $table,
            " UNION ALL \
             SELECT (SELECT MIN(",
            $column,
            ") FROM ",
            $table,
            " WHERE ",
            $column,
            " > ",
            $name,
            ".v) FROM ",
            $name,
            " WHERE ",
            $name,
            ".v IS NOT NULL)"
        )
    };
}

/// Every tag of some ticket, sorted: the tags of each distinct tag list
/// (tickets keep them as a JSON array, through `tickets_by_tags`).
async fn tags_in_use(pool: &sqlx::AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(crate::sql::sql(crate::sql::pick(
        concat!(
            "WITH RECURSIVE ",
            distinct_values!("lists", "tickets", "tags"),
            " SELECT DISTINCT j.value FROM lists, json_each(lists.v) j \
             WHERE lists.v IS NOT NULL ORDER BY 1"
        ),
        concat!(
            "WITH RECURSIVE ",
            distinct_values!("lists", "tickets", "tags"),
            " SELECT DISTINCT j.value FROM lists, json_array_elements_text(lists.v::json) j \
             WHERE lists.v IS NOT NULL ORDER BY 1"
        ),
    )))
    .fetch_all(pool)
    .await
}

/// Every channel of some ticket, contact or message, sorted (through their
/// `*_by_channel` indexes).
async fn channels_in_use(pool: &sqlx::AnyPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(crate::sql::sql(concat!(
        "WITH RECURSIVE ",
        distinct_values!("a", "tickets", "channel"),
        ", ",
        distinct_values!("b", "contacts", "channel"),
        ", ",
        distinct_values!("c", "messages", "channel"),
        " SELECT v FROM a WHERE v IS NOT NULL UNION SELECT v FROM b WHERE v IS NOT NULL \
         UNION SELECT v FROM c WHERE v IS NOT NULL ORDER BY 1"
    )))
    .fetch_all(pool)
    .await
}

/// Adds a custom status (admins only); its macro-status is required.
pub(super) async fn add_status(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewStatus>,
) -> ApiResult<(StatusCode, Json<StatusDef>)> {
    permit(&caller, Action::AddStatus)?;
    let mut errors = FieldErrors::default();
    let label = new.label.trim().to_owned();
    if label.is_empty() {
        errors.add("label", "the label is required");
    } else if chars(&label) > STATUS_LABEL_MAX_CHARS {
        errors.add(
            "label",
            format!("the label is longer than {STATUS_LABEL_MAX_CHARS} characters"),
        );
    }
    let key = match new.key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) => key.to_owned(),
        None => status_key_from_label(&label),
    };
    if !errors.has("label") {
        if key.is_empty() {
            errors.add(
                "key",
                "no key can be made from this label; give one (lowercase letters, digits, `_`)",
            );
        } else if !is_status_key(&key) || chars(&key) > STATUS_KEY_MAX_CHARS {
            errors.add(
                "key",
                format!("a key is 1 to {STATUS_KEY_MAX_CHARS} lowercase letters, digits or `_`"),
            );
        }
    }
    errors.check()?;
    let status = StatusDef {
        key,
        label,
        macro_status: new.macro_status,
        builtin: false,
    };
    let mut tx = state.db.write().await?;
    if !statuses::insert(tx.conn(), &status).await? {
        return Err(ApiError::conflict(
            "key",
            format!("a status with the key {:?} exists already", status.key),
        ));
    }
    tx.record(time::now(), ChangeKind::MetaChanged).await?;
    tx.commit().await?;
    tracing::info!("custom status {:?} added", status.key);
    Ok((StatusCode::CREATED, Json(status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags and channels found through the indexes are the ones a walk
    /// through every row finds.
    #[tokio::test]
    async fn tags_and_channels_in_use_are_every_one_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("t.db")).await.unwrap();
        let pool = db.pool();
        let walk = |pool: &sqlx::AnyPool| {
            let pool = pool.clone();
            async move {
                let tags: Vec<String> = sqlx::query_scalar(crate::sql::sql(
                    "SELECT DISTINCT j.value FROM tickets t, json_each(t.tags) j ORDER BY 1",
                ))
                .fetch_all(&pool)
                .await
                .unwrap();
                let channels: Vec<String> = sqlx::query_scalar(crate::sql::sql(
                    "SELECT channel FROM tickets UNION SELECT channel FROM contacts \
                     WHERE channel IS NOT NULL UNION SELECT channel FROM messages ORDER BY 1",
                ))
                .fetch_all(&pool)
                .await
                .unwrap();
                (tags, channels)
            }
        };
        let ours = |pool: &sqlx::AnyPool| {
            let pool = pool.clone();
            async move {
                (
                    tags_in_use(&pool).await.unwrap(),
                    channels_in_use(&pool).await.unwrap(),
                )
            }
        };
        assert_eq!(ours(pool).await, (vec![], vec![]), "nothing in use yet");
        sqlx::query(crate::sql::sql(
            "INSERT INTO contacts (name, name_folded, channel, search, created_at) VALUES \
             ('Ana', 'ana', NULL, '', '2026-01-01T00:00:00.000Z'), \
             ('Bo', 'bo', 'telegram', '', '2026-01-01T00:00:00.000Z')",
        ))
        .execute(pool)
        .await
        .unwrap();
        let lists = [
            r#"[]"#,
            r#"["vip"]"#,
            r#"["b2b","vip"]"#,
            r#"["vip","b2b"]"#,
            r#"["a \"q\"","zz"]"#,
        ];
        let channels = ["web", "email", "whatsapp"];
        for i in 0..40_usize {
            sqlx::query(crate::sql::sql(
                "INSERT INTO tickets (reference, reference_folded, title, title_folded, \
                     description, status, priority, tags, contact_id, channel, created_at, \
                     updated_at) \
                 VALUES (?, ?, 't', 't', '', 'open', 1, ?, 1, ?, \
                     '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            ))
            .bind(format!("HD-{i}"))
            .bind(format!("hd-{i}"))
            .bind(lists[i % lists.len()])
            .bind(channels[i % 7 % channels.len()])
            .execute(pool)
            .await
            .unwrap();
        }
        sqlx::query(crate::sql::sql(
            "INSERT INTO messages (contact_id, direction, body, channel, created_at) \
             VALUES (2, 'inbound', 'hola', 'sms', '2026-01-01T00:00:00.000Z')",
        ))
        .execute(pool)
        .await
        .unwrap();
        let (tags, channels) = ours(pool).await;
        assert_eq!((tags.clone(), channels.clone()), walk(pool).await);
        assert_eq!(tags.len(), 4, "{tags:?}");
        assert_eq!(channels.len(), 5, "{channels:?}");
    }
}
