//! Roles: every endpoint × role × whose ticket, with the status each
//! combination must answer, written out rather than derived from the policy.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Helpdesk, problem};

/// Whose ticket a request is about, seen from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Own,
    Unassigned,
    Other,
}

/// A request on one ticket.
#[derive(Debug, Clone, Copy)]
enum OnTicket {
    Get,
    Patch,
    Delete,
    AddNote,
    ListNotes,
    AnswerCustomer,
}

struct World {
    h: Helpdesk,
    /// The admin (Ana) and an agent (Bruno), with their ids and tokens.
    admin: (i64, String),
    agent: (i64, String),
    /// A third operator whose tickets are "other" for both.
    carla: i64,
    contact: i64,
}

impl World {
    async fn new() -> World {
        let h = Helpdesk::start().await;
        let (bruno, bruno_token) =
            deskterm_server::add_operator(&h.db, "Bruno", "bruno@example.com")
                .await
                .unwrap();
        let (carla, _) = deskterm_server::add_operator(&h.db, "Carla", "carla@example.com")
            .await
            .unwrap();
        let contact = h.contact("Dario", Some("+34 600 9"), None).await;
        World {
            admin: (h.operator.id, h.token.clone()),
            agent: (bruno.id, bruno_token),
            carla: carla.id,
            contact,
            h,
        }
    }

    fn caller(&self, admin: bool) -> &(i64, String) {
        if admin { &self.admin } else { &self.agent }
    }

    /// A fresh ticket (made by the admin) whose operator makes it `whose` for the caller.
    async fn ticket(&self, admin: bool, whose: Whose) -> i64 {
        let operator = match whose {
            Whose::Own => Some(self.caller(admin).0),
            Whose::Unassigned => None,
            Whose::Other => Some(self.carla),
        };
        let t = self
            .h
            .ticket(
                json!({"title": "Printer", "contact_id": self.contact, "operator_id": operator}),
            )
            .await;
        t["id"].as_i64().unwrap()
    }

