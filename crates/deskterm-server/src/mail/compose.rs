//! The text of the server's e-mails: an operator's notification of what
//! changed on a ticket, and an escalation (the ticket, its customer and the
//! conversation). Plain text; every value that came from a person is made
//! one line where a line is expected, and cut where an excerpt is enough.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use deskterm_api::{ActorKind, ChatMessage, Contact, Direction, HistoryEntry, HistoryKind, Ticket};
use serde_json::Value;

/// A subject and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Composed {
    pub(crate) subject: String,
    pub(crate) body: String,
}

/// Longest subject, in characters.
const SUBJECT_CHARS: usize = 200;
/// Longest excerpt of a message or note in a notification, in characters.
const EXCERPT_CHARS: usize = 200;

/// How a time reads in an e-mail.
fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `text` on one line: line breaks and other control characters become
/// spaces, runs of spaces one.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.trim_end().to_owned()
}

/// `text` on one line, at most `max` characters (an ellipsis says when cut).
fn excerpt(text: &str, max: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` with control characters other than line breaks and tabs removed.
fn multi_line(text: &str) -> String {
    text.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

/// A stored history value as a person reads it.
fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "(empty)".to_owned(),
        Some(Value::String(s)) => excerpt(s, EXCERPT_CHARS),
        Some(Value::Bool(true)) => "yes".to_owned(),
        Some(Value::Bool(false)) => "no".to_owned(),
        Some(Value::Array(items)) if items.is_empty() => "(none)".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| show(Some(i)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(map)) => match map.get("name") {
            Some(name) => show(Some(name)),
            None => excerpt(&Value::Object(map.clone()).to_string(), EXCERPT_CHARS),
        },
        Some(other) => other.to_string(),
    }
}

fn text_of(v: Option<&Value>, key: &str) -> String {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// What one history entry says, without who and when.
fn what(entry: &HistoryEntry) -> String {
    let new = entry.new.as_ref();
    match entry.kind {
        HistoryKind::Created => format!(
            "opened the ticket ({}, {})",
            show(new.and_then(|v| v.get("status"))),
            show(new.and_then(|v| v.get("priority")))
        ),
        HistoryKind::FieldChanged => {
            let field = entry.field.as_deref().unwrap_or("a field");
            format!(
                "{field}: {} → {}",
                show(entry.old.as_ref()),
                show(entry.new.as_ref())
            )
        }
        HistoryKind::NoteAdded => format!(
            "internal note: \"{}\"",
            excerpt(&text_of(new, "body"), EXCERPT_CHARS)
        ),
        HistoryKind::MessageAdded => {
            let verb = if text_of(new, "direction") == "inbound" {
                "customer wrote"
            } else {
                "answered"
            };
            format!(
                "{verb}: \"{}\"",
                excerpt(&text_of(new, "body"), EXCERPT_CHARS)
            )
        }
        HistoryKind::Deleted => "deleted the ticket".to_owned(),
        HistoryKind::Escalated => {
            let to = new.and_then(|v| v.get("to"));
            format!("escalated to {}", show(to))
        }
    }
}

/// Who made an entry, as the history names them.
fn who(entry: &HistoryEntry) -> String {
    let name = one_line(&entry.actor.name);
    match entry.actor.kind {
        ActorKind::Automation => format!("automation {name}"),
        ActorKind::Channel => format!("customer via {name}"),
        _ => name,
    }
}

/// The reference and title of a ticket, or of a deleted one from its history.
fn naming(ticket: Option<&Ticket>, entries: &[HistoryEntry]) -> (String, String) {
    if let Some(t) = ticket {
        return (one_line(&t.reference), one_line(&t.title));
    }
    let from = entries.iter().rev().find_map(|e| match e.kind {
        HistoryKind::Deleted => e.old.as_ref(),
        HistoryKind::Created => e.new.as_ref(),
        _ => None,
    });
    (
        one_line(&text_of(from, "reference")),
        one_line(&text_of(from, "title")),
    )
}

fn subject(reference: &str, what: &str, title: &str) -> String {
    let reference = if reference.is_empty() {
        String::new()
    } else {
        format!("[{reference}] ")
    };
    excerpt(&format!("{reference}{what}{title}"), SUBJECT_CHARS)
}

/// The ticket's fields in two lines.
fn summary(out: &mut String, t: &Ticket) {
    let _ = writeln!(
        out,
        "Status: {} · Priority: {} · Category: {} · Operator: {}",
        one_line(&t.status),
        show(serde_json::to_value(t.priority).ok().as_ref()),
        t.category
            .as_deref()
            .map(one_line)
            .unwrap_or_else(|| "(none)".to_owned()),
        t.operator
            .as_ref()
            .map(|o| one_line(&o.name))
            .unwrap_or_else(|| "(nobody)".to_owned()),
    );
    let _ = writeln!(
        out,
        "Customer: {} · Channel: {} · Opened: {}{}",
        one_line(&t.contact.name),
        one_line(t.channel.as_str()),
        when(t.created_at),
        t.sla_due_at
            .map(|due| format!(" · Due: {}", when(due)))
            .unwrap_or_default(),
    );
}

/// An operator's e-mail about the changes `entries` (oldest first; `more`
/// others were left out) to `ticket` (`None` once deleted).
pub(crate) fn notification(
    ticket: Option<&Ticket>,
    entries: &[HistoryEntry],
    more: usize,
) -> Composed {
    let (reference, title) = naming(ticket, entries);
    let opened = entries.iter().any(|e| e.kind == HistoryKind::Created);
    let deleted = entries.iter().any(|e| e.kind == HistoryKind::Deleted);
    let what_happened = if deleted {
        "Deleted: "
    } else if opened {
        "New ticket: "
    } else {
        "Updated: "
    };
    let mut body = String::new();
    let _ = writeln!(body, "{reference} · {title}");
    if let Some(t) = ticket {
        summary(&mut body, t);
    }
    let count = entries.len() + more;
    let _ = writeln!(
        body,
        "\n{} change{}:",
        count,
        if count == 1 { "" } else { "s" }
    );
    for entry in entries {
        let _ = writeln!(
            body,
            "  {}  {}: {}",
            when(entry.at),
            who(entry),
            what(entry)
        );
    }
    if more > 0 {
        let _ = writeln!(
            body,
            "  … and {more} more (the ticket's history has them all)"
        );
    }
    let _ = write!(
        body,
        "\n-- \nYou receive these e-mails because \"receive ticket e-mails\" is on in your \
         profile.\nTurn it off in deskterm's profile view (F4), or with PATCH /api/v1/me \
         {{\"receive_ticket_emails\": false}}.\n"
    );
    Composed {
        subject: subject(&reference, what_happened, &title),
        body,
    }
}

/// The e-mail sent to the people a ticket is escalated to: who escalated
/// it and why, the ticket, its customer, and `messages` (the newest of the
/// conversation, oldest first).
pub(crate) fn escalation(
    ticket: &Ticket,
    contact: Option<&Contact>,
    messages: &[ChatMessage],
    by: &str,
    note: Option<&str>,
) -> Composed {
    let mut body = String::new();
    let by = one_line(by);
    let _ = writeln!(body, "{by} escalated this ticket to you.");
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        let _ = writeln!(body, "\n{by} writes:\n{}", multi_line(note.trim_end()));
    }
    let _ = writeln!(
        body,
        "\n== Ticket {} · {}",
        one_line(&ticket.reference),
        one_line(&ticket.title)
    );
    summary(&mut body, ticket);
    if !ticket.tags.is_empty() || ticket.important {
        let _ = writeln!(
            body,
            "Tags: {}{}",
            if ticket.tags.is_empty() {
                "(none)".to_owned()
            } else {
                ticket
                    .tags
                    .iter()
                    .map(|t| one_line(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            if ticket.important {
                " · Important"
            } else {
                ""
            }
        );
    }
    if !ticket.description.trim().is_empty() {
        let _ = writeln!(body, "\n{}", multi_line(ticket.description.trim_end()));
    }
    let _ = writeln!(body, "\n== Customer");
    match contact {
        Some(c) => {
            let _ = writeln!(body, "Name: {}", one_line(&c.name));
            if let Some(phone) = &c.phone {
                let _ = writeln!(body, "Phone: {}", one_line(phone));
            }
            if let Some(email) = &c.email {
                let _ = writeln!(body, "E-mail: {}", one_line(email));
            }
            if let Some(channel) = &c.channel {
                let _ = writeln!(body, "Usual channel: {}", one_line(channel.as_str()));
            }
            let _ = writeln!(body, "Customer since: {}", when(c.created_at));
        }
        None => {
            let _ = writeln!(body, "Name: {}", one_line(&ticket.contact.name));
        }
    }
    let _ = writeln!(
        body,
        "\n== Conversation ({} message{}, oldest first)",
        messages.len(),
        if messages.len() == 1 { "" } else { "s" }
    );
    if messages.is_empty() {
        let _ = writeln!(body, "(no messages)");
    }
    for m in messages {
        let from = match (m.direction, &m.operator) {
            (Direction::Inbound, _) => one_line(&ticket.contact.name),
            (Direction::Outbound, Some(op)) => format!("{} (helpdesk)", one_line(&op.name)),
            (Direction::Outbound, None) => "helpdesk".to_owned(),
        };
        let _ = writeln!(body, "\n[{}] {from}:", when(m.created_at));
        for line in multi_line(&m.body).lines() {
            let _ = writeln!(body, "  {line}");
        }
    }
    Composed {
        subject: subject(
            &one_line(&ticket.reference),
            "Escalated: ",
            &one_line(&ticket.title),
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use deskterm_api::{ContactRef, HistoryActor, OperatorRef, Priority};
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn ticket() -> Ticket {
        Ticket {
            id: 7,
            reference: "HD-000007".to_owned(),
            title: "Impresora\natascada".to_owned(),
            description: "La bandeja 2\nno entra".to_owned(),
            status: "open".to_owned(),
            priority: Priority::High,
            category: Some("Soporte".to_owned()),
            tags: vec!["vip".to_owned()],
            important: true,
            contact: ContactRef {
                id: 3,
                name: "Carla Ruiz".to_owned(),
                phone: None,
                email: None,
            },
            operator: Some(OperatorRef {
                id: 1,
                name: "Ana".to_owned(),
            }),
            channel: "whatsapp".into(),
            sla_due_at: None,
            pending_until: None,
            sla_state: None,
            created_at: at("2026-11-24T09:00:00Z"),
            updated_at: at("2026-11-24T10:00:00Z"),
            closed_at: None,
            version: 3,
        }
    }

    fn entry(
        kind: HistoryKind,
        actor: ActorKind,
        name: &str,
        field: Option<&str>,
        old: Option<Value>,
        new: Option<Value>,
    ) -> HistoryEntry {
        HistoryEntry {
            id: 1,
            ticket_id: 7,
            at: at("2026-11-24T10:02:00Z"),
            actor: HistoryActor {
                kind: actor,
                operator_id: None,
                name: name.to_owned(),
            },
            kind,
            field: field.map(str::to_owned),
            old,
            new,
        }
    }

    #[test]
    fn a_notification_lists_each_change_with_who_and_old_to_new() {
        let entries = [
            entry(
                HistoryKind::FieldChanged,
                ActorKind::Operator,
                "Ana",
                Some("status"),
                Some(json!("new")),
                Some(json!("open")),
            ),
            entry(
                HistoryKind::MessageAdded,
                ActorKind::Channel,
                "whatsapp",
                None,
                None,
                Some(json!({"id": 4, "direction": "inbound", "body": "¿Hay\nnovedades?"})),
            ),
            entry(
                HistoryKind::FieldChanged,
                ActorKind::Automation,
                "triage",
                Some("operator"),
                Some(Value::Null),
                Some(json!({"id": 2, "name": "Luca"})),
            ),
        ];
        let mail = notification(Some(&ticket()), &entries, 2);
        assert_eq!(mail.subject, "[HD-000007] Updated: Impresora atascada");
        let body = &mail.body;
        assert!(body.contains("Ana: status: new → open"), "{body}");
        assert!(
            body.contains("customer via whatsapp: customer wrote: \"¿Hay novedades?\""),
            "{body}"
        );
        assert!(
            body.contains("automation triage: operator: (none) → Luca"),
            "{body}"
        );
        assert!(body.contains("5 changes:"), "{body}");
        assert!(body.contains("… and 2 more"), "{body}");
        assert!(body.contains("Priority: high"), "{body}");
    }

    #[test]
    fn a_deleted_ticket_is_named_from_its_history() {
        let entries = [entry(
            HistoryKind::Deleted,
            ActorKind::Operator,
            "Ana",
            None,
            Some(json!({"reference": "HD-000009", "title": "Spam"})),
            None,
        )];
        let mail = notification(None, &entries, 0);
        assert_eq!(mail.subject, "[HD-000009] Deleted: Spam");
        assert!(mail.body.contains("1 change:"), "{}", mail.body);
    }

    #[test]
    fn a_subject_is_one_short_line_whatever_the_title() {
        let mut t = ticket();
        t.title = format!("a\r\nBcc: x@evil.example{}", "z".repeat(500));
        let mail = notification(Some(&t), &[], 0);
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(mail.subject.chars().count() <= SUBJECT_CHARS);
    }

    #[test]
    fn an_escalation_has_the_ticket_the_customer_and_the_conversation() {
        let contact = Contact {
            id: 3,
            name: "Carla Ruiz".to_owned(),
            phone: Some("+34 600 000 001".to_owned()),
            email: Some("carla@example.com".to_owned()),
            channel: Some("whatsapp".into()),
            created_at: at("2026-01-01T00:00:00Z"),
        };
        let message = |id, direction, body: &str| ChatMessage {
            id,
            contact_id: 3,
            ticket_id: Some(7),
            direction,
            operator: (direction == Direction::Outbound).then(|| OperatorRef {
                id: 1,
                name: "Ana".to_owned(),
            }),
            body: body.to_owned(),
            channel: "whatsapp".into(),
            created_at: at("2026-11-24T09:30:00Z"),
        };
        let messages = [
            message(1, Direction::Inbound, "No imprime\nnada"),
            message(2, Direction::Outbound, "¿Ha probado a reiniciarla?"),
        ];
        let mail = escalation(
            &ticket(),
            Some(&contact),
            &messages,
            "Ana",
            Some("Needs the vendor\x07"),
        );
        assert_eq!(mail.subject, "[HD-000007] Escalated: Impresora atascada");
        let body = &mail.body;
        for part in [
            "Ana escalated this ticket to you.",
            "Needs the vendor\n",
            "== Ticket HD-000007 · Impresora atascada",
            "La bandeja 2\nno entra",
            "Phone: +34 600 000 001",
            "E-mail: carla@example.com",
            "== Conversation (2 messages, oldest first)",
            "Carla Ruiz:\n  No imprime\n  nada",
            "Ana (helpdesk):\n  ¿Ha probado a reiniciarla?",
            "Tags: vip · Important",
        ] {
            assert!(body.contains(part), "{part:?} missing from:\n{body}");
        }
        assert!(!body.contains('\x07'));
    }
}
