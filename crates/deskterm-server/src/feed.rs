//! The change feed as stored: what a cursor may continue from, and the
//! changes after it.

use chrono::{DateTime, Utc};
use deskterm_api::{Change, ChangeKind};
use sqlx::{AnyConnection, AnyPool, Row};

use crate::time;

/// The stored name of a change kind (the `kind` of its wire form).
pub(crate) fn kind_name(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::TicketUpserted(_) => "ticket_upserted",
        ChangeKind::TicketDeleted { .. } => "ticket_deleted",
        ChangeKind::NoteAdded(_) => "note_added",
        ChangeKind::MessageAdded(_) => "message_added",
        ChangeKind::MetaChanged => "meta_changed",
    }
}

/// The ends of the stored feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// The highest `seq` ever given out (0 before the first change).
    pub(crate) latest: i64,
    /// The lowest `seq` still kept, if any is.
    pub(crate) oldest: Option<i64>,
}

impl Bounds {
    /// Whether a client at `since` can continue from the stored changes: not
    /// when the cursor is from the future (another database) or older than
    /// what is kept. With every change pruned only the latest cursor is.
    pub(crate) fn usable(&self, since: i64) -> bool {
        let oldest = self.oldest.unwrap_or(self.latest + 1);
        since >= 0 && since <= self.latest && since >= oldest - 1
    }
}

/// Reads the ends of the feed.
pub(crate) async fn bounds(pool: &AnyPool) -> Result<Bounds, sqlx::Error> {
    // sqlite_sequence remembers the last seq even if every row were pruned;
    // it changes with the transaction that takes a seq, so it is committed.
    // PostgreSQL's sequence is not (it moves before the commit), so there the
    // newest committed row is read, and pruning always keeps it.
    let (latest, oldest): (i64, Option<i64>) = sqlx::query_as(crate::sql::pick(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), \
                         (SELECT MAX(seq) FROM changes), 0), \
                (SELECT MIN(seq) FROM changes)",
        "SELECT COALESCE((SELECT MAX(seq) FROM changes), 0), (SELECT MIN(seq) FROM changes)",
    ))
    .fetch_one(pool)
    .await?;
    Ok(Bounds { latest, oldest })
}

/// Deletes the changes recorded before `before`; how many. Clients whose
/// cursor is older then get `resync` and reload.
pub(crate) async fn prune(
    conn: &mut AnyConnection,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // PostgreSQL keeps the newest change: it is what says how far the feed went.
    let done = sqlx::query(crate::sql::sql(crate::sql::pick(
        "DELETE FROM changes WHERE at < ?",
        "DELETE FROM changes WHERE at < ? AND seq < (SELECT MAX(seq) FROM changes)",
    )))
    .bind(time::to_db(before))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Up to `limit` changes with `seq > since`, oldest first.
pub(crate) async fn after(
    pool: &AnyPool,
    since: i64,
    limit: u32,
) -> Result<Vec<Change>, sqlx::Error> {
    let rows = sqlx::query(crate::sql::sql(
        "SELECT seq, payload, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
    ))
    .bind(since)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            let kind: ChangeKind = serde_json::from_str(&payload)
                .map_err(|e| sqlx::Error::Decode(format!("bad stored change: {e}").into()))?;
            Ok(Change {
                seq: row.try_get("seq")?,
                at: time::from_db(row.try_get("at")?)?,
                kind,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_from_elsewhere_or_too_old_are_unusable() {
        let b = Bounds {
            latest: 10,
            oldest: Some(5),
        };
        assert!(b.usable(10));
        assert!(b.usable(4));
        assert!(!b.usable(3));
        assert!(!b.usable(11));
        assert!(!b.usable(-1));
        let empty = Bounds {
            latest: 0,
            oldest: None,
        };
        assert!(empty.usable(0));
        assert!(!empty.usable(1));
        let all_pruned = Bounds {
            latest: 10,
            oldest: None,
        };
        assert!(all_pruned.usable(10));
        assert!(!all_pruned.usable(9), "changes 10 and before are gone");
    }
}
