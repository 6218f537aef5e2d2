//! The chat with a customer: `/contacts/{id}/messages`, and
//! `/channels/{channel}/inbound` where customers' messages arrive.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use deskterm_api::{
    ChangeKind, ChatMessage, ContactId, Direction, InboundMessage, NewContact, NewMessage,
    NewTicket,
};
use serde::Deserialize;

use super::AppState;
use super::contacts::page_limit;
use crate::auth::{Caller, ChannelCaller};
use crate::automations;
use crate::editing::{self, Times};
use crate::extract::{Body, IdempotencyKey, Params, PathParam};
use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::roles::{Action, Ownership, permit};
use crate::rules::{self, DEFAULT_CHANNEL};
use crate::store::contacts::{self, NewContactRow};
use crate::store::history::Actor;
use crate::store::idempotency::{self, Answer, Owner, Scope};
use crate::store::messages::{self, NewMessageRow};
use crate::store::tickets;
use crate::text::{fold, non_blank, title_from_body};
use crate::time;

/// Messages per page when the client does not say.
const DEFAULT_MESSAGES: u32 = 100;
/// A ticket opened by a customer's message is titled with this many of its first characters.
const INBOUND_TITLE_CHARS: usize = 60;

/// Query of `GET /contacts/{id}/messages`.
#[derive(Debug, Deserialize)]
pub(super) struct MessageQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// A contact's messages after message `after`, oldest first.
pub(super) async fn list(
    State(state): State<AppState>,
    PathParam(contact): PathParam<ContactId>,
    Params(query): Params<MessageQuery>,
) -> ApiResult<Json<Vec<ChatMessage>>> {
    let limit = page_limit(query.limit, DEFAULT_MESSAGES)?;
    let pool = state.db.pool();
    if contacts::get(pool, contact).await?.is_none() {
        return Err(ApiError::not_found(format!("contact {contact}")));
    }
    Ok(Json(
        messages::of_contact(pool, contact, query.after.unwrap_or(0), limit).await?,
    ))
}

/// Sends a message from the caller to the contact, optionally about one of their tickets.
pub(super) async fn send(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(contact_id): PathParam<ContactId>,
    IdempotencyKey(key): IdempotencyKey,
    Body(new): Body<NewMessage>,
) -> ApiResult<Answer> {
    let scope = Scope::of(
        Owner::Operator(caller.id),
        format!("POST /contacts/{contact_id}/messages"),
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
    let contact = contacts::get(tx.conn(), contact_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("contact {contact_id}")))?;
    let mut ticket_channel = None;
    let mut action = Action::WriteToContact;
    if let Some(ticket_id) = new.ticket_id {
        match tickets::get(tx.conn(), ticket_id).await? {
            None => errors.add("ticket_id", format!("there is no ticket {ticket_id}")),
            Some(t) if t.contact.id != contact_id => errors.add(
                "ticket_id",
                format!("ticket {} is about another contact", t.reference),
            ),
            Some(t) => {
                action = Action::AnswerCustomer(Ownership::of(&caller, t.operator.map(|o| o.id)));
                ticket_channel = Some(t.channel);
            }
        }
    }
    permit(&caller, action)?;
    errors.check()?;
    let channel = ticket_channel
        .or(contact.channel)
        .unwrap_or_else(|| DEFAULT_CHANNEL.to_owned());
    let message = messages::insert(
        tx.conn(),
        &NewMessageRow {
            contact_id,
            ticket_id: new.ticket_id,
            direction: Direction::Outbound,
            operator_id: Some(caller.id),
            body: &body,
            channel: &channel,
            created_at: now,
            channel_token_id: None,
            automation: None,
        },
    )
    .await?;
    tx.record(now, ChangeKind::MessageAdded(message.clone()))
        .await?;
    // A first answer starts the resolution clock.
    if let Some(ticket) = new.ticket_id {
        sla_changed(&mut tx, &state, ticket, now).await?;
    }
    let answer = Answer::json(StatusCode::CREATED, &message)?;
    idempotency::commit_with(tx, scope.as_ref(), answer).await
}

/// Applies the SLA rules to `ticket` and, when its due time or state
/// changed, sends the ticket on the change feed.
pub(super) async fn sla_changed(
    tx: &mut crate::db::WriteTx,
    state: &AppState,
    ticket: deskterm_api::TicketId,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    if crate::sla::refresh(tx.conn(), ticket, state.settings.sla.as_ref(), now).await?
        && let Some(t) = tickets::get(tx.conn(), ticket).await?
    {
        tx.record(now, ChangeKind::TicketUpserted(t)).await?;
    }
    Ok(())
}

