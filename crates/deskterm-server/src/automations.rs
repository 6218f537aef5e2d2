//! Automations, `[[automation]]` in the server's configuration file: what
//! the helpdesk does by itself when a ticket is opened, when its status
//! changes, when a customer's message opens a ticket, or when the time a
//! ticket waits until passes. Each one can update
//! the ticket (status, priority, category) and write to the customer from a
//! template. Everything an automation does happens in the transaction of the
//! change that triggered it and is recorded in the history as done by
//! "automation <name>". Automations do not trigger one another.

use chrono::{DateTime, Utc};
use deskterm_api::{ChangeKind, Direction, Priority, Ticket, TicketPatch};
use serde::Deserialize;

use crate::db::WriteTx;
use crate::editing;
use crate::problem::ApiResult;
use crate::settings::Settings;
use crate::store::history::Actor;
use crate::store::messages::{self, NewMessageRow};
use crate::store::{statuses, tickets};

/// When an automation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A ticket was opened (by an operator, or by a customer's message).
    TicketCreated,
    /// A ticket's status changed (`from` and `to` narrow it).
    StatusChanged,
    /// A customer's message opens a ticket: `title` says how it is named.
    InboundMessage,
    /// The time a ticket waits until (`pending_until`) passed; `from`
    /// narrows it to a status the ticket is in.
    PendingElapsed,
}

/// One automation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// Its name, as the history shows it ("automation <name>").
    pub name: String,
    /// When it runs.
    pub on: Trigger,
    /// Only for tickets of this channel.
    #[serde(default)]
    pub channel: Option<String>,
    /// `status_changed`: only from this status (key); `pending_elapsed`:
    /// only for a ticket in this status.
    #[serde(default)]
    pub from: Option<String>,
    /// `status_changed`: only to this status (key).
    #[serde(default)]
    pub to: Option<String>,
    /// `inbound_message`: the new ticket's title, a template (`{message}`,
    /// `{contact}`, `{channel}`).
    #[serde(default)]
    pub title: Option<String>,
    /// Set the ticket's status (key).
    #[serde(default)]
    pub status: Option<String>,
    /// Set the ticket's priority.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Set the ticket's category.
    #[serde(default)]
    pub category: Option<String>,
    /// Write this to the customer, a template: `{reference}`, `{title}`,
    /// `{status}`, `{priority}`, `{category}`, `{operator}`, `{contact}`,
    /// `{channel}`.
    #[serde(default)]
    pub reply: Option<String>,
}

/// Placeholders a reply can use.
const TICKET_FIELDS: &[&str] = &[
    "reference",
    "title",
    "status",
    "priority",
    "category",
    "operator",
    "contact",
    "channel",
];
/// Placeholders a title can use.
const MESSAGE_FIELDS: &[&str] = &["message", "contact", "channel"];

/// The placeholders of `template` that are not in `known`.
fn unknown_placeholders(template: &str, known: &[&str]) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            unknown.push(after.to_owned());
            break;
        };
        let name = &after[..close];
        if !known.contains(&name) {
            unknown.push(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    unknown
}

/// Fills `{name}` placeholders from `values`.
pub(crate) fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

impl Automation {
    /// What is wrong with it, if anything.
    pub(crate) fn check(&self) -> Result<(), String> {
        let who = format!("automation {:?}", self.name);
        if self.name.trim().is_empty() {
            return Err("an automation needs a name".to_owned());
        }
        if self.to.is_some() && self.on != Trigger::StatusChanged {
            return Err(format!("{who}: `to` is for on = \"status_changed\""));
        }
        if self.from.is_some()
            && !matches!(self.on, Trigger::StatusChanged | Trigger::PendingElapsed)
        {
            return Err(format!(
                "{who}: `from` is for on = \"status_changed\" or \"pending_elapsed\""
            ));
        }
        if self.title.is_some() && self.on != Trigger::InboundMessage {
            return Err(format!("{who}: `title` is for on = \"inbound_message\""));
        }
        if let Some(reply) = &self.reply {
            if reply.trim().is_empty() {
                return Err(format!("{who}: the reply is empty"));
            }
            let unknown = unknown_placeholders(reply, TICKET_FIELDS);
            if !unknown.is_empty() {
                return Err(format!(
                    "{who}: unknown placeholder(s) {{{}}} in reply (known: {})",
                    unknown.join("}, {"),
                    TICKET_FIELDS.join(", ")
                ));
            }
        }
        if let Some(title) = &self.title {
            let unknown = unknown_placeholders(title, MESSAGE_FIELDS);
            if !unknown.is_empty() {
                return Err(format!(
                    "{who}: unknown placeholder(s) {{{}}} in title (known: {})",
                    unknown.join("}, {"),
                    MESSAGE_FIELDS.join(", ")
                ));
            }
        }
        let does = self.reply.is_some()
            || self.status.is_some()
            || self.priority.is_some()
            || self.category.is_some()
            || self.title.is_some();
        if !does {
            return Err(format!(
                "{who} does nothing: give it a reply or a field to set"
            ));
        }
        Ok(())
    }

    fn channel_matches(&self, channel: &str) -> bool {
        self.channel
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(channel))
    }
}

