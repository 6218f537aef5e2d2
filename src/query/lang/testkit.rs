//! Tickets, statuses and operators the language's tests run on.

use chrono::DateTime;
use deskterm_api::{ContactRef, MacroStatus, OperatorRef, Priority, StatusDef, Ticket, TicketId};

use crate::store::{Indexed, Interner};

/// A fixed "now": 2026-03-01 12:00:00 UTC.
pub const NOW: i64 = 1_772_366_400;

/// The built-in statuses plus a custom one.
pub fn statuses() -> Vec<StatusDef> {
    let s = |key: &str, label: &str, macro_status, builtin| StatusDef {
        key: key.into(),
        label: label.into(),
        macro_status,
        builtin,
    };
    vec![
        s("new", "New", MacroStatus::InProgress, true),
        s("open", "Open", MacroStatus::InProgress, true),
        s("pending", "Pending", MacroStatus::InProgress, true),
        s(
            "waiting_parts",
            "Esperando piezas",
            MacroStatus::InProgress,
            false,
        ),
        s("resolved", "Resolved", MacroStatus::Closed, true),
        s("closed", "Closed", MacroStatus::Closed, true),
    ]
}

/// Three operators; Marco is "me".
pub fn operators() -> Vec<OperatorRef> {
    [
        (7, "Marco Rossi"),
        (8, "Ana Ruiz Gómez"),
        (9, "Marta Bianchi"),
    ]
    .into_iter()
    .map(|(id, name)| OperatorRef {
        id,
        name: name.into(),
    })
    .collect()
}

/// The signed-in operator.
pub const ME: i64 = 7;

/// A ticket with defaults; tests change what they look at.
pub fn ticket(id: TicketId) -> Ticket {
    let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
    Ticket {
        id,
        reference: format!("HD-{id:06}"),
        title: "Pedido sin lote".into(),
        description: String::new(),
        status: "open".into(),
        priority: Priority::Normal,
        category: None,
        tags: vec![],
        important: false,
        contact: ContactRef {
            id: 1,
            name: "Núria Puig".into(),
            phone: None,
            email: None,
        },
        operator: None,
        channel: "web".into(),
        sla_due_at: None,
        pending_until: None,
        created_at: at(NOW - 86_400 * 30),
        updated_at: at(NOW - 3_600),
        closed_at: None,
        sla_state: None,
        version: 1,
    }
}

/// An operator reference by id from [`operators`].
pub fn op(id: i64) -> Option<OperatorRef> {
    operators().into_iter().find(|o| o.id == id)
}

/// Rows for tickets, with their search texts, interned into `names`.
pub fn rows(tickets: &[Ticket], names: &mut Interner) -> Vec<Indexed> {
    tickets.iter().map(|t| Indexed::new(t, names)).collect()
}
