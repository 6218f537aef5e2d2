//! What the server forgets, and when: idempotency answers after a day, the
//! change feed after a configurable number of days. A client whose cursor
//! is older than what is kept gets `resync` and reloads.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::Db;
use crate::feed;
use crate::store::idempotency;
use crate::time;

/// How long records are kept, and how often the old ones are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Change-feed entries older than this are deleted.
    pub feed: Duration,
    /// Idempotency answers older than this are deleted; a retry after that
    /// is a new request.
    pub idempotency_keys: Duration,
    /// How often pruning runs (it also runs when the server starts).
    pub every: Duration,
}

/// Change-feed entries are kept this many days by default.
pub const DEFAULT_FEED_RETENTION_DAYS: u32 = 30;

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            feed: days(DEFAULT_FEED_RETENTION_DAYS),
            idempotency_keys: Duration::from_secs(24 * 60 * 60),
            every: Duration::from_secs(60 * 60),
        }
    }
}

/// `n` days.
pub fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 24 * 60 * 60)
}

/// What one pruning deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Pruned {
    changes: u64,
    idempotency_keys: u64,
}

/// Deletes what is older than `retention` keeps, in one write transaction.
async fn prune(db: &Db, retention: &Retention) -> anyhow::Result<Pruned> {
    let now = time::now();
    let before = |age: Duration| {
        chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| now.checked_sub_signed(age))
    };
    let mut tx = db.write().await?;
    let mut pruned = Pruned::default();
    if let Some(before) = before(retention.feed) {
        pruned.changes = feed::prune(tx.conn(), before).await?;
    }
    if let Some(before) = before(retention.idempotency_keys) {
        pruned.idempotency_keys = idempotency::prune(tx.conn(), before).await?;
    }
    tx.commit().await?;
    Ok(pruned)
}

/// Prunes, logging what went and any failure (a failed pruning is tried
/// again next time; serving goes on).
pub(crate) async fn prune_now(db: &Db, retention: &Retention) {
    match prune(db, retention).await {
        Ok(p) if p != Pruned::default() => tracing::info!(
            "pruned {} change-feed entries and {} idempotency keys",
            p.changes,
            p.idempotency_keys
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot prune old changes and idempotency keys: {e:#}"),
    }
}

/// Prunes every `retention.every` until the server stops.
pub(crate) async fn run(db: Db, retention: Retention, mut stopping: watch::Receiver<bool>) {
    let every = retention.every.max(Duration::from_millis(10));
    loop {
        let stop = async { stopping.wait_for(|s| *s).await.is_ok() };
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop => return,
        }
        prune_now(&db, &retention).await;
    }
}