/// A customer's message arriving on `channel`, posted with that channel's
/// token: the sender is found by phone or e-mail (or created), and the
/// message joins their newest ticket in progress, or opens a new one. Name,
/// phone, e-mail and text follow the rules of contacts and messages.
/// A gateway's retry with the same `Idempotency-Key` gets the first answer;
/// keys are kept per channel.
pub(super) async fn inbound(
    State(state): State<AppState>,
    sender: ChannelCaller,
    PathParam(channel): PathParam<String>,
    IdempotencyKey(key): IdempotencyKey,
    Body(msg): Body<InboundMessage>,
) -> ApiResult<Answer> {
    if fold(channel.trim()) != fold(&sender.channel) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token belongs to the channel {0:?}; it posts only to /channels/{0}/inbound",
                sender.channel
            ),
        ));
    }
    let scope = Scope::of(
        Owner::Channel(sender.channel_id),
        format!("POST /channels/{channel}/inbound"),
        key,
        &msg,
    )?;
    let mut errors = FieldErrors::default();
    let body = rules::body(&msg.body, &mut errors);
    // A sender without a name is called by their phone or e-mail.
    let name = match msg.name.trim() {
        "" => non_blank(msg.phone.as_deref())
            .or_else(|| non_blank(msg.email.as_deref()))
            .unwrap_or_default(),
        name => name.to_owned(),
    };
    let contact = rules::contact(
        &NewContact {
            name,
            phone: msg.phone,
            email: msg.email,
            channel: Some(sender.channel),
        },
        &mut errors,
    );
    if contact.phone.is_none() && contact.email.is_none() {
        errors.add("phone", "a phone or an e-mail is needed to know who wrote");
    }
    errors.check()?;
    let (name, phone, email) = (contact.name, contact.phone, contact.email);
    let channel = contact.channel.unwrap_or_default();

    let now = time::now();
    let mut tx = state.db.write().await?;
    if let Some(answer) = idempotency::find(tx.conn(), scope.as_ref()).await? {
        return Ok(answer);
    }
    let contact_id =
        match contacts::find_by_address(tx.conn(), phone.as_deref(), email.as_deref()).await? {
            Some(id) => id,
            None => {
                contacts::insert(
                    tx.conn(),
                    &NewContactRow {
                        name: &name,
                        phone: phone.as_deref(),
                        email: email.as_deref(),
                        channel: Some(&channel),
                        created_at: now,
                    },
                )
                .await?
            }
        };
    let actor = Actor::Channel(channel.clone());
    let mut opened = None;
    let ticket_id = match tickets::newest_in_progress(tx.conn(), contact_id).await? {
        Some(id) => id,
        None => {
            let intake = automations::intake(&state.settings.automations, &channel);
            let title = intake
                .and_then(|a| automations::intake_title(a, &body, &name, &channel))
                .map(|t| title_from_body(&t, INBOUND_TITLE_CHARS))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| title_from_body(&body, INBOUND_TITLE_CHARS));
            let new = NewTicket {
                title,
                description: body.clone(),
                status: None,
                priority: None,
                category: None,
                tags: Vec::new(),
                important: false,
                contact_id,
                new_contact: None,
                operator_id: None,
                channel: Some(channel.clone()),
                reference: None,
                sla_due_at: None,
                pending_until: None,
            };
            let outcome = editing::create(tx.conn(), &new, Times::now(now), &actor).await?;
            let ticket = super::tickets::with_sla(&mut tx, &state, outcome.ticket, now).await?;
            let id = ticket.id;
            tx.record(now, ChangeKind::TicketUpserted(ticket.clone()))
                .await?;
            opened = Some((ticket, intake.map(|a| a.name.clone())));
            id
        }
    };
    // The message first, then what the automations answer to it.
    let message = messages::insert(
        tx.conn(),
        &NewMessageRow {
            contact_id,
            ticket_id: Some(ticket_id),
            direction: Direction::Inbound,
            operator_id: None,
            body: &body,
            channel: &channel,
            created_at: now,
            channel_token_id: Some(sender.token_id),
            automation: None,
        },
    )
    .await?;
    tx.record(now, ChangeKind::MessageAdded(message.clone()))
        .await?;
    if let Some((ticket, intake)) = opened {
        automations::run(
            &mut tx,
            &state.settings,
            ticket,
            automations::Event::Created {
                intake: intake.as_deref(),
            },
            now,
        )
        .await?;
    }
    let answer = Answer::json(StatusCode::CREATED, &message)?;
    idempotency::commit_with(tx, scope.as_ref(), answer).await
}