/// Checks every automation, and that names are unique.
pub(crate) fn check_all(all: &[Automation]) -> Result<(), String> {
    for (i, a) in all.iter().enumerate() {
        a.check()?;
        if all[..i].iter().any(|b| b.name == a.name) {
            return Err(format!("two automations are called {:?}", a.name));
        }
    }
    Ok(())
}

/// How a customer's message opens a ticket: the first `inbound_message`
/// automation of the channel, if any.
pub(crate) fn intake<'a>(all: &'a [Automation], channel: &str) -> Option<&'a Automation> {
    all.iter()
        .find(|a| a.on == Trigger::InboundMessage && a.channel_matches(channel))
}

/// The new ticket's title from an intake automation.
pub(crate) fn intake_title(
    a: &Automation,
    message: &str,
    contact: &str,
    channel: &str,
) -> Option<String> {
    a.title.as_ref().map(|t| {
        render(
            t,
            &[
                ("message", message.to_owned()),
                ("contact", contact.to_owned()),
                ("channel", channel.to_owned()),
            ],
        )
    })
}

/// What happened to a ticket.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    /// It was opened (`intake`: the automation that named it, if a customer's message did).
    Created {
        /// The inbound automation that opened it.
        intake: Option<&'a str>,
    },
    /// Its status went from `from` to its current one.
    StatusChanged {
        /// The status before.
        from: &'a str,
    },
    /// The time it waited until passed.
    PendingElapsed,
}

/// Runs the automations `event` triggers on `ticket`, in `tx`; each change
/// is recorded in the feed and the history. Returns the ticket as they left it.
pub(crate) async fn run(
    tx: &mut WriteTx,
    settings: &Settings,
    ticket: Ticket,
    event: Event<'_>,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let mut ticket = ticket;
    for a in &settings.automations {
        let fires = a.channel_matches(&ticket.channel)
            && match event {
                Event::Created { intake } => {
                    a.on == Trigger::TicketCreated
                        || (a.on == Trigger::InboundMessage && intake == Some(a.name.as_str()))
                }
                Event::StatusChanged { from } => {
                    a.on == Trigger::StatusChanged
                        && a.from.as_deref().is_none_or(|f| f == from)
                        && a.to.as_deref().is_none_or(|t| t == ticket.status)
                        && from != ticket.status
                }
                Event::PendingElapsed => {
                    a.on == Trigger::PendingElapsed
                        && a.from.as_deref().is_none_or(|f| f == ticket.status)
                }
            };
        if !fires {
            continue;
        }
        ticket = apply(tx, a, settings, ticket, now).await?;
    }
    Ok(ticket)
}

