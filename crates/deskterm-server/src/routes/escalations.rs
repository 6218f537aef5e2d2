//! `POST /tickets/{id}/escalations`: e-mails a ticket, its customer's
//! details and the last 100 messages to people outside the helpdesk. The
//! e-mail is queued in the transaction that records the escalation in the
//! ticket's history, and sent (and retried) by the mail task.

use axum::extract::State;
use axum::http::StatusCode;
use deskterm_api::{Escalation, HistoryKind, NewEscalation, TicketId};
use serde_json::json;

use super::AppState;
use crate::auth::Caller;
use crate::extract::{Body, IdempotencyKey, PathParam};
use crate::mail::{compose, mailbox};
use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::roles::{Action, permit};
use crate::rules;
use crate::store::history::{self, Actor, Record};
use crate::store::idempotency::{self, Answer, Owner, Scope};
use crate::store::mail::{self, MailKind, NewMail};
use crate::store::{contacts, messages, operators, tickets};
use crate::time;

/// Messages of the conversation an escalation carries.
const MESSAGES: u32 = 100;

/// Queues the escalation e-mail; `202 Accepted` with what was queued.
pub(super) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(id): PathParam<TicketId>,
    IdempotencyKey(key): IdempotencyKey,
    Body(new): Body<NewEscalation>,
) -> ApiResult<Answer> {
    let scope = Scope::of(
        Owner::Operator(caller.id),
        format!("POST /tickets/{id}/escalations"),
        key,
        &new,
    )?;
    let mut errors = FieldErrors::default();
    let to = rules::escalation_recipients(&new.to, &mut errors);
    let note = rules::escalation_note(new.note.as_deref(), &mut errors);
    let now = time::now();
    let mut tx = state.db.write().await?;
    if let Some(answer) = idempotency::find(tx.conn(), scope.as_ref()).await? {
        return Ok(answer);
    }
    let ticket = tickets::get(&mut *tx.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id}")))?;
    permit(&caller, Action::Escalate)?;
    errors.check()?;
    let me = operators::me(&mut *tx.conn(), caller.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the operator no longer exists"))?;
    let contact = contacts::get(&mut *tx.conn(), ticket.contact.id).await?;
    let conversation =
        messages::last_of_contact(&mut *tx.conn(), ticket.contact.id, MESSAGES).await?;
    let text = compose::escalation(
        &ticket,
        contact.as_ref(),
        &conversation,
        &me.name,
        note.as_deref(),
    );
    let queued = mail::enqueue(
        tx.conn(),
        &NewMail {
            kind: MailKind::Escalation,
            ticket_id: Some(id),
            recipients: to.clone(),
            reply_to: (!me.email.is_empty()).then(|| mailbox(&me.name, &me.email)),
            subject: text.subject,
            body: text.body,
            created_at: now,
        },
    )
    .await?;
    let recorded = Record {
        kind: HistoryKind::Escalated,
        field: None,
        old: None,
        new: Some(json!({ "to": to, "note": note })),
    };
    history::record(tx.conn(), id, now, &Actor::Operator(caller.id), &recorded).await?;
    let answer = Answer::json(
        StatusCode::ACCEPTED,
        &Escalation {
            id: queued,
            ticket_id: id,
            to,
            queued_at: now,
        },
    )?;
    let answer = idempotency::commit_with(tx, scope.as_ref(), answer).await?;
    state.mailer.wake();
    Ok(answer)
}
