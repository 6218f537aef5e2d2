//! What to do when a write meets a ticket someone else changed meanwhile.
//!
//! Pure: given the ticket as the operator saw it (`base`), as it is now on
//! the server (`theirs`), and the operator's patch (`mine`), decide field by
//! field. A field only the operator changed is resent; a field both changed
//! to different values is a conflict the operator must settle. Nothing is
//! ever overwritten without the operator seeing it.

use deskterm_api::{Ticket, TicketPatch};
use serde::{Deserialize, Serialize};

/// A field of a ticket a patch can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    /// Title.
    Title,
    /// Description.
    Description,
    /// Status.
    Status,
    /// Priority.
    Priority,
    /// Category.
    Category,
    /// Tags.
    Tags,
    /// Important flag.
    Important,
    /// Assigned operator.
    Operator,
    /// SLA due time.
    SlaDue,
    /// Reference.
    Reference,
    /// Customer.
    Contact,
    /// The time the ticket waits until.
    PendingUntil,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 12] = [
        Field::Title,
        Field::Description,
        Field::Status,
        Field::Priority,
        Field::Category,
        Field::Tags,
        Field::Important,
        Field::Operator,
        Field::SlaDue,
        Field::Reference,
        Field::Contact,
        Field::PendingUntil,
    ];

    /// Name for the operator.
    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Description => "description",
            Field::Status => "status",
            Field::Priority => "priority",
            Field::Category => "category",
            Field::Tags => "tags",
            Field::Important => "important",
            Field::Operator => "operator",
            Field::SlaDue => "SLA due",
            Field::Reference => "reference",
            Field::Contact => "customer",
            Field::PendingUntil => "waits until",
        }
    }

    /// Whether the patch sets this field.
    pub fn in_patch(self, p: &TicketPatch) -> bool {
        match self {
            Field::Title => p.title.is_some(),
            Field::Description => p.description.is_some(),
            Field::Status => p.status.is_some(),
            Field::Priority => p.priority.is_some(),
            Field::Category => p.category.is_some(),
            Field::Tags => p.tags.is_some(),
            Field::Important => p.important.is_some(),
            Field::Operator => p.operator_id.is_some(),
            Field::SlaDue => p.sla_due_at.is_some(),
            Field::Reference => p.reference.is_some(),
            Field::Contact => p.contact_id.is_some() || p.new_contact.is_some(),
            Field::PendingUntil => p.pending_until.is_some(),
        }
    }

    /// Removes this field from a patch.
    pub fn clear(self, p: &mut TicketPatch) {
        match self {
            Field::Title => p.title = None,
            Field::Description => p.description = None,
            Field::Status => p.status = None,
            Field::Priority => p.priority = None,
            Field::Category => p.category = None,
            Field::Tags => p.tags = None,
            Field::Important => p.important = None,
            Field::Operator => p.operator_id = None,
            Field::SlaDue => p.sla_due_at = None,
            Field::Reference => p.reference = None,
            Field::Contact => {
                p.contact_id = None;
                p.new_contact = None;
            }
            Field::PendingUntil => p.pending_until = None,
        }
    }

    /// Copies this field from `from` into `to`.
    pub fn copy(self, from: &TicketPatch, to: &mut TicketPatch) {
        match self {
            Field::Title => to.title = from.title.clone(),
            Field::Description => to.description = from.description.clone(),
            Field::Status => to.status = from.status.clone(),
            Field::Priority => to.priority = from.priority,
            Field::Category => to.category = from.category.clone(),
            Field::Tags => to.tags = from.tags.clone(),
            Field::Important => to.important = from.important,
            Field::Operator => to.operator_id = from.operator_id,
            Field::SlaDue => to.sla_due_at = from.sla_due_at,
            Field::Reference => to.reference = from.reference.clone(),
            Field::Contact => {
                to.contact_id = from.contact_id;
                to.new_contact = from.new_contact.clone();
            }
            Field::PendingUntil => to.pending_until = from.pending_until,
        }
    }

    /// Whether two tickets agree on this field.
    pub fn same_in(self, a: &Ticket, b: &Ticket) -> bool {
        match self {
            Field::Title => a.title == b.title,
            Field::Description => a.description == b.description,
            Field::Status => a.status == b.status,
            Field::Priority => a.priority == b.priority,
            Field::Category => a.category == b.category,
            Field::Tags => a.tags == b.tags,
            Field::Important => a.important == b.important,
            Field::Operator => {
                a.operator.as_ref().map(|o| o.id) == b.operator.as_ref().map(|o| o.id)
            }
            Field::SlaDue => a.sla_due_at == b.sla_due_at,
            Field::Reference => a.reference == b.reference,
            Field::Contact => a.contact.id == b.contact.id,
            Field::PendingUntil => a.pending_until == b.pending_until,
        }
    }

    /// Whether the ticket already has the value the patch sets.
    pub fn patch_matches(self, p: &TicketPatch, t: &Ticket) -> bool {
        match self {
            Field::Title => p.title.as_ref() == Some(&t.title),
            Field::Description => p.description.as_ref() == Some(&t.description),
            Field::Status => p.status.as_ref() == Some(&t.status),
            Field::Priority => p.priority == Some(t.priority),
            Field::Category => p.category.as_ref() == Some(&t.category),
            Field::Tags => p.tags.as_ref() == Some(&t.tags),
            Field::Important => p.important == Some(t.important),
            Field::Operator => p.operator_id == Some(t.operator.as_ref().map(|o| o.id)),
            Field::SlaDue => p.sla_due_at == Some(t.sla_due_at),
            Field::Reference => p.reference.as_ref() == Some(&t.reference),
            Field::Contact => match &p.new_contact {
                Some(new) => made_already(new, &t.contact),
                None => p.contact_id == Some(t.contact.id),
            },
            Field::PendingUntil => p.pending_until == Some(t.pending_until),
        }
    }
}

