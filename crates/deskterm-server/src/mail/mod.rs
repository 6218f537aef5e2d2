//! E-mail from the server: operators told of changes to tickets (batched,
//! at most one e-mail per ticket and operator per `batch_seconds`), and
//! escalations. Every e-mail is in the database (`mail_queue`) from the
//! moment it is decided, so neither a stopped server nor an SMTP server
//! that is down loses one: the mail task sends what is due, and a failed
//! attempt is tried again later, ever less often.
//!
//! Notifications follow the ticket history: the task reads entries past
//! its cursor, starts a batch for each ticket not already waiting, and when
//! a batch is due queues one e-mail per operator with "receive ticket
//! e-mails" on (not to an operator for changes all their own).

pub(crate) mod compose;
mod settings;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deskterm_api::{HistoryEntry, TicketId};
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use tokio::sync::{Notify, broadcast, watch};

pub use settings::{MailSettings, Security, SmtpSettings};
pub(crate) use transport::Transport;

use crate::db::Db;
use crate::store::mail::{self, MailKind, NewMail, Queued};
use crate::store::{history, tickets};
use crate::time;

/// History entries read at once.
const HISTORY_PAGE: u32 = 1000;
/// Notifications composed in one transaction.
const BATCHES_AT_ONCE: u32 = 100;
/// E-mails sent in one pass.
const SENDS_AT_ONCE: u32 = 50;
/// History entries listed in one notification; the others are counted.
const ENTRIES_PER_MAIL: u32 = 50;
/// Sent e-mails are kept this long (what was sent, to whom).
const KEEP_SENT: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The first retry of a failed e-mail; each later one waits twice as long…
const FIRST_RETRY: Duration = Duration::from_secs(10);
/// …up to this.
const LONGEST_RETRY: Duration = Duration::from_secs(15 * 60);
/// How long an e-mail taken for sending is left to the server process that
/// took it: far longer than a send may take (the SMTP timeout).
const CLAIM: Duration = Duration::from_secs(10 * 60);
/// How long the task waits after its own database work failed.
const AFTER_DB_ERROR: Duration = Duration::from_secs(5);

/// The mail task's handle: wakes it when an e-mail is queued.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    /// Tells the mail task something was queued.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// How long after `attempts` failed attempts the next one is made.
fn retry_after(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(LONGEST_RETRY)
}

fn later(now: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(now)
}

/// Runs the mail task until `stopping` turns true.
pub(crate) async fn run(
    db: Db,
    transport: Transport,
    settings: MailSettings,
    mailer: Mailer,
    mut stopping: watch::Receiver<bool>,
) {
    tracing::info!("e-mail goes to {}", transport.describe());
    let mut changes = db.subscribe();
    let mut task = Task {
        db,
        transport,
        settings,
        resting_until: None,
        failures: 0,
        pruned_at: None,
    };
    loop {
        let next = match task.pass().await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!("the mail task failed a pass, trying again shortly: {e:#}");
                Some(Instant::now() + AFTER_DB_ERROR)
            }
        };
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stopping.wait_for(|s| *s) => return,
            () = mailer.wake.notified() => {}
            () = sleep => {}
            received = changes.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = received {
                    return;
                }
                // A burst of changes is one pass.
                while changes.try_recv().is_ok() {}
            }
        }
    }
}

struct Task {
    db: Db,
    transport: Transport,
    settings: MailSettings,
    /// After a failed send, nothing is tried before this.
    resting_until: Option<Instant>,
    /// Failed sends in a row.
    failures: i64,
    pruned_at: Option<Instant>,
}

impl Task {
    /// Reads new history, queues due notifications, sends due e-mails;
    /// returns when the next pass is due by time alone.
    async fn pass(&mut self) -> anyhow::Result<Option<Instant>> {
        self.absorb().await?;
        while self.compose().await? == BATCHES_AT_ONCE as usize {}
        self.send().await?;
        self.prune().await;
        let now = time::now();
        let mut next = mail::next_due(self.db.pool())
            .await?
            .map(|at| Instant::now() + (at - now).to_std().unwrap_or_default());
        if let (Some(rest), Some(at)) = (self.resting_until, next)
            && rest > at
        {
            next = Some(rest);
        }
        Ok(next)
    }

