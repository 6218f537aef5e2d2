//! The ticket-operations layer: one change ([`TicketOp`]) made to the
//! tickets it targets — the marked ones, or else the selected one — as one
//! write per ticket that it actually changes, handed to the engine together
//! (one outbox transaction). The pickers, the category field, `assign to
//! me` and the palette all change tickets through here.

use deskterm_api::{Ticket, TicketPatch};

use super::app::{App, Effect, Level, Modal};
use super::command::TicketOp;
use super::confirm::Confirm;
use crate::sync::Write;

/// More marked tickets than this, and a change asks first.
pub const ASK_ABOVE: usize = 20;

/// The most tickets one change may touch: each is a write to store and send,
/// and a change to more is more likely a slip than a plan.
pub const AT_MOST: usize = 5_000;

/// The patch that makes `op` true of `ticket`; `None` when it is already.
pub fn patch_for(op: &TicketOp, ticket: &Ticket) -> Option<TicketPatch> {
    let mut patch = TicketPatch::default();
    match op {
        TicketOp::Status(s) if *s != ticket.status => patch.status = Some(s.clone()),
        TicketOp::Priority(p) if *p != ticket.priority => patch.priority = Some(*p),
        TicketOp::Operator(o) if *o != ticket.operator.as_ref().map(|x| x.id) => {
            patch.operator_id = Some(*o)
        }
        TicketOp::Category(c) if *c != ticket.category => patch.category = Some(c.clone()),
        TicketOp::AddTag(tag) if !ticket.tags.contains(tag) => {
            let mut tags = ticket.tags.clone();
            tags.push(tag.clone());
            patch.tags = Some(tags);
        }
        TicketOp::RemoveTag(tag) if ticket.tags.contains(tag) => {
            patch.tags = Some(ticket.tags.iter().filter(|t| *t != tag).cloned().collect());
        }
        _ => return None,
    }
    Some(patch)
}

/// What an operation did, for the status bar: `status → resolved`.
pub(super) fn describe(op: &TicketOp, app: &App) -> String {
    match op {
        TicketOp::Status(s) => format!("status → {}", app.status_label(s)),
        TicketOp::Priority(p) => format!("priority → {}", p.as_str()),
        TicketOp::Operator(None) => "unassigned".into(),
        TicketOp::Operator(Some(id)) => {
            let name = app
                .meta
                .as_ref()
                .and_then(|m| m.operators.iter().find(|o| o.id == *id))
                .map(|o| o.name.clone())
                .unwrap_or_else(|| format!("operator {id}"));
            format!("assigned to {name}")
        }
        TicketOp::Category(None) => "category cleared".into(),
        TicketOp::Category(Some(c)) => format!("category → {c}"),
        TicketOp::AddTag(t) => format!("tagged {t}"),
        TicketOp::RemoveTag(t) => format!("untagged {t}"),
    }
}

impl App {
    /// The tickets a change applies to, as shown: the marked ones still
    /// known, in id order, or else the selected one.
    pub(super) fn targets(&self) -> Vec<Ticket> {
        let marked = self.list.marked();
        if marked.is_empty() {
            return self.selected_ticket().into_iter().collect();
        }
        marked
            .iter()
            .filter_map(|id| self.tickets.shown(*id))
            .collect()
    }

    /// Makes `op` true of every targeted ticket, in one transaction; asks
    /// first when that is more than [`ASK_ABOVE`] tickets.
    pub(super) fn change_tickets(&mut self, op: TicketOp, effects: &mut Vec<Effect>) {
        let count = self.list.marked().len();
        if count > AT_MOST {
            self.say(
                Level::Error,
                format!(
                    "{count} tickets are marked; one change touches at most {AT_MOST}: narrow the list"
                ),
            );
            return;
        }
        if count > ASK_ABOVE {
            self.modal = Some(Modal::Confirm(Confirm::Bulk { op, count }));
            return;
        }
        self.apply_change(op, effects);
    }

    /// Makes `op` true of every targeted ticket, in one transaction.
    pub(super) fn apply_change(&mut self, op: TicketOp, effects: &mut Vec<Effect>) {
        let targets = self.targets();
        if targets.is_empty() {
            self.say(Level::Error, "no ticket selected");
            return;
        }
        let mut writes = Vec::new();
        let mut creating = 0;
        for ticket in &targets {
            let Some(patch) = patch_for(&op, ticket) else {
                continue;
            };
            match self.tickets.server(ticket.id).map(|t| t.version) {
                Some(version) => writes.push(Write::Patch {
                    ticket: ticket.id,
                    version,
                    patch,
                }),
                None => creating += 1,
            }
        }
        let changed = writes.len();
        self.write_all(writes, effects);
        let what = describe(&op, self);
        let unchanged = targets.len() - changed - creating;
        let mut message = if targets.len() == 1 && changed == 1 {
            what
        } else {
            format!("{what} on {changed} of {} tickets", targets.len())
        };
        if unchanged > 0 && targets.len() > 1 {
            message.push_str(&format!(" ({unchanged} already were)"));
        }
        if creating > 0 {
            message.push_str(&format!(
                " ({creating} still being created: change them in a moment)"
            ));
            self.say(Level::Error, message);
        } else if targets.len() > 1 {
            // One ticket changing shows on its row; several are worth a word.
            self.say(Level::Info, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;
    use deskterm_api::Priority;

    #[test]
    fn a_patch_only_for_what_changes() {
        let t = fixture::tickets()[0].clone();
        assert_eq!(patch_for(&TicketOp::Status(t.status.clone()), &t), None);
        assert_eq!(
            patch_for(&TicketOp::Priority(Priority::Urgent), &t).map(|p| p.priority),
            (t.priority != Priority::Urgent).then_some(Some(Priority::Urgent))
        );
        let tagged = patch_for(&TicketOp::AddTag("new".into()), &t).and_then(|p| p.tags);
        let mut expected = t.tags.clone();
        expected.push("new".into());
        assert_eq!(tagged, Some(expected));
        assert_eq!(patch_for(&TicketOp::RemoveTag("absent".into()), &t), None);
        let mut with = t.clone();
        with.tags = vec!["a".into(), "b".into()];
        assert_eq!(
            patch_for(&TicketOp::RemoveTag("a".into()), &with).and_then(|p| p.tags),
            Some(vec!["b".to_owned()])
        );
        assert_eq!(
            patch_for(&TicketOp::Operator(None), &t).is_some(),
            t.operator.is_some()
        );
    }
}
