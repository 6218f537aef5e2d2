//! Demo data: a small helpdesk loaded into an empty database so the client
//! has something to show on first run.
//!
//! The format is JSON; indices refer to positions in the arrays and times are
//! minutes before the moment of loading:
//!
//! ```json
//! { "operators": [{"name": "Ana", "email": "ana@example.com", "role": "admin"}],
//!   "statuses": [{"key": "waiting_parts", "label": "Waiting for parts", "macro": "in_progress"}],
//!   "contacts": [{"name": "Carla", "phone": "+34 600 000 001", "email": null, "channel": "whatsapp"}],
//!   "tickets": [{"reference": null, "title": "Printer jam", "description": "", "status": "open",
//!                "priority": "high", "category": "Soporte", "tags": ["vip"], "important": false,
//!                "contact": 0, "operator": 0, "channel": "whatsapp",
//!                "created_minutes_ago": 5000, "updated_minutes_ago": 120,
//!                "closed_minutes_ago": null, "sla_due_in_minutes": -30,
//!                "notes": [{"operator": 0, "body": "Called back", "minutes_ago": 300}]}],
//!   "messages": [{"contact": 0, "ticket": 0, "direction": "inbound", "operator": null,
//!                 "body": "Hola", "minutes_ago": 400}] }
//! ```
//!
//! Loading records nothing in the change feed: clients that connect later
//! load everything anyway.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use deskterm_api::{
    Direction, MacroStatus, NewContact, NewTicket, OperatorRef, Priority, Role, StatusDef,
};
use serde::{Deserialize, Serialize};

use crate::auth::{check_operator, insert_operator};
use crate::db::Db;
use crate::editing::{self, Times};
use crate::problem::FieldErrors;
use crate::rules::{self, DEFAULT_CHANNEL};
use crate::store::contacts::{self, NewContactRow};
use crate::store::history::Actor;
use crate::store::messages::{self, NewMessageRow};
use crate::store::{notes, statuses};
use crate::text::{is_status_key, non_blank, status_key_from_label};

/// A whole demo helpdesk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoData {
    /// Operators; the first is the one the client signs in as.
    #[serde(default)]
    pub operators: Vec<DemoOperator>,
    /// Custom statuses, added after the built-in ones.
    #[serde(default)]
    pub statuses: Vec<DemoStatus>,
    /// Customers.
    #[serde(default)]
    pub contacts: Vec<NewContact>,
    /// Tickets, each with its notes.
    #[serde(default)]
    pub tickets: Vec<DemoTicket>,
    /// Chat messages.
    #[serde(default)]
    pub messages: Vec<DemoMessage>,
}

/// An operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoOperator {
    /// Display name.
    pub name: String,
    /// E-mail address, unique.
    pub email: String,
    /// Role; the first operator is an admin and the others agents when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Whether they receive ticket e-mails; on when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_ticket_emails: Option<bool>,
}

/// A custom status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStatus {
    /// Key; derived from the label when absent.
    #[serde(default)]
    pub key: Option<String>,
    /// Label.
    pub label: String,
    /// Macro-status.
    #[serde(rename = "macro")]
    pub macro_status: MacroStatus,
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoTicket {
    /// Manual reference; generated when absent.
    #[serde(default)]
    pub reference: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Status key (built-in or from `statuses`).
    #[serde(default = "default_status")]
    pub status: String,
    /// Priority.
    #[serde(default = "default_priority")]
    pub priority: Priority,
    /// Category name; created on first use.
    #[serde(default)]
    pub category: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Important flag.
    #[serde(default)]
    pub important: bool,
    /// Index of the contact in `contacts`.
    pub contact: usize,
    /// Index of the assigned operator in `operators`.
    #[serde(default)]
    pub operator: Option<usize>,
    /// Channel; `phone` when absent.
    #[serde(default)]
    pub channel: Option<String>,
    /// Minutes before loading that it was created.
    #[serde(default)]
    pub created_minutes_ago: i64,
    /// Minutes before loading that it was last updated; when it was created if absent.
    #[serde(default)]
    pub updated_minutes_ago: Option<i64>,
    /// Minutes before loading that it was closed (closed statuses only; the update time if absent).
    #[serde(default)]
    pub closed_minutes_ago: Option<i64>,
    /// Minutes after loading that its SLA is due; negative when already breached.
    #[serde(default)]
    pub sla_due_in_minutes: Option<i64>,
    /// Internal notes.
    #[serde(default)]
    pub notes: Vec<DemoNote>,
}

fn default_status() -> String {
    editing::DEFAULT_STATUS.to_owned()
}

fn default_priority() -> Priority {
    Priority::Normal
}