    /// Starts a batch for each ticket with history past the cursor.
    async fn absorb(&mut self) -> anyhow::Result<()> {
        let window = Duration::from_secs(self.settings.batch_seconds);
        // Most wake-ups (a change with no history, an SLA state) find nothing
        // new: that is known from a read, without taking the write lock.
        let known: Option<i64> = sqlx::query_scalar(crate::sql::sql(
            "SELECT history_id FROM mail_cursor WHERE id = 1",
        ))
        .fetch_optional(self.db.pool())
        .await?;
        if let Some(cursor) = known
            && mail::history_after(self.db.pool(), cursor, 1)
                .await?
                .is_empty()
        {
            return Ok(());
        }
        loop {
            let mut tx = self.db.write().await?;
            let cursor = mail::cursor(tx.conn()).await?;
            let entries = mail::history_after(tx.conn(), cursor, HISTORY_PAGE).await?;
            let Some(&(last, _, _)) = entries.last() else {
                tx.commit().await?;
                return Ok(());
            };
            if self.settings.notify_operators {
                for (id, ticket, at) in &entries {
                    mail::add_batch(tx.conn(), *ticket, *id, later(*at, window)).await?;
                }
            }
            mail::set_cursor(tx.conn(), last).await?;
            tx.commit().await?;
            if entries.len() < HISTORY_PAGE as usize {
                return Ok(());
            }
        }
    }

