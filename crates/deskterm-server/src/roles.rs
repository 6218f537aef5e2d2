//! What each role may do: the one policy table every route consults.
//!
//! Every operator reads everything (the queue, tickets, notes, chats, the
//! feed): triage needs the whole picture. Writes depend on the role and, for
//! a ticket, on whose it is:
//!
//! | action                         | agent: own | agent: unassigned | agent: other's | admin |
//! |--------------------------------|------------|-------------------|----------------|-------|
//! | open a ticket, add a contact   | yes        | yes               | yes            | yes   |
//! | edit a ticket (incl. assign)   | yes        | yes (to take it)  | no             | yes   |
//! | answer the customer about it   | yes        | yes               | no             | yes   |
//! | add an internal note           | yes        | yes               | yes            | yes   |
//! | delete a ticket                | yes        | no                | no             | yes   |
//! | add a custom status            | —          | —                 | —              | yes   |
//!
//! Notes stay open to everyone because they are how operators talk about a
//! case; an agent who wants to change another operator's ticket asks there
//! (or an admin reassigns it). Deleting loses history, so an agent deletes
//! only what is theirs; an unassigned ticket is taken (assigned) first.
//! Operators and channels are managed with the `deskterm` command on the
//! server's database, which only its administrators can open.

use axum::http::StatusCode;
use deskterm_api::{OperatorId, Role};

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// Whose a ticket is, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// Assigned to the caller.
    Own,
    /// Assigned to nobody.
    Unassigned,
    /// Assigned to another operator.
    Other,
}

impl Ownership {
    /// Whose a ticket assigned to `operator` is, for `caller`.
    pub(crate) fn of(caller: &Caller, operator: Option<OperatorId>) -> Ownership {
        match operator {
            Some(id) if id == caller.id => Ownership::Own,
            Some(_) => Ownership::Other,
            None => Ownership::Unassigned,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Ownership::Own => "your own ticket",
            Ownership::Unassigned => "an unassigned ticket",
            Ownership::Other => "another operator's ticket",
        }
    }
}

/// A write an operator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `POST /tickets`.
    OpenTicket,
    /// `POST /contacts`.
    AddContact,
    /// `PATCH /tickets/{id}`.
    EditTicket(Ownership),
    /// `POST /contacts/{id}/messages` about a ticket.
    AnswerCustomer(Ownership),
    /// `POST /contacts/{id}/messages` about no ticket.
    WriteToContact,
    /// `POST /tickets/{id}/notes`.
    AddNote(Ownership),
    /// `DELETE /tickets/{id}`.
    DeleteTicket(Ownership),
    /// `POST /statuses`.
    AddStatus,
    /// `PATCH /me`: one's own profile.
    EditProfile,
    /// `POST /tickets/{id}/escalations`: any ticket, as anyone may ask for help.
    Escalate,
}

impl Action {
    /// The table above.
    fn allowed(self, role: Role) -> bool {
        use Ownership::*;
        match (role, self) {
            (Role::Admin, _) => true,
            (Role::Agent, Action::AddStatus) => false,
            (Role::Agent, Action::EditTicket(o) | Action::AnswerCustomer(o)) => o != Other,
            (Role::Agent, Action::DeleteTicket(o)) => o == Own,
            (
                Role::Agent,
                Action::OpenTicket
                | Action::AddContact
                | Action::WriteToContact
                | Action::AddNote(_)
                | Action::EditProfile
                | Action::Escalate,
            ) => true,
        }
    }

    /// What was asked, for the refusal.
    fn words(self) -> String {
        match self {
            Action::OpenTicket => "opening a ticket".to_owned(),
            Action::AddContact => "adding a contact".to_owned(),
            Action::EditTicket(o) => format!("editing {}", o.words()),
            Action::AnswerCustomer(o) => format!("answering the customer of {}", o.words()),
            Action::WriteToContact => "writing to a contact".to_owned(),
            Action::AddNote(o) => format!("adding a note to {}", o.words()),
            Action::DeleteTicket(o) => format!("deleting {}", o.words()),
            Action::AddStatus => "adding a custom status".to_owned(),
            Action::EditProfile => "editing your profile".to_owned(),
            Action::Escalate => "escalating a ticket".to_owned(),
        }
    }
}

/// `Ok` when `caller` may do `action`, else a 403 saying what was refused and
/// which role it needs.
pub(crate) fn permit(caller: &Caller, action: Action) -> ApiResult<()> {
    if action.allowed(caller.role) {
        return Ok(());
    }
    let needed = [Role::Agent, Role::Admin]
        .into_iter()
        .find(|r| action.allowed(*r))
        .unwrap_or(Role::Admin);
    let mut detail = format!(
        "{} needs the {needed} role; you are signed in as an {}",
        action.words(),
        caller.role
    );
    if let Action::EditTicket(Ownership::Other) | Action::AnswerCustomer(Ownership::Other) = action
    {
        detail.push_str(" (ask its operator in a note, or an admin to reassign it)");
    }
    Err(ApiError::new(StatusCode::FORBIDDEN, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            id: 1,
            name: "Ana".to_owned(),
            role,
        }
    }

    #[test]
    fn admins_may_do_everything_agents_only_their_part() {
        use Ownership::*;
        let every = [
            Action::OpenTicket,
            Action::AddContact,
            Action::WriteToContact,
            Action::AddStatus,
            Action::EditProfile,
            Action::Escalate,
            Action::EditTicket(Own),
            Action::EditTicket(Unassigned),
            Action::EditTicket(Other),
            Action::AnswerCustomer(Other),
            Action::AddNote(Other),
            Action::DeleteTicket(Own),
            Action::DeleteTicket(Unassigned),
            Action::DeleteTicket(Other),
        ];
        for action in every {
            assert!(permit(&caller(Role::Admin), action).is_ok(), "{action:?}");
        }
        let refused: Vec<Action> = every
            .into_iter()
            .filter(|a| permit(&caller(Role::Agent), *a).is_err())
            .collect();
        assert_eq!(
            refused,
            [
                Action::AddStatus,
                Action::EditTicket(Other),
                Action::AnswerCustomer(Other),
                Action::DeleteTicket(Unassigned),
                Action::DeleteTicket(Other),
            ]
        );
    }

    #[test]
    fn a_refusal_names_the_action_and_the_role() {
        let e = permit(&caller(Role::Agent), Action::AddStatus).unwrap_err();
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        let detail = e.problem().detail.clone().unwrap();
        assert!(detail.contains("adding a custom status"), "{detail}");
        assert!(detail.contains("admin role"), "{detail}");
    }

    #[test]
    fn ownership_is_seen_from_the_caller() {
        let ana = caller(Role::Agent);
        assert_eq!(Ownership::of(&ana, Some(1)), Ownership::Own);
        assert_eq!(Ownership::of(&ana, Some(2)), Ownership::Other);
        assert_eq!(Ownership::of(&ana, None), Ownership::Unassigned);
    }
}