/// Whether `contact` is the customer `new` describes, as the server keeps
/// them (trimmed, blank fields none): a change of customer sent again after
/// its answer was lost finds the one it made, and makes no second.
fn made_already(new: &deskterm_api::NewContact, contact: &deskterm_api::ContactRef) -> bool {
    let kept = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    contact.id > 0
        && new.name.trim() == contact.name
        && kept(&new.phone) == contact.phone
        && kept(&new.email) == contact.email
}

/// Sets the fields of `patch` on `ticket` (an operator is known here by id only).
pub fn apply(patch: &TicketPatch, ticket: &mut Ticket) {
    if let Some(v) = &patch.title {
        ticket.title = v.clone();
    }
    if let Some(v) = &patch.description {
        ticket.description = v.clone();
    }
    if let Some(v) = &patch.status {
        ticket.status = v.clone();
    }
    if let Some(v) = patch.priority {
        ticket.priority = v;
    }
    if let Some(v) = &patch.category {
        ticket.category = v.clone();
    }
    if let Some(v) = &patch.tags {
        ticket.tags = v.clone();
    }
    if let Some(v) = patch.important {
        ticket.important = v;
    }
    if let Some(v) = patch.operator_id {
        let keep = ticket.operator.as_ref().is_some_and(|o| Some(o.id) == v);
        if !keep {
            ticket.operator = v.map(|id| deskterm_api::OperatorRef {
                id,
                name: String::new(),
            });
        }
    }
    if let Some(v) = patch.sla_due_at {
        ticket.sla_due_at = v;
        // The server's state was for the old due time; until it answers,
        // the state follows the new one by the client's rule.
        ticket.sla_state = None;
    }
    if let Some(v) = &patch.reference {
        ticket.reference = v.clone();
    }
    if let Some(v) = patch.pending_until {
        ticket.pending_until = v;
    }
    if let Some(new) = &patch.new_contact {
        // A customer the server has not made yet: known by what was typed.
        ticket.contact = deskterm_api::ContactRef {
            id: 0,
            name: new.name.clone(),
            phone: new.phone.clone(),
            email: new.email.clone(),
        };
    }
    if let Some(v) = patch.contact_id
        && v != ticket.contact.id
    {
        // Known by id until the server answers with the whole contact.
        ticket.contact = deskterm_api::ContactRef {
            id: v,
            name: String::new(),
            phone: None,
            email: None,
        };
    }
}

/// The decision for a patch refused as stale.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// The other side changed other fields: send what is left of the patch on top of theirs.
    Resend(TicketPatch),
    /// The server already has every value the patch sets: nothing to send.
    AlreadyThere,
    /// Both changed these fields to different values: the operator decides.
    Conflict(Vec<Field>),
}

/// The part of `mine` that `theirs` does not have yet: fields where they
/// already made the same change are settled.
pub fn unsettled(mine: &TicketPatch, theirs: &Ticket) -> TicketPatch {
    let mut remaining = mine.clone();
    for field in Field::ALL {
        if field.in_patch(mine) && field.patch_matches(mine, theirs) {
            field.clear(&mut remaining);
        }
    }
    remaining
}

/// Decides field by field (see the module documentation).
/// Without `base` (what the operator saw is unknown), every field the patch
/// still has to change counts as contested.
pub fn reconcile(base: Option<&Ticket>, theirs: &Ticket, mine: &TicketPatch) -> Reconciled {
    let remaining = unsettled(mine, theirs);
    let conflicts: Vec<Field> = Field::ALL
        .into_iter()
        .filter(|f| f.in_patch(&remaining) && base.is_none_or(|b| !f.same_in(b, theirs)))
        .collect();
    if !conflicts.is_empty() {
        Reconciled::Conflict(conflicts)
    } else if remaining.is_empty() {
        Reconciled::AlreadyThere
    } else {
        Reconciled::Resend(remaining)
    }
}