/// An internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoNote {
    /// Index of the author in `operators`.
    pub operator: usize,
    /// Text.
    pub body: String,
    /// Minutes before loading that it was written.
    pub minutes_ago: i64,
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoMessage {
    /// Index of the contact in `contacts`.
    pub contact: usize,
    /// Index of the ticket in `tickets` (which must be about the same contact).
    #[serde(default)]
    pub ticket: Option<usize>,
    /// Inbound (from the customer) or outbound.
    pub direction: Direction,
    /// Index of the sender in `operators` (outbound only; the first operator when absent).
    #[serde(default)]
    pub operator: Option<usize>,
    /// Text.
    pub body: String,
    /// Minutes before loading that it was sent.
    pub minutes_ago: i64,
}

/// `now` shifted by `minutes` into the past (negative: into the future).
fn minutes_before(now: DateTime<Utc>, minutes: i64, what: &str) -> anyhow::Result<DateTime<Utc>> {
    TimeDelta::try_minutes(minutes)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| anyhow::anyhow!("{what}: {minutes} minutes is out of range"))
}

/// The item at `index` of a list, or a clear error naming both.
fn pick<T: Copy>(list: &[T], index: usize, what: &str, list_name: &str) -> anyhow::Result<T> {
    list.get(index).copied().ok_or_else(|| {
        anyhow::anyhow!(
            "{what}: there is no {list_name}[{index}] ({} {list_name})",
            list.len()
        )
    })
}

