//! A small, fixed helpdesk for the interface's tests: statuses, operators,
//! tickets, notes and a chat, at fixed times.

use chrono::{DateTime, FixedOffset, Utc};
use deskterm_api::{
    Category, ChatMessage, ContactRef, Direction, MacroStatus, Me, Meta, Note, OperatorRef,
    Priority, ServerCapabilities, StatusDef, Ticket,
};

use super::app::{App, Msg};
use super::keymap::Keymap;
use crate::sync::{Connection, SyncEvent};

/// 2026-03-01 12:00 UTC.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_366_400, 0).unwrap()
}

fn minutes_ago(m: i64) -> DateTime<Utc> {
    now() - chrono::Duration::minutes(m)
}

fn status(key: &str, label: &str, macro_status: MacroStatus, builtin: bool) -> StatusDef {
    StatusDef {
        key: key.into(),
        label: label.into(),
        macro_status,
        builtin,
    }
}

/// The server's metadata.
pub fn meta() -> Meta {
    use MacroStatus::{Closed, InProgress};
    Meta {
        statuses: vec![
            status("new", "New", InProgress, true),
            status("open", "Open", InProgress, true),
            status("pending", "Pending", InProgress, true),
            status("resolved", "Resolved", Closed, true),
            status("closed", "Closed", Closed, true),
            status("waiting_parts", "Waiting for parts", InProgress, false),
        ],
        priorities: Priority::ALL.to_vec(),
        categories: vec![
            Category {
                id: 1,
                name: "Soporte".into(),
            },
            Category {
                id: 2,
                name: "Spedizioni".into(),
            },
            Category {
                id: 3,
                name: "Billing".into(),
            },
        ],
        operators: vec![lucia(), marco()],
        tags: vec!["vip".into()],
        channels: vec!["whatsapp".into(), "email".into()],
        capabilities: ServerCapabilities {
            preconditions: true,
            live_events: true,
            custom_statuses: true,
            stats: false,
            history: false,
            escalations: false,
        },
        server_version: "test".into(),
    }
}

/// The signed-in operator.
pub fn lucia() -> OperatorRef {
    OperatorRef {
        id: 1,
        name: "Lucía Fernández".into(),
    }
}

/// A colleague.
pub fn marco() -> OperatorRef {
    OperatorRef {
        id: 2,
        name: "Marco Bianchi".into(),
    }
}

/// `GET /me`.
pub fn me() -> Me {
    Me {
        id: 1,
        name: lucia().name,
        email: "lucia@example.com".into(),
        receive_ticket_emails: true,
    }
}