async fn apply(
    tx: &mut WriteTx,
    a: &Automation,
    settings: &Settings,
    ticket: Ticket,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let actor = Actor::Automation(a.name.clone());
    let patch = TicketPatch {
        status: a.status.clone(),
        priority: a.priority,
        category: a.category.clone().map(Some),
        ..TicketPatch::default()
    };
    let mut ticket = ticket;
    if !patch.is_empty() {
        match editing::patch(tx.conn(), ticket.id, &patch, now, &actor).await {
            Ok(outcome) => {
                let mut changed = outcome.ticket;
                if changed.version != ticket.version {
                    if outcome.new_category {
                        tx.record(now, ChangeKind::MetaChanged).await?;
                    }
                    if crate::sla::refresh(tx.conn(), changed.id, settings.sla.as_ref(), now)
                        .await?
                    {
                        changed = tickets::get(tx.conn(), changed.id)
                            .await?
                            .unwrap_or(changed);
                    }
                    tx.record(now, ChangeKind::TicketUpserted(changed.clone()))
                        .await?;
                }
                ticket = changed;
            }
            // A status the helpdesk no longer has: the change that
            // triggered the automation still stands.
            Err(e) => tracing::warn!(
                "automation {:?} could not update {}: {e:?}",
                a.name,
                ticket.reference
            ),
        }
    }
    if let Some(template) = &a.reply {
        let status = statuses::all(tx.conn())
            .await?
            .into_iter()
            .find(|s| s.key == ticket.status)
            .map_or_else(|| ticket.status.clone(), |s| s.label);
        let body = render(
            template,
            &[
                ("reference", ticket.reference.clone()),
                ("title", ticket.title.clone()),
                ("status", status),
                ("priority", ticket.priority.as_str().to_owned()),
                ("category", ticket.category.clone().unwrap_or_default()),
                (
                    "operator",
                    ticket
                        .operator
                        .as_ref()
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                ),
                ("contact", ticket.contact.name.clone()),
                ("channel", ticket.channel.clone()),
            ],
        );
        let message = messages::insert(
            tx.conn(),
            &NewMessageRow {
                contact_id: ticket.contact.id,
                ticket_id: Some(ticket.id),
                direction: Direction::Outbound,
                operator_id: None,
                body: &body,
                channel: &ticket.channel,
                created_at: now,
                channel_token_id: None,
                automation: Some(&a.name),
            },
        )
        .await?;
        tx.record(now, ChangeKind::MessageAdded(message)).await?;
    }
    // The ticket as it is now (a message changes nothing on it).
    Ok(tickets::get(tx.conn(), ticket.id).await?.unwrap_or(ticket))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automation(toml: &str) -> Result<Automation, String> {
        let a: Automation = toml::from_str(toml).map_err(|e| e.to_string())?;
        a.check().map(|()| a)
    }

    #[test]
    fn automations_are_checked_for_what_they_can_say() {
        assert!(
            automation(
                "name = \"x\"\non = \"ticket_created\"\nreply = \"Hola {contact}: {reference}\"\n"
            )
            .is_ok()
        );
        let e = automation("name = \"x\"\non = \"ticket_created\"\nreply = \"{nombre}\"\n")
            .unwrap_err();
        assert!(e.contains("nombre"), "{e}");
        let e =
            automation("name = \"x\"\non = \"ticket_created\"\nfrom = \"open\"\nreply = \"hi\"\n")
                .unwrap_err();
        assert!(e.contains("status_changed"), "{e}");
        let e = automation("name = \"x\"\non = \"status_changed\"\n").unwrap_err();
        assert!(e.contains("does nothing"), "{e}");
        assert!(automation("name = \"x\"\non = \"sometimes\"\nreply = \"hi\"\n").is_err());
        assert!(automation("name = \"x\"\non = \"ticket_created\"\nreplay = \"hi\"\n").is_err());
        let e =
            automation("name = \"x\"\non = \"inbound_message\"\ntitle = \"{message} {ticket}\"\n")
                .unwrap_err();
        assert!(e.contains("ticket"), "{e}");
    }

    #[test]
    fn templates_fill_every_placeholder_they_name() {
        let out = render(
            "{reference} is {status}, {reference}!",
            &[
                ("reference", "HD-1".to_owned()),
                ("status", "Resolved".to_owned()),
            ],
        );
        assert_eq!(out, "HD-1 is Resolved, HD-1!");
    }
}
