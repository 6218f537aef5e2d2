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
        stats: false,
        history: false,
    }
}

/// Statuses, priorities, categories, operators, tags and channels in use.
pub(super) async fn get(State(state): State<AppState>) -> ApiResult<Json<Meta>> {
    let pool = state.db.pool();
    let tags: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT j.value FROM tickets t, json_each(t.tags) j ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let channels: Vec<String> = sqlx::query_scalar(
        "SELECT channel FROM tickets UNION SELECT channel FROM contacts WHERE channel IS NOT NULL \
         UNION SELECT channel FROM messages ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
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
