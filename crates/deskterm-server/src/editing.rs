//! Creating and changing a ticket: the field rules plus what needs the
//! database (the status, contact and operator exist, the reference is free,
//! a new category is created), and `closed_at` following the macro-status.
//!
//! These run inside the caller's write transaction and record no change in
//! the feed: the routes record what they did, the demo loader records
//! nothing. The ticket's history is written by the store, by `actor`.

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactId, MacroStatus, NewContact, NewTicket, Priority, Ticket, TicketId, TicketPatch,
};
use sqlx::AnyConnection;

use crate::problem::{ApiError, ApiResult, FieldErrors};
use crate::rules::{self, DEFAULT_CHANNEL};
use crate::store::contacts::NewContactRow;
use crate::store::history::Actor;
use crate::store::tickets::TicketFields;
use crate::store::{categories, contacts, operators, statuses, tickets};
use crate::text::fold;

/// The status of a ticket nobody chose one for.
pub(crate) const DEFAULT_STATUS: &str = "new";

/// What a create or a patch did.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The ticket as stored afterwards.
    pub(crate) ticket: Ticket,
    /// Whether a category was created for it (the metadata changed).
    pub(crate) new_category: bool,
}

/// When a new ticket was created and last updated; `closed_at` is taken
/// from `updated` when it starts in a closed status and no closing time is given.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) closed: Option<DateTime<Utc>>,
}

impl Times {
    /// Everything happening now.
    pub(crate) fn now(now: DateTime<Utc>) -> Times {
        Times {
            created: now,
            updated: now,
            closed: None,
        }
    }
}

/// Adds `status`'s error and returns its macro-status if it exists.
async fn check_status(
    conn: &mut AnyConnection,
    status: &str,
    errors: &mut FieldErrors,
) -> ApiResult<Option<MacroStatus>> {
    let found = statuses::macro_of(conn, status).await?;
    if found.is_none() {
        errors.add("status", format!("unknown status {status:?}"));
    }
    Ok(found)
}

async fn check_operator(
    conn: &mut AnyConnection,
    operator: Option<i64>,
    errors: &mut FieldErrors,
) -> ApiResult<()> {
    if let Some(id) = operator
        && !operators::exists(conn, id).await?
    {
        errors.add("operator_id", format!("there is no operator {id}"));
    }
    Ok(())
}

/// The customer a create or a patch names: an existing contact by `id`,
/// or a new one made from `new` in the caller's transaction (a write that
/// fails afterwards takes it back with everything else). Errors go to
/// `contact_id`, or to `new_contact.<field>`; `None` when there are some.
async fn customer(
    conn: &mut AnyConnection,
    id: Option<ContactId>,
    new: Option<&NewContact>,
    now: DateTime<Utc>,
    errors: &mut FieldErrors,
) -> ApiResult<Option<ContactId>> {
    match (id, new) {
        (Some(_), Some(_)) => {
            errors.add(
                "new_contact",
                "give either contact_id (an existing customer) or new_contact, not both",
            );
            Ok(None)
        }
        (None, None) => {
            errors.add("contact_id", "choose the customer, or give new_contact");
            Ok(None)
        }
        (Some(id), None) => {
            if contacts::get(&mut *conn, id).await?.is_none() {
                errors.add("contact_id", format!("there is no contact {id}"));
                return Ok(None);
            }
            Ok(Some(id))
        }
        (None, Some(new)) => {
            let mut own = FieldErrors::default();
            let valid = rules::contact(new, &mut own);
            if !own.is_empty() || !errors.is_empty() {
                errors.nest("new_contact", own);
                return Ok(None);
            }
            let id = contacts::insert(
                conn,
                &NewContactRow {
                    name: &valid.name,
                    phone: valid.phone.as_deref(),
                    email: valid.email.as_deref(),
                    channel: valid.channel.as_deref(),
                    created_at: now,
                },
            )
            .await?;
            Ok(Some(id))
        }
    }
}

/// The category id for a name, creating it when new.
async fn category_id(
    conn: &mut AnyConnection,
    name: Option<&str>,
) -> ApiResult<(Option<i64>, bool)> {
    match name {
        Some(name) => {
            let (id, created) = categories::find_or_create(conn, name).await?;
            Ok((Some(id), created))
        }
        None => Ok((None, false)),
    }
}

