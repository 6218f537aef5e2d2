//! The wrapper every connector goes through: text from a backend is cleaned
//! here, once, whatever the connector did with it (see [`crate::sanitize`]).

use async_trait::async_trait;
use deskterm_api::{
    ChatMessage, Escalation, HistoryEntry, Me, MePatch, Meta, NewEscalation, NewMessage, NewNote,
    NewStatus, NewTicket, Note, StatusDef, Ticket, TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::StreamExt;

use super::poll::{self, PollPolicy};
use super::{
    Backend, BackendError, BackendResult, Capabilities, ChangePage, ChangeStream, Connector,
    ConversationKey, Cursor, FeedEvent, SnapshotItem, SnapshotScope, SnapshotStream, Version,
    sealed,
};
use crate::sanitize;

/// A connector whose every answer is sanitized, and whose change feed is
/// pushed or polled as its [`PollPolicy`] says: the only [`Backend`].
pub struct Sanitized<C> {
    inner: C,
    poll: PollPolicy,
}

impl<C: Connector> Sanitized<C> {
    /// Wraps `connector`.
    pub fn new(connector: C, poll: PollPolicy) -> Sanitized<C> {
        Sanitized {
            inner: connector,
            poll,
        }
    }
}

impl<C> std::fmt::Debug for Sanitized<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sanitized")
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

/// An error with its text cleaned (messages come from the server).
fn error(e: BackendError) -> BackendError {
    match e {
        BackendError::Network(m) => BackendError::Network(sanitize::line(&m)),
        BackendError::Timeout => BackendError::Timeout,
        BackendError::Unauthorized(m) => BackendError::Unauthorized(sanitize::line(&m)),
        BackendError::Forbidden(m) => BackendError::Forbidden(sanitize::line(&m)),
        BackendError::NotFound(m) => BackendError::NotFound(sanitize::line(&m)),
        BackendError::Conflict { current } => BackendError::Conflict {
            current: current.map(|mut t| {
                sanitize::ticket(&mut t);
                t
            }),
        },
        BackendError::Invalid { message, fields } => BackendError::Invalid {
            message: sanitize::line(&message),
            fields: fields
                .into_iter()
                .map(|(k, v)| (sanitize::line(&k), sanitize::line(&v)))
                .collect(),
        },
        BackendError::Server(m) => BackendError::Server(sanitize::line(&m)),
    }
}

fn clean<T>(result: BackendResult<T>, clean: impl FnOnce(&mut T)) -> BackendResult<T> {
    match result {
        Ok(mut value) => {
            clean(&mut value);
            Ok(value)
        }
        Err(e) => Err(error(e)),
    }
}

/// Refuses a write that makes a customer (`new_contact`) on a backend that
/// cannot: said on the field, so the console shows it where it was typed,
/// and never sent, so nothing half-done is left on the backend.
fn refuse_new_contact<C: Connector>(connector: &C, makes_one: bool) -> BackendResult<()> {
    if !makes_one || connector.capabilities().new_contacts {
        return Ok(());
    }
    Err(BackendError::Invalid {
        message: format!(
            "{} cannot make a new customer along with a ticket",
            sanitize::line(&connector.describe())
        ),
        fields: vec![(
            "new_contact".to_owned(),
            "this helpdesk cannot make customers from the console: choose an existing one"
                .to_owned(),
        )],
    })
}

fn feed_event(event: BackendResult<FeedEvent>) -> BackendResult<FeedEvent> {
    clean(event, |e| {
        if let FeedEvent::Change(c) = e {
            sanitize::change(&mut c.change);
        }
    })
}

#[async_trait]
impl<C: Connector> Connector for Sanitized<C> {
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        if self.poll.poll_only {
            caps.live_push = false;
        }
        caps
    }

    fn describe(&self) -> String {
        sanitize::line(&self.inner.describe())
    }

    async fn me(&self) -> BackendResult<Me> {
        clean(self.inner.me().await, sanitize::me)
    }

    async fn meta(&self) -> BackendResult<Meta> {
        clean(self.inner.meta().await, sanitize::meta)
    }

    async fn tickets(&self, query: &TicketQuery) -> BackendResult<TicketPage> {
        clean(self.inner.tickets(query).await, |page| {
            page.items.iter_mut().for_each(sanitize::ticket);
        })
    }

    async fn ticket(&self, id: TicketId) -> BackendResult<Ticket> {
        clean(self.inner.ticket(id).await, sanitize::ticket)
    }

    async fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> BackendResult<Ticket> {
        refuse_new_contact(&self.inner, ticket.new_contact.is_some())?;
        clean(
            self.inner.create_ticket(ticket, idempotency_key).await,
            sanitize::ticket,
        )
    }

    async fn patch_ticket(
        &self,
        id: TicketId,
        version: &Version,
        patch: &TicketPatch,
    ) -> BackendResult<Ticket> {
        refuse_new_contact(&self.inner, patch.new_contact.is_some())?;
        clean(
            self.inner.patch_ticket(id, version, patch).await,
            sanitize::ticket,
        )
    }

    async fn delete_ticket(&self, id: TicketId, version: &Version) -> BackendResult<()> {
        clean(self.inner.delete_ticket(id, version).await, |()| {})
    }

    async fn notes(&self, id: TicketId) -> BackendResult<Vec<Note>> {
        clean(self.inner.notes(id).await, |notes| {
            notes.iter_mut().for_each(sanitize::note);
        })
    }

    async fn add_note(
        &self,
        id: TicketId,
        note: &NewNote,
        idempotency_key: &str,
    ) -> BackendResult<Note> {
        clean(
            self.inner.add_note(id, note, idempotency_key).await,
            sanitize::note,
        )
    }

    async fn messages(&self, conversation: &ConversationKey) -> BackendResult<Vec<ChatMessage>> {
        clean(self.inner.messages(conversation).await, |messages| {
            messages.iter_mut().for_each(sanitize::message);
        })
    }

    async fn send_message(
        &self,
        conversation: &ConversationKey,
        message: &NewMessage,
        idempotency_key: &str,
    ) -> BackendResult<ChatMessage> {
        clean(
            self.inner
                .send_message(conversation, message, idempotency_key)
                .await,
            sanitize::message,
        )
    }

    async fn latest(&self) -> BackendResult<Cursor> {
        self.inner.latest().await.map_err(error)
    }

    async fn changes(&self, since: &Cursor, limit: u32) -> BackendResult<ChangePage> {
        clean(self.inner.changes(since, limit).await, |page| {
            for c in &mut page.changes {
                sanitize::change(&mut c.change);
            }
        })
    }

    async fn live(&self, since: &Cursor) -> BackendResult<ChangeStream<'static>> {
        let stream = self.inner.live(since).await.map_err(error)?;
        Ok(Box::pin(stream.map(feed_event)))
    }

    async fn stats(&self, query: &super::StatsQuery) -> BackendResult<deskterm_api::Stats> {
        clean(self.inner.stats(query).await, sanitize::stats)
    }

    async fn add_status(&self, status: &NewStatus) -> BackendResult<StatusDef> {
        clean(self.inner.add_status(status).await, |s| {
            s.key = sanitize::line(&s.key);
            s.label = sanitize::line(&s.label);
        })
    }

    async fn set_profile(&self, patch: &MePatch) -> BackendResult<Me> {
        clean(self.inner.set_profile(patch).await, sanitize::me)
    }

    async fn escalate(
        &self,
        id: TicketId,
        escalation: &NewEscalation,
        idempotency_key: &str,
    ) -> BackendResult<Escalation> {
        clean(
            self.inner.escalate(id, escalation, idempotency_key).await,
            |e| e.to.iter_mut().for_each(|a| *a = sanitize::line(a)),
        )
    }

    async fn history(&self, id: TicketId) -> BackendResult<Vec<HistoryEntry>> {
        clean(self.inner.history(id).await, |entries| {
            entries.iter_mut().for_each(sanitize::history);
        })
    }

    async fn snapshot(&self, scope: &SnapshotScope) -> BackendResult<SnapshotStream<'_>> {
        let stream = self.inner.snapshot(scope).await.map_err(error)?;
        Ok(Box::pin(stream.map(|item| {
            clean(item, |item| {
                if let SnapshotItem::Ticket(t) = item {
                    sanitize::ticket(t);
                }
            })
        })))
    }
}