    async fn send(
        &self,
        admin: bool,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .h
            .http
            .request(method, self.h.url(path))
            .bearer_auth(&self.caller(admin).1)
            .header("If-Match", deskterm_api::etag(1));
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    async fn on_ticket(&self, admin: bool, whose: Whose, what: OnTicket) -> reqwest::Response {
        let id = self.ticket(admin, whose).await;
        let path = format!("/tickets/{id}");
        let notes = format!("/tickets/{id}/notes");
        let chat = format!("/contacts/{}/messages", self.contact);
        match what {
            OnTicket::Get => self.send(admin, Method::GET, &path, None).await,
            OnTicket::Patch => {
                self.send(
                    admin,
                    Method::PATCH,
                    &path,
                    Some(json!({"priority": "urgent"})),
                )
                .await
            }
            OnTicket::Delete => self.send(admin, Method::DELETE, &path, None).await,
            OnTicket::AddNote => {
                self.send(admin, Method::POST, &notes, Some(json!({"body": "n"})))
                    .await
            }
            OnTicket::ListNotes => self.send(admin, Method::GET, &notes, None).await,
            OnTicket::AnswerCustomer => {
                self.send(
                    admin,
                    Method::POST,
                    &chat,
                    Some(json!({"body": "hola", "ticket_id": id})),
                )
                .await
            }
        }
    }
}

const OK: StatusCode = StatusCode::OK;
const CREATED: StatusCode = StatusCode::CREATED;
const GONE: StatusCode = StatusCode::NO_CONTENT;
const REFUSED: StatusCode = StatusCode::FORBIDDEN;

#[tokio::test]
async fn every_ticket_endpoint_by_role_and_whose_ticket() {
    use OnTicket::*;
    use Whose::*;
    let w = World::new().await;
    // (request, whose, agent's answer, admin's answer)
    let matrix = [
        (Get, Own, OK, OK),
        (Get, Unassigned, OK, OK),
        (Get, Other, OK, OK),
        (Patch, Own, OK, OK),
        (Patch, Unassigned, OK, OK),
        (Patch, Other, REFUSED, OK),
        (Delete, Own, GONE, GONE),
        (Delete, Unassigned, REFUSED, GONE),
        (Delete, Other, REFUSED, GONE),
        (AddNote, Own, CREATED, CREATED),
        (AddNote, Unassigned, CREATED, CREATED),
        (AddNote, Other, CREATED, CREATED),
        (ListNotes, Own, OK, OK),
        (ListNotes, Unassigned, OK, OK),
        (ListNotes, Other, OK, OK),
        (AnswerCustomer, Own, CREATED, CREATED),
        (AnswerCustomer, Unassigned, CREATED, CREATED),
        (AnswerCustomer, Other, REFUSED, CREATED),
    ];
    for (what, whose, agent, admin) in matrix {
        for (is_admin, expected) in [(false, agent), (true, admin)] {
            let r = w.on_ticket(is_admin, whose, what).await;
            let role = if is_admin { "admin" } else { "agent" };
            assert_eq!(
                r.status(),
                expected,
                "{what:?} on {whose:?} ticket as {role}"
            );
            if expected == REFUSED {
                let p = problem(r, REFUSED).await;
                let detail = p["detail"].as_str().unwrap();
                assert!(detail.contains("needs the admin role"), "{detail}");
                assert!(
                    detail.contains("another operator's") || detail.contains("unassigned"),
                    "{detail}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_refused_edit_changes_nothing() {
    let w = World::new().await;
    let id = w.ticket(false, Whose::Other).await;
    let r = w
        .send(
            false,
            Method::PATCH,
            &format!("/tickets/{id}"),
            Some(json!({"operator_id": w.agent.0})),
        )
        .await;
    problem(r, REFUSED).await;
    let t = w.h.get_json(&format!("/tickets/{id}")).await;
    assert_eq!(t["operator"]["id"], w.carla);
    assert_eq!(t["version"], 1);
}

#[tokio::test]
async fn every_other_endpoint_by_role() {
    let w = World::new().await;
    let contact = w.contact;
    // (method, path, body, agent's answer, admin's answer)
    let matrix: Vec<(Method, String, Option<Value>, StatusCode, StatusCode)> = vec![
        (Method::GET, "/me".into(), None, OK, OK),
        (
            Method::PATCH,
            "/me".into(),
            Some(json!({"receive_ticket_emails": false})),
            OK,
            OK,
        ),
        (Method::GET, "/meta".into(), None, OK, OK),
        (Method::GET, "/tickets".into(), None, OK, OK),
        (Method::GET, "/changes".into(), None, OK, OK),
        (Method::GET, "/contacts".into(), None, OK, OK),
        (Method::GET, format!("/contacts/{contact}"), None, OK, OK),
        (
            Method::GET,
            format!("/contacts/{contact}/tickets"),
            None,
            OK,
            OK,
        ),
        (
            Method::GET,
            format!("/contacts/{contact}/messages"),
            None,
            OK,
            OK,
        ),
        (
            Method::POST,
            "/tickets".into(),
            Some(json!({"title": "New", "contact_id": contact})),
            CREATED,
            CREATED,
        ),
        (
            Method::POST,
            "/contacts".into(),
            Some(json!({"name": "Eva"})),
            CREATED,
            CREATED,
        ),
        (
            Method::POST,
            format!("/contacts/{contact}/messages"),
            Some(json!({"body": "hola"})),
            CREATED,
            CREATED,
        ),
        (
            Method::POST,
            "/channels/web/inbound".into(),
            Some(json!({"name": "Eva", "phone": "1", "body": "x"})),
            REFUSED,
            REFUSED,
        ),
    ];
    for (method, path, body, agent, admin) in matrix {
        for (is_admin, expected) in [(false, agent), (true, admin)] {
            let r = w.send(is_admin, method.clone(), &path, body.clone()).await;
            assert_eq!(r.status(), expected, "{method} {path} as admin={is_admin}");
        }
    }
    // Custom statuses: admins only; keys are unique, so one call each.
    let p = problem(
        w.send(
            false,
            Method::POST,
            "/statuses",
            Some(json!({"label": "Waiting", "macro": "in_progress"})),
        )
        .await,
        REFUSED,
    )
    .await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("adding a custom status needs the admin role"),
        "{detail}"
    );
    assert!(detail.contains("agent"), "{detail}");
    let r = w
        .send(
            true,
            Method::POST,
            "/statuses",
            Some(json!({"label": "Waiting", "macro": "in_progress"})),
        )
        .await;
    assert_eq!(r.status(), CREATED);
}

#[tokio::test]
async fn me_tells_the_role() {
    let w = World::new().await;
    for (is_admin, role) in [(false, "agent"), (true, "admin")] {
        let r = w.send(is_admin, Method::GET, "/me", None).await;
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["role"], role);
        // Clients that know nothing of roles still read it.
        let plain: deskterm_api::Me = serde_json::from_value(me).unwrap();
        assert_eq!(plain.id, w.caller(is_admin).0);
    }
}
