//! Where a ticket stands against its service-level agreement.
//!
//! A server that keeps the state (`sla_state` on the ticket: the reference
//! server computes it from its `[sla]` targets and pushes it when time moves
//! it) is believed, except that a ticket past its due time is breached at
//! that second, before the push arrives. For a ticket without a kept state
//! (a connector whose helpdesk has none, or a due time the operator has just
//! changed), it is at risk within [`AT_RISK_WITHIN`] of its due time.

use chrono::{DateTime, Duration, Utc};
use deskterm_api::{MacroStatus, Meta, SlaState, Ticket};

/// How close to its due time an open ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sla {
    /// Not at risk yet.
    Ok,
    /// Close to its due time.
    AtRisk,
    /// Past due.
    Breached,
}

/// How long before its due time a ticket without a kept state counts as at
/// risk.
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

/// The SLA state at `now` (all Unix seconds) of a ticket due at `due`, with
/// the state its server keeps; `None` when it has no due time or is closed.
pub fn state_at(due: Option<i64>, closed: bool, kept: Option<SlaState>, now: i64) -> Option<Sla> {
    let due = due?;
    if closed {
        return None;
    }
    Some(if due <= now {
        Sla::Breached
    } else {
        match kept {
            Some(SlaState::Ok) => Sla::Ok,
            Some(SlaState::AtRisk) => Sla::AtRisk,
            Some(SlaState::Breached) => Sla::Breached,
            None if due - now <= AT_RISK_WITHIN.num_seconds() => Sla::AtRisk,
            None => Sla::Ok,
        }
    })
}

/// The SLA state of a ticket at `now`; `None` when it has no due time or is closed.
pub fn sla(ticket: &Ticket, meta: Option<&Meta>, now: DateTime<Utc>) -> Option<Sla> {
    let closed = ticket.closed_at.is_some()
        || meta
            .and_then(|m| m.statuses.iter().find(|s| s.key == ticket.status))
            .is_some_and(|s| s.macro_status == MacroStatus::Closed);
    state_at(
        ticket.sla_due_at.map(|d| d.timestamp()),
        closed,
        ticket.sla_state,
        now.timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn the_kept_state_is_believed_until_the_due_time() {
        let due = Some(NOW + 7_200);
        assert_eq!(
            state_at(due, false, Some(SlaState::AtRisk), NOW),
            Some(Sla::AtRisk)
        );
        assert_eq!(
            state_at(due, false, Some(SlaState::Ok), NOW + 7_000),
            Some(Sla::Ok)
        );
        assert_eq!(
            state_at(due, false, Some(SlaState::Ok), NOW + 7_200),
            Some(Sla::Breached),
            "due is breached at its second, before the server's push"
        );
        assert_eq!(state_at(due, true, Some(SlaState::Breached), NOW), None);
        assert_eq!(state_at(None, false, Some(SlaState::Ok), NOW), None);
    }

    #[test]
    fn without_a_kept_state_the_last_hour_is_at_risk() {
        let due = Some(NOW + 3_600);
        assert_eq!(state_at(due, false, None, NOW - 1), Some(Sla::Ok));
        assert_eq!(state_at(due, false, None, NOW), Some(Sla::AtRisk));
        assert_eq!(state_at(due, false, None, NOW + 3_600), Some(Sla::Breached));
    }
}
