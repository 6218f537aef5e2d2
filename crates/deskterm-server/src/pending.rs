//! Tickets that wait until a time (`pending_until`): when it passes, the
//! time is cleared and the `pending_elapsed` automations run (typically:
//! the ticket opens again, and the customer is told). A timer wakes when
//! the next such time is due, or when a change may have set an earlier one.

use std::sync::Arc;
use std::time::Duration;

use deskterm_api::{ChangeKind, TicketId, TicketPatch};
use tokio::sync::watch;

use crate::automations::{self, Event};
use crate::db::Db;
use crate::editing;
use crate::settings::Settings;
use crate::store::history::Actor;
use crate::time;

/// The longest the timer sleeps without looking (a ticket written by
/// another process, or by a write that did not wake it).
const LONGEST_SLEEP: Duration = Duration::from_secs(60);
/// Tickets handled in one transaction.
const AT_ONCE: i64 = 100;

/// Runs until the server stops.
pub(crate) async fn run(db: Db, settings: Arc<Settings>, mut stopping: watch::Receiver<bool>) {
    let mut changes = db.subscribe();
    loop {
        let next: Option<String> = match sqlx::query_scalar(crate::sql::sql(
            "SELECT min(pending_until) FROM tickets WHERE pending_until IS NOT NULL",
        ))
        .fetch_one(db.pool())
        .await
        {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!("pending timer: {e}");
                None
            }
        };
        // Nothing waits: sleep until a change is made.
        let wait = next.and_then(|n| time::from_db(&n).ok()).map(|at| {
            (at - time::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(LONGEST_SLEEP)
        });
        if wait != Some(Duration::ZERO) {
            let sleep = async {
                match wait {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => {}
                _ = stopping.wait_for(|s| *s) => return,
                change = changes.recv() => {
                    if matches!(change, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    continue;
                }
            }
        }
        if let Err(e) = pass(&db, &settings).await {
            tracing::warn!("pending timer: {e:#}");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    }
}

/// One pass: the tickets whose time passed, in one transaction.
async fn pass(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let now = time::now();
    let mut tx = db.write().await?;
    let due: Vec<TicketId> = sqlx::query_scalar(crate::sql::sql(
        "SELECT id FROM tickets WHERE pending_until <= ? ORDER BY pending_until LIMIT ?",
    ))
    .bind(time::to_db(now))
    .bind(AT_ONCE)
    .fetch_all(tx.conn())
    .await?;
    for id in due {
        let clear = TicketPatch {
            pending_until: Some(None),
            ..TicketPatch::default()
        };
        let cleared = editing::patch(tx.conn(), id, &clear, now, &Actor::System("timer"))
            .await
            .map_err(|e| anyhow::anyhow!("ticket {id}: {e:?}"))?;
        tx.record(now, ChangeKind::TicketUpserted(cleared.ticket.clone()))
            .await?;
        let reference = cleared.ticket.reference.clone();
        automations::run(
            &mut tx,
            settings,
            cleared.ticket,
            Event::PendingElapsed,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("automations of {reference}: {e:?}"))?;
        tracing::info!("{reference}: its waiting time passed");
    }
    tx.commit().await?;
    Ok(())
}
