//! Where a ticket stands against its service-level agreement.

use chrono::{DateTime, Duration, Utc};
use deskterm_api::{MacroStatus, Meta, Ticket};

/// How close to its due time an open ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sla {
    /// Due later than [`AT_RISK_WITHIN`] from now.
    Ok,
    /// Due within [`AT_RISK_WITHIN`].
    AtRisk,
    /// Past due.
    Breached,
}

/// How long before its due time a ticket counts as at risk.
pub const AT_RISK_WITHIN: Duration = Duration::hours(1);

impl Sla {
    /// Short label for the screen.
    pub fn label(self) -> &'static str {
        match self {
            Sla::Ok => "ok",
            Sla::AtRisk => "at risk",
            Sla::Breached => "breached",
        }
    }
}

/// The SLA state of a ticket at `now`; `None` when it has no due time or is closed.
pub fn sla(ticket: &Ticket, meta: Option<&Meta>, now: DateTime<Utc>) -> Option<Sla> {
    let due = ticket.sla_due_at?;
    let closed = ticket.closed_at.is_some()
        || meta
            .and_then(|m| m.statuses.iter().find(|s| s.key == ticket.status))
            .is_some_and(|s| s.macro_status == MacroStatus::Closed);
    if closed {
        return None;
    }
    Some(if due <= now {
        Sla::Breached
    } else if due - now <= AT_RISK_WITHIN {
        Sla::AtRisk
    } else {
        Sla::Ok
    })
}