    /// Queues the notifications that are due; returns how many tickets it did.
    async fn compose(&mut self) -> anyhow::Result<usize> {
        let now = time::now();
        if mail::due_batches(self.db.pool(), now, 1).await?.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        let due = mail::due_batches(tx.conn(), now, BATCHES_AT_ONCE).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let cursor = mail::cursor(tx.conn()).await?;
        let recipients = mail::recipients(tx.conn()).await?;
        let mut queued = 0;
        for &(ticket, first) in &due {
            mail::delete_batch(tx.conn(), ticket).await?;
            let (entries, more) = told(tx.conn(), ticket, first, cursor).await?;
            if entries.is_empty() {
                continue;
            }
            let current = tickets::get(&mut *tx.conn(), ticket).await?;
            let text = compose::notification(current.as_ref(), &entries, more);
            let own_only = |operator| {
                more == 0
                    && entries
                        .iter()
                        .all(|e| e.actor.operator_id == Some(operator))
            };
            for r in recipients.iter().filter(|r| !own_only(r.id)) {
                mail::enqueue(
                    tx.conn(),
                    &NewMail {
                        kind: MailKind::Notification,
                        ticket_id: Some(ticket),
                        recipients: vec![mailbox(&r.name, &r.email)],
                        reply_to: None,
                        subject: text.subject.clone(),
                        body: text.body.clone(),
                        created_at: now,
                    },
                )
                .await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        if queued > 0 {
            tracing::info!(
                "{queued} notification e-mails queued for {} tickets",
                due.len()
            );
        }
        Ok(due.len())
    }

    /// Sends what is due, until one fails (the server is then left to
    /// rest, ever longer, before the next try).
    async fn send(&mut self) -> anyhow::Result<()> {
        if self.resting_until.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        self.resting_until = None;
        let from: Mailbox = self
            .settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("[mail] from: {e}"))?;
        let now = time::now();
        let mut due = mail::due(self.db.pool(), now, SENDS_AT_ONCE).await?;
        if due.is_empty() {
            return Ok(());
        }
        // Taken first, so that of several server processes on one database
        // one sends each e-mail. A process that stops while sending leaves
        // them to be taken again after the claim.
        let mut tx = self.db.write().await?;
        let ids: Vec<i64> = due.iter().map(|q| q.id).collect();
        let taken = mail::claim(tx.conn(), &ids, now, later(now, CLAIM)).await?;
        tx.commit().await?;
        due.retain(|q| taken.contains(&q.id));
        for queued in due {
            let message = match message(&from, &queued) {
                Ok(message) => message,
                Err(reason) => {
                    // Addresses are checked before they are queued: this is
                    // a row written by hand. It waits, loudly, to be fixed.
                    tracing::error!("e-mail {} cannot be sent: {reason}", queued.id);
                    mail::mark_failed(
                        self.db.pool(),
                        queued.id,
                        &reason,
                        later(time::now(), LONGEST_RETRY),
                    )
                    .await?;
                    continue;
                }
            };
            match self.transport.send(&message).await {
                Ok(()) => {
                    mail::mark_sent(self.db.pool(), queued.id, time::now()).await?;
                    self.failures = 0;
                    tracing::info!(
                        "e-mail {} sent to {} recipient(s)",
                        queued.id,
                        queued.recipients.len()
                    );
                }
                Err(e) => {
                    self.failures += 1;
                    let wait = retry_after(queued.attempts + 1).max(retry_after(self.failures));
                    tracing::warn!(
                        "e-mail {} not sent (attempt {}), trying again in {wait:?}: {}",
                        queued.id,
                        queued.attempts + 1,
                        e.reason
                    );
                    mail::mark_failed(
                        self.db.pool(),
                        queued.id,
                        &e.reason,
                        later(time::now(), wait),
                    )
                    .await?;
                    self.resting_until = Some(Instant::now() + retry_after(self.failures));
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Forgets e-mails sent more than [`KEEP_SENT`] ago, once an hour.
    async fn prune(&mut self) {
        if self
            .pruned_at
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60 * 60))
        {
            return;
        }
        self.pruned_at = Some(Instant::now());
        let before = time::now() - chrono::Duration::from_std(KEEP_SENT).unwrap_or_default();
        match mail::prune_sent(self.db.pool(), before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} sent e-mails forgotten"),
            Err(e) => tracing::warn!("sent e-mails not pruned: {e}"),
        }
    }
}

/// The history entries of `ticket` from `first` up to `cursor` a
/// notification lists, and how many more there are.
async fn told(
    conn: &mut sqlx::AnyConnection,
    ticket: TicketId,
    first: i64,
    cursor: i64,
) -> Result<(Vec<HistoryEntry>, usize), sqlx::Error> {
    let mut entries =
        history::of_ticket(&mut *conn, ticket, first - 1, ENTRIES_PER_MAIL + 1).await?;
    entries.retain(|e| e.id <= cursor);
    let mut more = 0;
    if entries.len() > ENTRIES_PER_MAIL as usize {
        entries.truncate(ENTRIES_PER_MAIL as usize);
        let counted: i64 = sqlx::query_scalar(crate::sql::sql(
            "SELECT COUNT(*) FROM ticket_history WHERE ticket_id = ? AND id >= ? AND id <= ?",
        ))
        .bind(ticket)
        .bind(first)
        .bind(cursor)
        .fetch_one(conn)
        .await?;
        more = usize::try_from(counted)
            .unwrap_or(0)
            .saturating_sub(entries.len());
    }
    Ok((entries, more))
}

/// `Name <address>` as a header writes it (the name quoted as needed).
pub(crate) fn mailbox(name: &str, address: &str) -> String {
    match address.parse() {
        Ok(address) => Mailbox::new(Some(compose::one_line(name)), address).to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The e-mail of a queued row, from `from`.
fn message(from: &Mailbox, queued: &Queued) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(queued.subject.clone())
        .date(queued.created_at.into())
        .header(ContentType::TEXT_PLAIN);
    for to in &queued.recipients {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("recipient {to:?} is not an address: {e}"))?;
        builder = builder.to(to);
    }
    if let Some(reply_to) = &queued.reply_to {
        let reply_to: Mailbox = reply_to
            .parse()
            .map_err(|e| format!("reply-to {reply_to:?} is not an address: {e}"))?;
        builder = builder.reply_to(reply_to);
    }
    builder
        .body(queued.body.clone())
        .map_err(|e| format!("the e-mail cannot be built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_a_limit() {
        assert_eq!(retry_after(1), Duration::from_secs(10));
        assert_eq!(retry_after(2), Duration::from_secs(20));
        assert_eq!(retry_after(3), Duration::from_secs(40));
        assert_eq!(retry_after(50), LONGEST_RETRY);
        assert_eq!(retry_after(i64::MAX), LONGEST_RETRY);
    }

    #[test]
    fn a_name_with_commas_or_quotes_stays_one_mailbox() {
        let m = mailbox("Ruiz, \"Ana\"\r\nBcc: x@evil.example", "ana@example.com");
        let parsed: Mailbox = m.parse().unwrap();
        assert_eq!(parsed.email.to_string(), "ana@example.com");
        assert!(!m.contains('\n'));
    }
}
