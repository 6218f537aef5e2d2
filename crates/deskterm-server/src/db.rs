//! The SQLite database: opening it, and write transactions that record their
//! changes in the feed and announce them to live streams once committed.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deskterm_api::{Change, ChangeKind};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::ValueRef;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast};

use crate::time;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Committed changes kept for live streams that fall behind; past this they re-read the table.
const FEED_CAPACITY: usize = 1024;
/// Ticket exports read at once. Each holds a connection of its own (never
/// one of the pool's, which ordinary requests need) for as long as its client
/// reads; two keep both cores busy.
const EXPORTS_AT_ONCE: u32 = 2;
/// How much of the database file an export's connection reads through a
/// memory map (address space, not memory: the pages are the file's cache).
const EXPORT_MMAP_BYTES: u64 = 4 << 30;
/// How long an export waits for another one to finish before it is refused.
const EXPORT_WAIT: Duration = Duration::from_secs(10);

/// The helpdesk database: a pool of SQLite connections plus the in-process
/// announcements of new changes. Cheap to clone; clones share everything.
///
/// Connections go through sqlx's `Any` driver, so the store's queries are
/// written once for every database the server can keep its data in.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// Connections for ticket exports ([`Db::snapshot`]), opened when needed.
    exports: AnyPool,
    shared: Arc<Shared>,
}

struct Shared {
    /// The database file.
    path: std::path::PathBuf,
    /// One writer at a time in this process: SQLite allows no more, and
    /// queueing here is fairer than its busy-wait.
    write_lock: Arc<Mutex<()>>,
    /// Committed changes, in `seq` order.
    feed: broadcast::Sender<Arc<Change>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating it and its directory if missing, readable by its
    /// owner alone) the database at `path`, in WAL mode with foreign keys on,
    /// and brings its schema up to date.
    pub async fn open(path: &Path) -> anyhow::Result<Db> {
        // Every ticket and chat is in it: only its owner may read it, on any host.
        let tightened = crate::private_files::prepare_database(path)
            .map_err(|e| anyhow::anyhow!("cannot create the database {}: {e}", path.display()))?;
        for t in tightened {
            tracing::warn!("{t}");
        }
        sqlx::any::install_default_drivers();
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        let options = AnyConnectOptions::from_url(&url)
            .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", path.display()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn, None).await }))
            .connect_with(options.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate the database {}: {e}", path.display()))?;
        let exports = AnyPoolOptions::new()
            .max_connections(EXPORTS_AT_ONCE)
            .acquire_timeout(EXPORT_WAIT)
            // Kept once opened: reaping idle ones would wake an idle server.
            .idle_timeout(None)
            .max_lifetime(None)
            // An export walks the tickets newest first, from page to page of
            // the file rather than along it: read through a memory map, that
            // costs no system call a page (at a million tickets 12 s for the
            // whole export instead of 31 s).
            .after_connect(|conn, _| {
                Box::pin(async move { sqlite_pragmas(conn, Some(EXPORT_MMAP_BYTES)).await })
            })
            .connect_lazy_with(options);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Ok(Db {
            pool,
            exports,
            shared: Arc::new(Shared {
                path: path.to_path_buf(),
                write_lock: Arc::new(Mutex::new(())),
                feed,
            }),
        })
    }

    /// The database file.
    pub(crate) fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The connection pool, for reads.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a read transaction on a connection kept for exports: every
    /// query in it sees the database as it was at its first read (SQLite's
    /// WAL mode gives each reader a snapshot), while writers go on. Dropping
    /// it ends it. Fails with [`sqlx::Error::PoolTimedOut`] when
    /// [`EXPORTS_AT_ONCE`] exports are under way for longer than [`EXPORT_WAIT`].
    pub(crate) async fn snapshot(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.exports.begin().await
    }

    /// Starts a write transaction. It takes SQLite's write lock at once
    /// (`BEGIN IMMEDIATE`) so it never fails half-way on a lock upgrade.
    pub(crate) async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let lock = self.shared.write_lock.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx {
            tx,
            changes: Vec::new(),
            feed: self.shared.feed.clone(),
            _lock: lock,
        })
    }

    /// Live announcements of committed changes.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.shared.feed.subscribe()
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls back
/// everything, recorded changes included.
pub(crate) struct WriteTx {
    tx: Transaction<'static, Any>,
    changes: Vec<Change>,
    feed: broadcast::Sender<Arc<Change>>,
    _lock: OwnedMutexGuard<()>,
}

impl WriteTx {
    /// The connection the transaction runs on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends a change to the feed, inside this transaction; returns its `seq`.
    pub(crate) async fn record(
        &mut self,
        at: DateTime<Utc>,
        kind: ChangeKind,
    ) -> Result<i64, sqlx::Error> {
        let payload = serde_json::to_string(&kind)
            .map_err(|e| sqlx::Error::Encode(format!("change not serializable: {e}").into()))?;
        let seq: i64 =
            sqlx::query_scalar("INSERT INTO changes (kind, payload, at) VALUES (?, ?, ?) RETURNING seq")
                .bind(crate::feed::kind_name(&kind))
                .bind(payload)
                .bind(time::to_db(at))
                .fetch_one(&mut *self.tx)
                .await?;
        self.changes.push(Change { seq, at, kind });
        Ok(seq)
    }

    /// Commits, then tells live streams about the recorded changes.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx {
            tx,
            changes,
            feed,
            _lock,
        } = self;
        tx.commit().await?;
        // Still under the write lock, so announcements go out in `seq` order.
        for change in changes {
            // Nobody listening is fine: streams read the table when they start.
            let _ = feed.send(Arc::new(change));
        }
        Ok(())
    }
}

/// Sets what every SQLite connection of the server needs: write-ahead
/// logging (readers never wait for the writer), foreign keys, a wait for
/// another process's write lock, and, for exports, a memory map of `mmap` bytes.
async fn sqlite_pragmas(conn: &mut AnyConnection, mmap: Option<u64>) -> Result<(), sqlx::Error> {
    let mut pragmas = format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {};",
        BUSY_TIMEOUT.as_millis()
    );
    if let Some(bytes) = mmap {
        pragmas.push_str(&format!(" PRAGMA mmap_size = {bytes};"));
    }
    conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
    Ok(())
}

/// A yes/no read from the database. SQLite keeps one as an integer (0 or 1)
/// and PostgreSQL as a boolean; this reads either. Write a plain `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub(crate) bool);

impl sqlx::Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            Ok(Flag(<bool as sqlx::Decode<Any>>::decode(value)?))
        } else {
            Ok(Flag(<i64 as sqlx::Decode<Any>>::decode(value)? != 0))
        }
    }
}

/// Whether the database holds neither tickets nor operators (a fresh install).
pub async fn is_empty(db: &Db) -> anyhow::Result<bool> {
    let (tickets, operators): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM operators)")
            .fetch_one(db.pool())
            .await?;
    Ok(tickets == 0 && operators == 0)
}