/// Field errors of a demo item as one line.
fn checked(errors: FieldErrors, what: &str) -> anyhow::Result<()> {
    errors.check().map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// Loads `data` in one transaction (all of it or nothing) with times
/// relative to `now`, and returns the first operator, the one to sign in as.
pub async fn load(db: &Db, data: &DemoData, now: DateTime<Utc>) -> anyhow::Result<OperatorRef> {
    let now = now.trunc_subsecs(3);
    if data.operators.is_empty() {
        anyhow::bail!("the demo data has no operator to sign in as");
    }
    let mut tx = db.write().await?;

    let mut operators: Vec<OperatorRef> = Vec::new();
    for (i, op) in data.operators.iter().enumerate() {
        let what = format!("operators[{i}]");
        let (name, email) =
            check_operator(&op.name, &op.email).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        // The first operator runs the demo helpdesk (custom statuses need an admin).
        let role = op
            .role
            .unwrap_or(if i == 0 { Role::Admin } else { Role::Agent });
        let operator = insert_operator(tx.conn(), &name, &email, role)
            .await
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        if let Some(on) = op.receive_ticket_emails {
            crate::store::operators::set_receive_ticket_emails(tx.conn(), operator.id, on).await?;
        }
        operators.push(operator);
    }
    let operator_ids: Vec<i64> = operators.iter().map(|o| o.id).collect();

    for (i, s) in data.statuses.iter().enumerate() {
        let what = format!("statuses[{i}]");
        let label = s.label.trim();
        let key = non_blank(s.key.as_deref()).unwrap_or_else(|| status_key_from_label(label));
        if label.is_empty() || !is_status_key(&key) {
            anyhow::bail!(
                "{what}: a status needs a label and a key of lowercase letters, digits or `_`"
            );
        }
        let status = StatusDef {
            key,
            label: label.to_owned(),
            macro_status: s.macro_status,
            builtin: false,
        };
        if !statuses::insert(tx.conn(), &status).await? {
            anyhow::bail!("{what}: the status {:?} exists already", status.key);
        }
    }

    // A contact dates from its first ticket or message.
    let mut first_seen: Vec<DateTime<Utc>> = vec![now; data.contacts.len()];
    let mut seen = |contact: usize, minutes: i64| {
        if let (Some(t), Ok(at)) = (
            first_seen.get_mut(contact),
            minutes_before(now, minutes, ""),
        ) {
            *t = (*t).min(at);
        }
    };
    for t in &data.tickets {
        seen(t.contact, t.created_minutes_ago);
    }
    for m in &data.messages {
        seen(m.contact, m.minutes_ago);
    }
    let mut contact_ids: Vec<i64> = Vec::new();
    let mut contact_channels: Vec<Option<String>> = Vec::new();
    for (i, c) in data.contacts.iter().enumerate() {
        let what = format!("contacts[{i}]");
        let mut errors = FieldErrors::default();
        let valid = rules::contact(c, &mut errors);
        checked(errors, &what)?;
        let id = contacts::insert(
            tx.conn(),
            &NewContactRow {
                name: &valid.name,
                phone: valid.phone.as_deref(),
                email: valid.email.as_deref(),
                channel: valid.channel.as_deref(),
                created_at: first_seen.get(i).copied().unwrap_or(now),
            },
        )
        .await?;
        contact_ids.push(id);
        contact_channels.push(valid.channel);
    }

    let mut tickets: Vec<(i64, usize, String)> = Vec::new(); // id, contact index, channel
    let mut pending_notes: Vec<(DateTime<Utc>, i64, i64, String)> = Vec::new();
    for (i, t) in data.tickets.iter().enumerate() {
        let what = format!("tickets[{i}]");
        let contact_id = pick(
            &contact_ids,
            t.contact,
            &format!("{what}.contact"),
            "contacts",
        )?;
        let operator_id = t
            .operator
            .map(|o| pick(&operator_ids, o, &format!("{what}.operator"), "operators"))
            .transpose()?;
        let created = minutes_before(now, t.created_minutes_ago, &what)?;
        let updated = minutes_before(
            now,
            t.updated_minutes_ago.unwrap_or(t.created_minutes_ago),
            &what,
        )?
        .max(created);
        let closed = t
            .closed_minutes_ago
            .map(|m| minutes_before(now, m, &what).map(|c| c.max(created)))
            .transpose()?;
        let sla_due_at = t
            .sla_due_in_minutes
            .map(|m| minutes_before(now, -m, &what))
            .transpose()?;
        let new = NewTicket {
            title: t.title.clone(),
            description: t.description.clone(),
            status: Some(t.status.clone()),
            priority: Some(t.priority),
            category: t.category.clone(),
            tags: t.tags.clone(),
            important: t.important,
            contact_id,
            new_contact: None,
            operator_id,
            channel: t.channel.clone(),
            reference: t.reference.clone(),
            sla_due_at,
            pending_until: None,
        };
        let times = Times {
            created,
            updated,
            closed,
        };
        let outcome = editing::create(tx.conn(), &new, times, &Actor::System("demo"))
            .await
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        let ticket = outcome.ticket;
        for (j, n) in t.notes.iter().enumerate() {
            let what = format!("{what}.notes[{j}]");
            let author = pick(
                &operator_ids,
                n.operator,
                &format!("{what}.operator"),
                "operators",
            )?;
            let mut errors = FieldErrors::default();
            let body = rules::body(&n.body, &mut errors);
            checked(errors, &what)?;
            let at = minutes_before(now, n.minutes_ago, &what)?;
            pending_notes.push((at, ticket.id, author, body));
        }
        tickets.push((ticket.id, t.contact, ticket.channel));
    }
    // Ids grow in time order, as they do when notes are written one by one.
    pending_notes.sort_by_key(|(at, ..)| *at);
    for (at, ticket, author, body) in &pending_notes {
        notes::insert(tx.conn(), *ticket, *author, body, *at).await?;
    }

    let mut pending_messages = Vec::new();
    for (i, m) in data.messages.iter().enumerate() {
        let what = format!("messages[{i}]");
        let contact_id = pick(
            &contact_ids,
            m.contact,
            &format!("{what}.contact"),
            "contacts",
        )?;
        let ticket = match m.ticket {
            Some(t) => {
                let (id, contact, channel) = tickets.get(t).cloned().ok_or_else(|| {
                    anyhow::anyhow!(
                        "{what}.ticket: there is no tickets[{t}] ({} tickets)",
                        tickets.len()
                    )
                })?;
                if contact != m.contact {
                    anyhow::bail!("{what}.ticket: tickets[{t}] is about another contact");
                }
                Some((id, channel))
            }
            None => None,
        };
        let operator_id = match m.direction {
            Direction::Inbound => None,
            Direction::Outbound => Some(pick(
                &operator_ids,
                m.operator.unwrap_or(0),
                &format!("{what}.operator"),
                "operators",
            )?),
        };
        let mut errors = FieldErrors::default();
        let body = rules::body(&m.body, &mut errors);
        checked(errors, &what)?;
        let channel = match &ticket {
            Some((_, channel)) => channel.clone(),
            None => contact_channels
                .get(m.contact)
                .cloned()
                .flatten()
                .unwrap_or_else(|| DEFAULT_CHANNEL.to_owned()),
        };
        let at = minutes_before(now, m.minutes_ago, &what)?;
        pending_messages.push((
            at,
            contact_id,
            ticket.map(|(id, _)| id),
            m.direction,
            operator_id,
            body,
            channel,
        ));
    }
    pending_messages.sort_by_key(|(at, ..)| *at);
    for (at, contact_id, ticket_id, direction, operator_id, body, channel) in &pending_messages {
        messages::insert(
            tx.conn(),
            &NewMessageRow {
                contact_id: *contact_id,
                ticket_id: *ticket_id,
                direction: *direction,
                operator_id: *operator_id,
                body,
                channel,
                created_at: *at,
                channel_token_id: None,
                automation: None,
            },
        )
        .await?;
    }

    tx.commit().await?;
    tracing::info!(
        "demo data loaded: {} operators, {} contacts, {} tickets, {} messages",
        operators.len(),
        contact_ids.len(),
        tickets.len(),
        pending_messages.len()
    );
    operators
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the demo data has no operator to sign in as"))
}
