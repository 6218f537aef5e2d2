//! `/contacts`: the contact picker, creating a contact, and a contact's tickets.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use deskterm_api::{BASE_PATH, Contact, ContactId, NewContact, PAGE_LIMIT_MAX, Ticket};
use serde::Deserialize;

use super::AppState;
use crate::auth::Caller;
use crate::extract::{Body, IdempotencyKey, Params, PathParam};
use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::roles::{Action, permit};
use crate::rules;
use crate::store::contacts::{self, NewContactRow};
use crate::store::idempotency::{self, Answer, Owner, Scope};
use crate::store::tickets;
use crate::time;

/// How many contacts the picker gets when it does not say.
const DEFAULT_CONTACTS: u32 = 50;
/// How many previous tickets of a contact are listed when the client does not say.
const DEFAULT_PREVIOUS_TICKETS: u32 = 25;

/// Query of `GET /contacts`.
#[derive(Debug, Deserialize)]
pub(super) struct ContactQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

/// Query of `GET /contacts/{id}/tickets`.
#[derive(Debug, Deserialize)]
pub(super) struct LimitQuery {
    #[serde(default)]
    limit: Option<u32>,
}

/// A page size in `1..=PAGE_LIMIT_MAX`.
pub(super) fn page_limit(limit: Option<u32>, default: u32) -> ApiResult<u32> {
    let limit = limit.unwrap_or(default);
    if limit == 0 || limit > PAGE_LIMIT_MAX {
        return Err(ApiError::invalid_field(
            "limit",
            format!("the page size must be 1 to {PAGE_LIMIT_MAX}"),
        ));
    }
    Ok(limit)
}

/// Contacts whose name, phone or e-mail contains `q`, by name.
pub(super) async fn search(
    State(state): State<AppState>,
    Params(query): Params<ContactQuery>,
) -> ApiResult<Json<Vec<Contact>>> {
    let limit = page_limit(query.limit, DEFAULT_CONTACTS)?;
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    Ok(Json(contacts::search(state.db.pool(), q, limit).await?))
}

/// Creates a contact; the name is required.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKey(key): IdempotencyKey,
    Body(new): Body<NewContact>,
) -> ApiResult<Answer> {
    permit(&caller, Action::AddContact)?;
    let scope = Scope::of(
        Owner::Operator(caller.id),
        "POST /contacts".to_owned(),
        key,
        &new,
    )?;
    let mut errors = FieldErrors::default();
    let valid = rules::contact(&new, &mut errors);
    errors.check()?;
    let mut tx = state.db.write().await?;
    if let Some(answer) = idempotency::find(tx.conn(), scope.as_ref()).await? {
        return Ok(answer);
    }
    let id = contacts::insert(
        tx.conn(),
        &NewContactRow {
            name: &valid.name,
            phone: valid.phone.as_deref(),
            email: valid.email.as_deref(),
            channel: valid.channel.as_deref(),
            created_at: time::now(),
        },
    )
    .await?;
    let contact = contacts::get(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("contact {id} vanished while being written")))?;
    let answer =
        Answer::json(StatusCode::CREATED, &contact)?.location(format!("{BASE_PATH}/contacts/{id}"));
    idempotency::commit_with(tx, scope.as_ref(), answer).await
}

/// One contact.
pub(super) async fn get(
    State(state): State<AppState>,
    PathParam(id): PathParam<ContactId>,
) -> ApiResult<Json<Contact>> {
    contacts::get(state.db.pool(), id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("contact {id}")))
}

/// The tickets of a contact, newest first (the last 25 unless `limit` says otherwise).
pub(super) async fn tickets(
    State(state): State<AppState>,
    PathParam(id): PathParam<ContactId>,
    Params(query): Params<LimitQuery>,
) -> ApiResult<Json<Vec<Ticket>>> {
    let limit = page_limit(query.limit, DEFAULT_PREVIOUS_TICKETS)?;
    let pool = state.db.pool();
    if contacts::get(pool, id).await?.is_none() {
        return Err(ApiError::not_found(format!("contact {id}")));
    }
    Ok(Json(tickets::of_contact(pool, id, limit).await?))
}