impl<C: Connector> sealed::Sealed for Sanitized<C> {}

#[async_trait]
impl<C: Connector> Backend for Sanitized<C> {
    async fn feed(&self, since: &Cursor) -> BackendResult<ChangeStream<'_>> {
        if self.capabilities().live_push {
            self.live(since).await
        } else {
            poll::polled(self, since.clone(), self.poll).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deskterm_api::{Change, ChangeKind, ContactRef, Direction, Priority};

    use super::super::{ChangeId, FeedChange};
    use super::*;

    const HOSTILE: &str = "Hola\u{1b}]52;c;cGF5bG9hZA==\u{7}\u{1b}[2J mundo\u{202e}";

    fn clean_text(text: &str) -> bool {
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}')
    }

    fn ticket() -> Ticket {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Ticket {
            id: 1,
            reference: HOSTILE.into(),
            title: HOSTILE.into(),
            description: HOSTILE.into(),
            status: "open".into(),
            priority: Priority::Normal,
            category: None,
            tags: vec![HOSTILE.into()],
            important: false,
            contact: ContactRef {
                id: 1,
                name: HOSTILE.into(),
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

    fn message() -> ChatMessage {
        ChatMessage {
            id: 1,
            contact_id: 1,
            ticket_id: Some(1),
            direction: Direction::Inbound,
            operator: None,
            body: HOSTILE.into(),
            channel: "web".into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    fn change(seq: i64) -> FeedChange {
        FeedChange {
            id: ChangeId::new(seq.to_string()),
            cursor: Cursor::new(seq.to_string()),
            change: Change {
                seq,
                at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
                kind: ChangeKind::TicketUpserted(ticket()),
            },
        }
    }

    /// A connector that passes on whatever the server says, control
    /// sequences and all, and pushes when asked to.
    struct Hostile {
        push: bool,
    }

    #[async_trait]
    impl Connector for Hostile {
        fn capabilities(&self) -> Capabilities {
            Capabilities {
                live_push: self.push,
                chat: true,
                ..Capabilities::MINIMAL
            }
        }
        fn describe(&self) -> String {
            HOSTILE.into()
        }
        async fn me(&self) -> BackendResult<Me> {
            Err(BackendError::Unauthorized(HOSTILE.into()))
        }
        async fn meta(&self) -> BackendResult<Meta> {
            Err(BackendError::Server(HOSTILE.into()))
        }
        async fn tickets(&self, _q: &TicketQuery) -> BackendResult<TicketPage> {
            Ok(TicketPage {
                items: vec![ticket()],
                next_cursor: None,
                total: 1,
            })
        }
        async fn ticket(&self, _id: TicketId) -> BackendResult<Ticket> {
            Ok(ticket())
        }
        async fn create_ticket(&self, _t: &NewTicket, _k: &str) -> BackendResult<Ticket> {
            Ok(ticket())
        }
        async fn patch_ticket(
            &self,
            _id: TicketId,
            _v: &Version,
            _p: &TicketPatch,
        ) -> BackendResult<Ticket> {
            Err(BackendError::Conflict {
                current: Some(Box::new(ticket())),
            })
        }
        async fn delete_ticket(&self, _id: TicketId, _v: &Version) -> BackendResult<()> {
            Err(BackendError::Invalid {
                message: HOSTILE.into(),
                fields: vec![(HOSTILE.into(), HOSTILE.into())],
            })
        }
        async fn notes(&self, _id: TicketId) -> BackendResult<Vec<Note>> {
            Ok(vec![])
        }
        async fn add_note(&self, _id: TicketId, _n: &NewNote, _k: &str) -> BackendResult<Note> {
            Err(BackendError::Forbidden(HOSTILE.into()))
        }
        async fn messages(&self, _c: &ConversationKey) -> BackendResult<Vec<ChatMessage>> {
            Ok(vec![message()])
        }
        async fn send_message(
            &self,
            _c: &ConversationKey,
            _m: &NewMessage,
            _k: &str,
        ) -> BackendResult<ChatMessage> {
            Ok(message())
        }
        async fn latest(&self) -> BackendResult<Cursor> {
            Ok(Cursor::new("1"))
        }
        async fn changes(&self, _since: &Cursor, _limit: u32) -> BackendResult<ChangePage> {
            Ok(ChangePage {
                changes: vec![change(1)],
                next: Cursor::new("1"),
                more: false,
                resync: false,
            })
        }
        async fn live(&self, _since: &Cursor) -> BackendResult<ChangeStream<'static>> {
            Ok(Box::pin(futures_util::stream::iter(vec![
                Ok(FeedEvent::Change(change(2))),
                Err(BackendError::Network(HOSTILE.into())),
            ])))
        }
    }

    fn new_ticket() -> NewTicket {
        NewTicket {
            title: "t".into(),
            description: String::new(),
            status: None,
            priority: None,
            category: None,
            tags: vec![],
            important: false,
            contact_id: 1,
            new_contact: None,
            operator_id: None,
            channel: None,
            reference: None,
            sla_due_at: None,
            pending_until: None,
        }
    }

    fn ticket_is_clean(t: &Ticket) -> bool {
        [&t.title, &t.reference, &t.description, &t.contact.name]
            .into_iter()
            .chain(&t.tags)
            .all(|s| clean_text(s))
    }

    fn error_is_clean(e: &BackendError) -> bool {
        match e {
            BackendError::Conflict { current } => current.as_deref().is_some_and(ticket_is_clean),
            BackendError::Invalid { message, fields } => {
                clean_text(message) && fields.iter().all(|(k, v)| clean_text(k) && clean_text(v))
            }
            other => clean_text(&other.to_string()),
        }
    }

    fn upserted(event: &FeedEvent) -> &Ticket {
        match event {
            FeedEvent::Change(FeedChange {
                change:
                    Change {
                        kind: ChangeKind::TicketUpserted(t),
                        ..
                    },
                ..
            }) => t,
            other => panic!("not a ticket change: {other:?}"),
        }
    }

    #[tokio::test]
    async fn text_from_a_connector_that_cleans_nothing_arrives_clean() {
        let backend: Arc<dyn Backend> =
            super::super::backend(Hostile { push: false }, PollPolicy::default());
        assert!(clean_text(&backend.describe()));
        assert!(ticket_is_clean(&backend.ticket(1).await.unwrap()));
        assert!(ticket_is_clean(
            &backend
                .tickets(&TicketQuery::default())
                .await
                .unwrap()
                .items[0]
        ));
        assert!(ticket_is_clean(
            &backend.create_ticket(&new_ticket(), "k").await.unwrap()
        ));
        let key = ConversationKey::Contact(1);
        assert!(clean_text(&backend.messages(&key).await.unwrap()[0].body));
        let sent = backend
            .send_message(
                &key,
                &NewMessage {
                    body: "hi".into(),
                    ticket_id: None,
                },
                "k",
            )
            .await
            .unwrap();
        assert!(clean_text(&sent.body));
        let v = Version::from(1);
        let errors = [
            backend.me().await.err(),
            backend.meta().await.err(),
            backend
                .patch_ticket(1, &v, &TicketPatch::default())
                .await
                .err(),
            backend.delete_ticket(1, &v).await.err(),
            backend
                .add_note(1, &NewNote { body: "n".into() }, "k")
                .await
                .err(),
        ];
        for e in errors {
            let e = e.expect("the stub fails here");
            assert!(error_is_clean(&e), "{e:?}");
        }
        let mut snapshot = backend
            .snapshot(&crate::backend::SnapshotScope::ALL)
            .await
            .unwrap();
        let mut tickets = 0;
        while let Some(item) = snapshot.next().await {
            if let SnapshotItem::Ticket(t) = item.unwrap() {
                assert!(ticket_is_clean(&t));
                tickets += 1;
            }
        }
        assert_eq!(tickets, 1);
    }

    #[tokio::test]
    async fn a_backend_that_cannot_make_customers_refuses_a_new_one_on_its_field() {
        let backend = super::super::backend(Hostile { push: false }, PollPolicy::default());
        assert!(
            !backend
                .capabilities()
                .has(crate::backend::Feature::NewContacts)
        );
        let customer = deskterm_api::NewContact {
            name: "Eva Ruiz".into(),
            phone: None,
            email: None,
            channel: None,
        };
        let create = NewTicket {
            contact_id: 0,
            new_contact: Some(customer.clone()),
            ..new_ticket()
        };
        let patch = TicketPatch {
            new_contact: Some(customer),
            ..TicketPatch::default()
        };
        let refusals = [
            backend.create_ticket(&create, "k").await.err(),
            backend
                .patch_ticket(1, &Version::from(1), &patch)
                .await
                .err(),
        ];
        for refusal in refusals {
            let Some(BackendError::Invalid { message, fields }) = refusal else {
                panic!("refused as invalid: {refusal:?}");
            };
            assert!(message.contains("cannot make a new customer"), "{message}");
            assert!(clean_text(&message), "{message:?}");
            assert_eq!(fields.first().map(|f| f.0.as_str()), Some("new_contact"));
        }
        // Without a new customer the same connector is asked as before.
        assert!(backend.create_ticket(&new_ticket(), "k").await.is_ok());
    }

    #[tokio::test]
    async fn pushed_and_polled_feeds_arrive_clean_and_push_can_be_turned_off() {
        let pushed = super::super::backend(Hostile { push: true }, PollPolicy::default());
        assert!(pushed.capabilities().live_push);
        let mut feed = pushed.feed(&Cursor::new("0")).await.unwrap();
        let first = feed.next().await.unwrap().unwrap();
        assert_eq!(upserted(&first).id, 1);
        assert!(ticket_is_clean(upserted(&first)));
        let broke = feed.next().await.unwrap().unwrap_err();
        assert!(error_is_clean(&broke), "{broke:?}");

        let polled = super::super::backend(
            Hostile { push: true },
            PollPolicy {
                poll_only: true,
                ..PollPolicy::default()
            },
        );
        assert!(!polled.capabilities().live_push, "the UI is told too");
        let mut feed = polled.feed(&Cursor::new("0")).await.unwrap();
        let first = feed.next().await.unwrap().unwrap();
        assert!(ticket_is_clean(upserted(&first)));
        assert_eq!(feed.next().await.unwrap().unwrap(), FeedEvent::CaughtUp);
    }
}
