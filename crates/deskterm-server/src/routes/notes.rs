//! `/tickets/{id}/notes`: internal notes, visible to operators only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use deskterm_api::{ChangeKind, NewNote, Note, TicketId};

use super::AppState;
use crate::auth::Caller;
use crate::extract::{Body, IdempotencyKey, PathParam};
use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::roles::{Action, Ownership, permit};
use crate::rules;
use crate::store::idempotency::{self, Answer, Owner, Scope};
use crate::store::{notes, tickets};
use crate::time;

/// The notes of a ticket, oldest first.
pub(super) async fn list(
    State(state): State<AppState>,
    PathParam(id): PathParam<TicketId>,
) -> ApiResult<Json<Vec<Note>>> {
    let pool = state.db.pool();
    if tickets::get(pool, id).await?.is_none() {
        return Err(ApiError::not_found(format!("ticket {id}")));
    }
    Ok(Json(notes::of_ticket(pool, id).await?))
}

/// Adds a note by the caller. The ticket's version does not change.
pub(super) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<TicketId>,
    IdempotencyKey(key): IdempotencyKey,
    Body(new): Body<NewNote>,
) -> ApiResult<Answer> {
    let scope = Scope::of(
        Owner::Operator(caller.id),
        format!("POST /tickets/{id}/notes"),
        key,
        &new,
    )?;
    let mut errors = FieldErrors::default();
    let body = rules::body(&new.body, &mut errors);
    let now = time::now();
    let mut tx = state.db.write().await?;
    if let Some(answer) = idempotency::find(tx.conn(), scope.as_ref()).await? {
        return Ok(answer);
    }
    let ticket = tickets::get(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    let whose = Ownership::of(&caller, ticket.operator.map(|o| o.id));
    permit(&caller, Action::AddNote(whose))?;
    errors.check()?;
    let note = notes::insert(tx.conn(), id, caller.id, &body, now).await?;
    tx.record(now, ChangeKind::NoteAdded(note.clone())).await?;
    let answer = Answer::json(StatusCode::CREATED, &note)?;
    idempotency::commit_with(tx, scope.as_ref(), answer).await
}
