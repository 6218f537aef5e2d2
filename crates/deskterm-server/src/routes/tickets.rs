//! `/tickets`: the list, create, read, patch and delete.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskterm_api::{BASE_PATH, ChangeKind, NewTicket, TicketId, TicketPatch, TicketQuery, etag};

use super::AppState;
use crate::auth::Caller;
use crate::automations;
use crate::editing::{self, Times};
use crate::extract::{Body, IdempotencyKey, IfMatch, Params, PathParam};
use crate::listing::Listing;
use crate::problem::{ApiError, ApiResult};
use crate::roles::{Action, Ownership, permit};
use crate::store::history::Actor;
use crate::store::idempotency::{self, Answer, Owner, Scope};
use crate::store::{statuses, tickets};
use crate::time;

/// One page of tickets matching the filter, in the requested order.
pub(super) async fn list(
    State(state): State<AppState>,
    Params(query): Params<TicketQuery>,
) -> ApiResult<Response> {
    let pool = state.db.pool();
    let statuses = statuses::all(pool).await?;
    let listing = Listing::parse(&query, &statuses)?;
    let total = listing.total(pool).await?;
    let page = listing.page(pool, total).await?;
    let next_cursor = listing.next_cursor(&page, total);
    let body = page_body(&page.items, next_cursor.as_deref(), total).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A [`deskterm_api::TicketPage`] in JSON, around tickets SQLite wrote as JSON.
fn page_body(
    items: &[String],
    next_cursor: Option<&str>,
    total: u64,
) -> Result<String, serde_json::Error> {
    let length: usize = items.iter().map(|i| i.len() + 1).sum();
    let mut body = String::with_capacity(length + 200);
    body.push_str("{\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("],\"next_cursor\":");
    body.push_str(&serde_json::to_string(&next_cursor)?);
    body.push_str(",\"total\":");
    body.push_str(&total.to_string());
    body.push('}');
    Ok(body)
}

/// Creates a ticket; a retry with the same `Idempotency-Key` gets the first answer.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    IdempotencyKey(key): IdempotencyKey,
    Body(new): Body<NewTicket>,
) -> ApiResult<Answer> {
    permit(&caller, Action::OpenTicket)?;
    if new.new_contact.is_some() {
        // The customer is made with the ticket: the caller must be allowed both.
        permit(&caller, Action::AddContact)?;
    }
    let scope = Scope::of(
        Owner::Operator(caller.id),
        "POST /tickets".to_owned(),
        key,
        &new,
    )?;
    let now = time::now();
    let mut tx = state.db.write().await?;
    if let Some(answer) = idempotency::find(tx.conn(), scope.as_ref()).await? {
        return Ok(answer);
    }
    let outcome = editing::create(
        tx.conn(),
        &new,
        Times::now(now),
        &Actor::Operator(caller.id),
    )
    .await?;
    if outcome.new_category {
        tx.record(now, ChangeKind::MetaChanged).await?;
    }
    let ticket = with_sla(&mut tx, &state, outcome.ticket, now).await?;
    tx.record(now, ChangeKind::TicketUpserted(ticket.clone()))
        .await?;
    let ticket = automations::run(
        &mut tx,
        &state.settings,
        ticket,
        automations::Event::Created { intake: None },
        now,
    )
    .await?;
    let answer = Answer::json(StatusCode::CREATED, &ticket)?
        .location(format!("{BASE_PATH}/tickets/{}", ticket.id))
        .etag(etag(ticket.version));
    let answer = idempotency::commit_with(tx, scope.as_ref(), answer).await?;
    tracing::debug!("ticket {} created by operator {}", ticket.id, caller.id);
    Ok(answer)
}