fn contact(id: i64, name: &str) -> ContactRef {
    ContactRef {
        id,
        name: name.into(),
        phone: Some(format!("+34 600 000 00{id}")),
        email: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn ticket(
    id: i64,
    title: &str,
    status: &str,
    priority: Priority,
    category: Option<&str>,
    operator: Option<OperatorRef>,
    contact: ContactRef,
    updated: i64,
) -> Ticket {
    Ticket {
        id,
        reference: format!("HD-{id:06}"),
        title: title.into(),
        description: format!("Descripción del caso {id}.\nSegunda línea."),
        status: status.into(),
        priority,
        category: category.map(Into::into),
        tags: if id == 1 { vec!["vip".into()] } else { vec![] },
        important: id == 1,
        contact,
        operator,
        channel: "whatsapp".into(),
        sla_due_at: Some(minutes_ago(-30 + id * 20)),
        pending_until: None,
        created_at: minutes_ago(5000 + id),
        updated_at: minutes_ago(updated),
        closed_at: (status == "resolved").then(|| minutes_ago(updated)),
        sla_state: None,
        version: 3,
    }
}

/// Five tickets over several statuses, priorities and operators.
pub fn tickets() -> Vec<Ticket> {
    vec![
        ticket(
            1,
            "Pedido no recibido",
            "open",
            Priority::Urgent,
            Some("Soporte"),
            Some(lucia()),
            contact(1, "Núria Puig"),
            10,
        ),
        ticket(
            2,
            "Fattura duplicata",
            "new",
            Priority::Normal,
            Some("Billing"),
            None,
            contact(2, "Giulia Romano"),
            20,
        ),
        ticket(
            3,
            "Screen flickers after update",
            "pending",
            Priority::High,
            None,
            Some(marco()),
            contact(3, "Tom Becker"),
            30,
        ),
        ticket(
            4,
            "Spedizione in ritardo",
            "waiting_parts",
            Priority::Low,
            Some("Spedizioni"),
            Some(marco()),
            contact(2, "Giulia Romano"),
            40,
        ),
        ticket(
            5,
            "Reembolso aprobado",
            "resolved",
            Priority::Normal,
            Some("Billing"),
            Some(lucia()),
            contact(1, "Núria Puig"),
            50,
        ),
    ]
}

/// Notes of ticket 1.
pub fn notes() -> Vec<Note> {
    vec![
        Note {
            id: 1,
            ticket_id: 1,
            author: marco(),
            body: "Ho chiamato il corriere.".into(),
            created_at: minutes_ago(60),
        },
        Note {
            id: 2,
            ticket_id: 1,
            author: lucia(),
            body: "Cliente VIP, prioridad máxima.".into(),
            created_at: minutes_ago(15),
        },
    ]
}

/// The chat with contact 1.
pub fn messages() -> Vec<ChatMessage> {
    let m = |id, direction, operator: Option<OperatorRef>, body: &str, ago| ChatMessage {
        id,
        contact_id: 1,
        ticket_id: Some(1),
        direction,
        operator,
        body: body.into(),
        channel: "whatsapp".into(),
        created_at: minutes_ago(ago),
    };
    vec![
        m(
            1,
            Direction::Inbound,
            None,
            "Hola, mi pedido no ha llegado 📦",
            120,
        ),
        m(
            2,
            Direction::Outbound,
            Some(lucia()),
            "Hola Núria, lo reviso ahora mismo.",
            110,
        ),
        m(3, Direction::Inbound, None, "Gracias!", 100),
    ]
}

/// The history of ticket 1: opened from the chat, taken, a note, an
/// automation's change, the customer writing again.
pub fn history() -> Vec<deskterm_api::HistoryEntry> {
    use deskterm_api::{ActorKind, HistoryActor, HistoryEntry, HistoryKind};
    use serde_json::json;
    let actor = |kind, name: &str| HistoryActor {
        kind,
        operator_id: (kind == ActorKind::Operator).then_some(1),
        name: name.into(),
    };
    let entry = |id, ago, actor, kind, field: Option<&str>, old, new| HistoryEntry {
        id,
        ticket_id: 1,
        at: minutes_ago(ago),
        actor,
        kind,
        field: field.map(str::to_owned),
        old,
        new,
    };
    vec![
        entry(
            1,
            5001,
            actor(ActorKind::Channel, "whatsapp"),
            HistoryKind::Created,
            None,
            None,
            Some(
                json!({"reference": "HD-000001", "title": "Pedido no recibido",
                        "status": "new", "priority": "normal"}),
            ),
        ),
        entry(
            2,
            4000,
            actor(ActorKind::Operator, "Lucía Fernández"),
            HistoryKind::FieldChanged,
            Some("status"),
            Some(json!("new")),
            Some(json!("open")),
        ),
        entry(
            3,
            3999,
            actor(ActorKind::Operator, "Lucía Fernández"),
            HistoryKind::FieldChanged,
            Some("operator"),
            None,
            Some(json!({"id": 1, "name": "Lucía Fernández"})),
        ),
        entry(
            4,
            60,
            actor(ActorKind::Operator, "Marco Rossi"),
            HistoryKind::NoteAdded,
            None,
            None,
            Some(json!({"id": 1, "body": "Ho chiamato il corriere."})),
        ),
        entry(
            5,
            30,
            actor(ActorKind::Automation, "vip"),
            HistoryKind::FieldChanged,
            Some("priority"),
            Some(json!("normal")),
            Some(json!("urgent")),
        ),
        entry(
            6,
            20,
            actor(ActorKind::Channel, "whatsapp"),
            HistoryKind::MessageAdded,
            None,
            None,
            Some(json!({"id": 3, "direction": "inbound", "body": "Gracias!"})),
        ),
    ]
}

/// An app that has loaded everything above, on a `width` × `height` terminal.
pub fn loaded_app(width: u16, height: u16) -> App {
    let keymap = Keymap::defaults().unwrap();
    let mut app = App::new(keymap, now(), FixedOffset::east_opt(0).unwrap(), 1);
    app.update(Msg::Resize(width, height));
    for event in [
        SyncEvent::Connection(Connection::Connected),
        SyncEvent::SignedIn(me()),
        SyncEvent::Meta(meta()),
        SyncEvent::Snapshot(tickets()),
        // The engine sends the whole ticket in view from its cache.
        SyncEvent::Detail(tickets()[0].clone()),
        SyncEvent::Notes(1, notes()),
        SyncEvent::Messages(crate::backend::ConversationKey::Contact(1), messages()),
    ] {
        app.update(Msg::Sync(event));
    }
    app
}