/// Creates a ticket after checking every field; 422 with the field map,
/// 409 when a typed reference is taken.
pub(crate) async fn create(
    conn: &mut AnyConnection,
    new: &NewTicket,
    times: Times,
    actor: &Actor,
) -> ApiResult<Outcome> {
    let mut errors = FieldErrors::default();
    let title = rules::title(&new.title, &mut errors);
    let description = rules::description(&new.description, &mut errors);
    let tags = rules::tags(&new.tags, &mut errors);
    let channel = rules::channel(
        new.channel.as_deref().unwrap_or(DEFAULT_CHANNEL),
        "channel",
        &mut errors,
    );
    let category = rules::category(new.category.as_deref(), &mut errors);
    let reference = new
        .reference
        .as_deref()
        .map(|r| rules::reference(r, &mut errors));
    let sla_due_at = rules::sla_due_at(new.sla_due_at, &mut errors);
    let pending_until = rules::pending_until(new.pending_until, &mut errors);
    let status = new
        .status
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_STATUS)
        .to_owned();
    let macro_status = check_status(conn, &status, &mut errors).await?;
    check_operator(conn, new.operator_id, &mut errors).await?;
    // Last, so a new customer is made only for an otherwise valid ticket.
    let contact_id = customer(
        conn,
        (new.contact_id != 0).then_some(new.contact_id),
        new.new_contact.as_ref(),
        times.updated,
        &mut errors,
    )
    .await?;
    errors.check()?;
    let Some(contact_id) = contact_id else {
        return Err(ApiError::internal(
            "a ticket without a customer passed the checks",
        ));
    };

    let reference = match reference {
        Some(reference) => {
            if tickets::reference_taken(conn, &reference).await? {
                return Err(ApiError::conflict(
                    "reference",
                    format!("the reference {reference:?} is taken"),
                ));
            }
            reference
        }
        None => tickets::next_reference(conn).await?,
    };
    let (category_id, new_category) = category_id(conn, category.as_deref()).await?;
    let closed_at =
        (macro_status == Some(MacroStatus::Closed)).then(|| times.closed.unwrap_or(times.updated));
    let fields = TicketFields {
        reference,
        title,
        description,
        status,
        priority: new.priority.unwrap_or(Priority::Normal),
        category_id,
        tags,
        important: new.important,
        contact_id,
        operator_id: new.operator_id,
        channel,
        sla_due_at,
        // A closed ticket waits for nothing.
        pending_until: pending_until.filter(|_| closed_at.is_none()),
        created_at: times.created,
        updated_at: times.updated,
        closed_at,
    };
    let id = tickets::insert(conn, &fields, actor).await?;
    Ok(Outcome {
        ticket: stored(conn, id).await?,
        new_category,
    })
}

/// Reads back a ticket this transaction wrote.
async fn stored(conn: &mut AnyConnection, id: TicketId) -> ApiResult<Ticket> {
    tickets::get(conn, id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("ticket {id} vanished while being written")))
}

/// Applies a merge patch to ticket `id` (whose version the caller checked).
/// A patch that changes nothing leaves the version alone.
pub(crate) async fn patch(
    conn: &mut AnyConnection,
    id: TicketId,
    patch: &TicketPatch,
    now: DateTime<Utc>,
    actor: &Actor,
) -> ApiResult<Outcome> {
    let Some(before) = tickets::fields(conn, id).await? else {
        return Err(ApiError::not_found(format!("ticket {id}")));
    };
    let mut after = before.clone();
    let mut errors = FieldErrors::default();
    if let Some(title) = &patch.title {
        after.title = rules::title(title, &mut errors);
    }
    if let Some(description) = &patch.description {
        after.description = rules::description(description, &mut errors);
    }
    if let Some(tags) = &patch.tags {
        after.tags = rules::tags(tags, &mut errors);
    }
    if let Some(priority) = patch.priority {
        after.priority = priority;
    }
    if let Some(important) = patch.important {
        after.important = important;
    }
    if let Some(sla) = patch.sla_due_at {
        after.sla_due_at = rules::sla_due_at(sla, &mut errors);
    }
    if let Some(until) = patch.pending_until {
        after.pending_until = rules::pending_until(until, &mut errors);
    }
    let category = patch
        .category
        .as_ref()
        .map(|c| rules::category(c.as_deref(), &mut errors));
    let macro_before = statuses::macro_of(&mut *conn, &before.status).await?;
    let mut macro_after = macro_before;
    if let Some(status) = &patch.status {
        after.status = status.trim().to_owned();
        macro_after = check_status(conn, &after.status, &mut errors).await?;
    }
    if let Some(operator) = patch.operator_id {
        check_operator(conn, operator, &mut errors).await?;
        after.operator_id = operator;
    }
    if let Some(reference) = &patch.reference {
        after.reference = rules::reference(reference, &mut errors);
    }
    if patch.contact_id.is_some() || patch.new_contact.is_some() {
        // Last, so a new customer is made only for an otherwise valid change.
        if let Some(contact) = customer(
            conn,
            patch.contact_id,
            patch.new_contact.as_ref(),
            now,
            &mut errors,
        )
        .await?
        {
            after.contact_id = contact;
        }
    }
    errors.check()?;
    // Another ticket's reference is taken; the ticket's own, typed in
    // another case, is a rename.
    if fold(&after.reference) != fold(&before.reference)
        && tickets::reference_taken(conn, &after.reference).await?
    {
        return Err(ApiError::conflict(
            "reference",
            format!("the reference {:?} is taken", after.reference),
        ));
    }

    let mut new_category = false;
    if let Some(category) = category {
        let (id, created) = category_id(conn, category.as_deref()).await?;
        after.category_id = id;
        new_category = created;
    }
    after.closed_at = match (macro_before, macro_after) {
        (Some(MacroStatus::Closed), Some(MacroStatus::Closed)) => before.closed_at.or(Some(now)),
        (_, Some(MacroStatus::Closed)) => Some(now),
        _ => None,
    };
    if after.closed_at.is_some() {
        // A closed ticket waits for nothing.
        after.pending_until = None;
    }
    if after == before {
        return Ok(Outcome {
            ticket: stored(conn, id).await?,
            new_category,
        });
    }
    after.updated_at = now;
    let version: i64 =
        sqlx::query_scalar(crate::sql::sql("SELECT version FROM tickets WHERE id = ?"))
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
    tickets::update(conn, id, &before, &after, version + 1, actor).await?;
    Ok(Outcome {
        ticket: stored(conn, id).await?,
        new_category,
    })
}