/// A plain ticket for tests.
#[cfg(test)]
pub(crate) fn sample_ticket() -> Ticket {
    use deskterm_api::{ContactRef, Priority};
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    Ticket {
        id: 1,
        reference: "HD-000001".into(),
        title: "Pedido".into(),
        description: String::new(),
        status: "open".into(),
        priority: Priority::Normal,
        category: None,
        tags: vec![],
        important: false,
        contact: ContactRef {
            id: 1,
            name: "Ana".into(),
            phone: None,
            email: None,
        },
        operator: None,
        channel: "web".into(),
        sla_due_at: None,
        pending_until: None,
        created_at: at,
        updated_at: at,
        closed_at: None,
        sla_state: None,
        version: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskterm_api::{OperatorRef, Priority};

    fn base() -> Ticket {
        sample_ticket()
    }

    #[test]
    fn different_fields_merge() {
        let mut theirs = base();
        theirs.version = 2;
        theirs.priority = Priority::Urgent;
        let mine = TicketPatch {
            status: Some("pending".into()),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&base()), &theirs, &mine),
            Reconciled::Resend(mine)
        );
    }

    #[test]
    fn the_same_field_to_different_values_is_a_conflict() {
        let mut theirs = base();
        theirs.version = 2;
        theirs.status = "resolved".into();
        theirs.title = "Pedido (urgente)".into();
        let mine = TicketPatch {
            status: Some("pending".into()),
            priority: Some(Priority::High),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&base()), &theirs, &mine),
            Reconciled::Conflict(vec![Field::Status])
        );
    }

    #[test]
    fn two_waiting_times_are_a_conflict_and_one_is_merged() {
        let at = |h: i64| chrono::DateTime::from_timestamp(1_800_000_000 + h * 3600, 0);
        let mut theirs = base();
        theirs.version = 2;
        theirs.pending_until = at(1);
        let mine = TicketPatch {
            pending_until: Some(at(2)),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&base()), &theirs, &mine),
            Reconciled::Conflict(vec![Field::PendingUntil])
        );
        let mut theirs = base();
        theirs.version = 2;
        theirs.title = "Otro".into();
        assert_eq!(
            reconcile(Some(&base()), &theirs, &mine),
            Reconciled::Resend(mine)
        );
    }

    #[test]
    fn the_same_change_on_both_sides_is_not_a_conflict() {
        let mut theirs = base();
        theirs.version = 2;
        theirs.operator = Some(OperatorRef {
            id: 4,
            name: "Tom".into(),
        });
        let mine = TicketPatch {
            operator_id: Some(Some(4)),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&base()), &theirs, &mine),
            Reconciled::AlreadyThere
        );
        let both = TicketPatch {
            operator_id: Some(Some(4)),
            important: Some(true),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&base()), &theirs, &both),
            Reconciled::Resend(TicketPatch {
                important: Some(true),
                ..Default::default()
            })
        );
    }

    #[test]
    fn unassigning_against_an_assignment_is_a_conflict() {
        let mut seen = base();
        seen.operator = Some(OperatorRef {
            id: 2,
            name: "Marco".into(),
        });
        let mut theirs = seen.clone();
        theirs.version = 2;
        theirs.operator = Some(OperatorRef {
            id: 3,
            name: "Giulia".into(),
        });
        let mine = TicketPatch {
            operator_id: Some(None),
            ..Default::default()
        };
        assert_eq!(
            reconcile(Some(&seen), &theirs, &mine),
            Reconciled::Conflict(vec![Field::Operator])
        );
    }

    #[test]
    fn a_new_customer_sent_again_finds_the_one_it_made_and_not_someone_elses() {
        use deskterm_api::{ContactRef, NewContact};
        let mine = TicketPatch {
            new_contact: Some(NewContact {
                name: " Mia Conti ".into(),
                phone: Some("  ".into()),
                email: Some("mia@example.it".into()),
                channel: None,
            }),
            ..Default::default()
        };
        // The first attempt went through, its answer was lost.
        let mut made = base();
        made.version = 2;
        made.contact = ContactRef {
            id: 9,
            name: "Mia Conti".into(),
            phone: None,
            email: Some("mia@example.it".into()),
        };
        assert_eq!(
            reconcile(Some(&base()), &made, &mine),
            Reconciled::AlreadyThere
        );
        // Someone else gave the ticket another customer meanwhile.
        let mut other = made.clone();
        other.contact.email = Some("mia@example.com".into());
        assert_eq!(
            reconcile(Some(&base()), &other, &mine),
            Reconciled::Conflict(vec![Field::Contact])
        );
        // Someone else changed another field: the new customer is still to make.
        let mut title = base();
        title.version = 2;
        title.title = "Otro".into();
        assert_eq!(
            reconcile(Some(&base()), &title, &mine),
            Reconciled::Resend(mine)
        );
    }
}
