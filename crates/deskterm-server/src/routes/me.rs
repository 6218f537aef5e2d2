//! `GET /me`, `PATCH /me`: the signed-in operator, their role and their profile option.

use axum::Json;
use axum::extract::State;
use deskterm_api::{MePatch, MeWithRole};

use super::AppState;
use crate::auth::Caller;
use crate::extract::Body;
use crate::problem::{ApiError, ApiResult};
use crate::roles::{Action, permit};
use crate::store::operators;

/// The signed-in operator and their role.
pub(super) async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<MeWithRole>> {
    let me = operators::me(state.db.pool(), caller.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the operator no longer exists"))?;
    Ok(Json(MeWithRole {
        me,
        role: caller.role,
    }))
}

/// Changes the operator's profile option.
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Body(patch): Body<MePatch>,
) -> ApiResult<Json<MeWithRole>> {
    permit(&caller, Action::EditProfile)?;
    let mut tx = state.db.write().await?;
    if let Some(on) = patch.receive_ticket_emails {
        operators::set_receive_ticket_emails(tx.conn(), caller.id, on).await?;
    }
    let me = operators::me(tx.conn(), caller.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the operator no longer exists"))?;
    tx.commit().await?;
    Ok(Json(MeWithRole {
        me,
        role: caller.role,
    }))
}
