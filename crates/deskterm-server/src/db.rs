//! The SQLite database: opening it, and write transactions that record their
//! changes in the feed and announce them to live streams once committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deskterm_api::{Change, ChangeKind};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, ConnectOptions, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast};

use crate::sql::{Dialect, dialect, set_dialect};
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
    /// Where the data is.
    location: Location,
    /// One writer at a time in this process: SQLite allows no more, and
    /// queueing here is fairer than its busy-wait.
    write_lock: Arc<Mutex<()>>,
    /// Committed changes, in `seq` order.
    feed: broadcast::Sender<Arc<Change>>,
    /// With PostgreSQL, the task that announces the changes committed by
    /// every server process on the database; stopped with the last clone.
    announcer: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = &self.announcer {
            task.abort();
        }
    }
}

/// Where a server keeps its data.
#[derive(Debug, Clone)]
enum Location {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL database, by name (its URL, which may hold a password,
    /// is never kept where it could be logged).
    Postgres { name: String },
}

/// The PostgreSQL notification channel on which a server process says it
/// committed changes; every process listening reads them from `changes`.
const CHANGES_CHANNEL: &str = "deskterm_changes";
/// The key of the PostgreSQL advisory lock that makes writers take turns
/// across processes, as SQLite's write lock does (`deskterm` in ASCII).
const WRITE_LOCK_KEY: i64 = 0x6465_736b_7465_726d;
/// Connections to a PostgreSQL database for requests, per process.
const POSTGRES_CONNECTIONS: u32 = 8;

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
        set_dialect(Dialect::Sqlite)?;
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
                location: Location::File(path.to_path_buf()),
                write_lock: Arc::new(Mutex::new(())),
                feed,
                announcer: None,
            }),
        })
    }

    /// Opens the database `target`: a `postgres://` URL, else an SQLite
    /// file's path ([`Db::open`]).
    pub async fn open_target(target: &str) -> anyhow::Result<Db> {
        if is_postgres_url(target) {
            Db::open_postgres(target).await
        } else {
            Db::open(Path::new(target)).await
        }
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`) and
    /// brings its schema up to date. Several server processes may share it:
    /// each announces to its clients the changes any of them commits.
    pub async fn open_postgres(url: &str) -> anyhow::Result<Db> {
        set_dialect(Dialect::Postgres)?;
        sqlx::any::install_default_drivers();
        let name = postgres_database_name(url);
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e| anyhow::anyhow!("the PostgreSQL URL for {name} is not valid: {e}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .connect_with(options.clone())
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot connect to the PostgreSQL database {name}: {e}")
            })?;
        sqlx::migrate!("./migrations-postgres")
            .run(&pool)
            .await
            .map_err(|e| anyhow::anyhow!("cannot migrate the PostgreSQL database {name}: {e}"))?;
        let exports = AnyPoolOptions::new()
            .max_connections(EXPORTS_AT_ONCE)
            .acquire_timeout(EXPORT_WAIT)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        // Listening first: what is committed after `since` is read is told.
        let mut listener = sqlx::postgres::PgListener::connect(url)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot connect to the PostgreSQL database {name}: {e}")
            })?;
        listener.listen(CHANGES_CHANNEL).await.map_err(|e| {
            anyhow::anyhow!("cannot listen for changes on the PostgreSQL database {name}: {e}")
        })?;
        let since = crate::feed::bounds(&pool).await?.latest;
        let announcer = tokio::spawn(announce(listener, pool.clone(), feed.clone(), since));
        Ok(Db {
            pool,
            exports,
            shared: Arc::new(Shared {
                location: Location::Postgres { name },
                write_lock: Arc::new(Mutex::new(())),
                feed,
                announcer: Some(announcer),
            }),
        })
    }

    /// The SQLite file, if the data is in one.
    pub fn path(&self) -> Option<&Path> {
        match &self.shared.location {
            Location::File(path) => Some(path),
            Location::Postgres { .. } => None,
        }
    }

    /// What the database is, to name it in messages: the SQLite file's path
    /// or the PostgreSQL database's name (never its URL).
    pub fn describe(&self) -> String {
        match &self.shared.location {
            Location::File(path) => path.display().to_string(),
            Location::Postgres { name } => format!("PostgreSQL database {name}"),
        }
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
        match dialect() {
            Dialect::Sqlite => self.exports.begin().await,
            Dialect::Postgres => {
                self.exports
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
    }

    /// Starts a write transaction. It takes the database's write lock at
    /// once, so writers take turns, also across processes, and a change's
    /// `seq` is in commit order: SQLite's (`BEGIN IMMEDIATE`, so it never
    /// fails half-way on a lock upgrade), or PostgreSQL's advisory lock.
    pub(crate) async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let lock = self.shared.write_lock.clone().lock_owned().await;
        let tx = match dialect() {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
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
        let seq: i64 = sqlx::query_scalar(crate::sql::sql(
            "INSERT INTO changes (kind, payload, at) VALUES (?, ?, ?) RETURNING seq",
        ))
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
        if dialect() == Dialect::Postgres {
            // Every process (this one too) announces what it reads from
            // `changes` when told, so all announce the same, in `seq` order.
            let mut tx = tx;
            if !changes.is_empty() {
                sqlx::query("SELECT pg_notify($1, '')")
                    .bind(CHANGES_CHANNEL)
                    .execute(&mut *tx)
                    .await?;
            }
            return tx.commit().await;
        }
        tx.commit().await?;
        // Still under the write lock, so announcements go out in `seq` order.
        for change in changes {
            // Nobody listening is fine: streams read the table when they start.
            let _ = feed.send(Arc::new(change));
        }
        Ok(())
    }
}

/// Whether `target` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// The database `target` (a file or a `postgres://` URL) as it may be shown:
/// a PostgreSQL URL by its database name alone, never its password.
pub fn describe_target(target: &str) -> String {
    if is_postgres_url(target) {
        format!("PostgreSQL database {}", postgres_database_name(target))
    } else {
        target.to_owned()
    }
}

/// The database name of a PostgreSQL URL, to name it without its password.
fn postgres_database_name(url: &str) -> String {
    let path = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(url)
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let name = path
        .split_once('/')
        .map(|(_, name)| name)
        .unwrap_or_default();
    if name.is_empty() {
        "(default)".to_owned()
    } else {
        name.to_owned()
    }
}

/// Announces, in `seq` order, the changes committed to a PostgreSQL database
/// by any server process, each time one of them says it committed some
/// (`pg_notify` on [`CHANGES_CHANNEL`], which `listener` listens on). `since`
/// is the last one announced. After the connection was lost it reads what
/// was missed meanwhile.
async fn announce(
    mut listener: sqlx::postgres::PgListener,
    pool: AnyPool,
    feed: broadcast::Sender<Arc<Change>>,
    mut since: i64,
) {
    /// Changes read at once.
    const BATCH: u32 = 500;
    let mut first = true;
    loop {
        // A notification, or `None` after a reconnection: either way, read
        // on (at first too, for what was committed while starting).
        if !first && let Err(e) = listener.try_recv().await {
            tracing::warn!("listening for changes: {e}; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        first = false;
        loop {
            match crate::feed::after(&pool, since, BATCH).await {
                Ok(changes) => {
                    let full = changes.len() == BATCH as usize;
                    for change in changes {
                        since = change.seq;
                        // Nobody listening is fine: streams read the table when they start.
                        let _ = feed.send(Arc::new(change));
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("reading new changes: {e}; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
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

/// Whether the database holds neither tickets nor operators (a fresh install).
pub async fn is_empty(db: &Db) -> anyhow::Result<bool> {
    let (tickets, operators): (i64, i64) = sqlx::query_as(crate::sql::sql(
        "SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM operators)",
    ))
    .fetch_one(db.pool())
    .await?;
    Ok(tickets == 0 && operators == 0)
}