/// `ticket` after the SLA rules were applied to it (its due time and state).
pub(super) async fn with_sla(
    tx: &mut crate::db::WriteTx,
    state: &AppState,
    ticket: deskterm_api::Ticket,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<deskterm_api::Ticket> {
    if crate::sla::refresh(tx.conn(), ticket.id, state.settings.sla.as_ref(), now).await? {
        return Ok(tickets::get(tx.conn(), ticket.id).await?.unwrap_or(ticket));
    }
    Ok(ticket)
}

/// One ticket, with its version as `ETag`.
pub(super) async fn get(
    State(state): State<AppState>,
    PathParam(id): PathParam<TicketId>,
) -> ApiResult<Answer> {
    let ticket = tickets::get(state.db.pool(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    Ok(Answer::json(StatusCode::OK, &ticket)?.etag(etag(ticket.version)))
}

/// Applies a merge patch; `If-Match` must name the current version.
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<TicketId>,
    if_match: IfMatch,
    Body(patch): Body<TicketPatch>,
) -> ApiResult<Answer> {
    let now = time::now();
    let mut tx = state.db.write().await?;
    let current = current_if_matches(&mut tx, id, &if_match, &caller, Action::EditTicket).await?;
    if patch.new_contact.is_some() {
        permit(&caller, Action::AddContact)?;
    }
    let outcome = editing::patch(tx.conn(), id, &patch, now, &Actor::Operator(caller.id)).await?;
    let mut ticket = outcome.ticket;
    if ticket.version != current.version {
        ticket = with_sla(&mut tx, &state, ticket, now).await?;
        if outcome.new_category {
            tx.record(now, ChangeKind::MetaChanged).await?;
        }
        tx.record(now, ChangeKind::TicketUpserted(ticket.clone()))
            .await?;
        if ticket.status != current.status {
            ticket = automations::run(
                &mut tx,
                &state.settings,
                ticket,
                automations::Event::StatusChanged {
                    from: &current.status,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(Answer::json(StatusCode::OK, &ticket)?.etag(etag(ticket.version)))
}

/// The ticket a write is about, if the caller may `action` it and the
/// client's `If-Match` names its current version: 428 without one, 404 when
/// there is no such ticket, 403 when the role does not allow it, 412 with the
/// current ticket when the client's copy is stale.
async fn current_if_matches(
    tx: &mut crate::db::WriteTx,
    id: TicketId,
    if_match: &IfMatch,
    caller: &Caller,
    action: fn(Ownership) -> Action,
) -> ApiResult<deskterm_api::Ticket> {
    if *if_match == IfMatch::Missing {
        return Err(ApiError::precondition_required());
    }
    let current = tickets::get(tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    let whose = Ownership::of(caller, current.operator.as_ref().map(|o| o.id));
    permit(caller, action(whose))?;
    if !if_match.matches(current.version) {
        return Err(ApiError::precondition_failed(current));
    }
    Ok(current)
}

/// Deletes a ticket and its notes; `If-Match` must name the current version.
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<TicketId>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    let mut tx = state.db.write().await?;
    current_if_matches(&mut tx, id, &if_match, &caller, Action::DeleteTicket).await?;
    let now = time::now();
    tickets::delete(tx.conn(), id, now, &Actor::Operator(caller.id)).await?;
    tx.record(now, ChangeKind::TicketDeleted { id }).await?;
    tx.commit().await?;
    tracing::debug!("ticket {id} deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use deskterm_api::TicketPage;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_page_body_is_a_ticket_page() {
        let ticket = json!({
            "id": 7, "reference": "HD-000007", "title": "Impresora", "description": "",
            "status": "open", "priority": "high", "category": null, "tags": [],
            "important": false, "contact": {"id": 1, "name": "Ana", "phone": null, "email": null},
            "operator": null, "channel": "web", "sla_due_at": null,
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            "closed_at": null, "version": 1
        })
        .to_string();
        let body = page_body(&[ticket.clone(), ticket], Some("ab\"c"), 9).unwrap();
        let page: TicketPage = serde_json::from_str(&body).unwrap();
        assert_eq!((page.items.len(), page.total), (2, 9));
        assert_eq!(page.next_cursor.as_deref(), Some("ab\"c"));
        // The fields of the wire type, no more.
        let fields = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let typed = TicketPage {
            items: vec![],
            next_cursor: None,
            total: 0,
        };
        assert_eq!(
            fields(serde_json::from_str(&body).unwrap()),
            fields(serde_json::to_value(typed).unwrap())
        );
        let empty: TicketPage = serde_json::from_str(&page_body(&[], None, 0).unwrap()).unwrap();
        assert!(empty.items.is_empty() && empty.next_cursor.is_none());
    }
}
