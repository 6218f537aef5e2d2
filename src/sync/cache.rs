//! The local cache: the last known tickets, notes and chats, the feed cursor,
//! and the durable outbox of the operator's unsent writes. One SQLite file
//! per backend and operator, in the data directory.
//!
//! A write is in the outbox (committed to disk) before it is sent, and leaves
//! it only when the server has taken it or refused it for good.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use deskterm_api::{ChatMessage, Me, Meta, Note, Ticket, TicketId};
use deskterm_server::private_files;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{OpId, Write};
use crate::backend::{ConversationKey, Conversations, Cursor};

/// Marks a SQLite file as a deskterm cache (`PRAGMA application_id`, "DSKT").
const APPLICATION_ID: i64 = 0x4453_4B54;
/// Version of the schema below (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_newest_first ON tickets(updated_at DESC, id);
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_ticket ON notes(ticket_id);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    conversation TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_by_contact ON messages(contact_id);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation);
CREATE TABLE IF NOT EXISTS outbox (
    op INTEGER PRIMARY KEY,
    write TEXT NOT NULL,
    base TEXT,
    conflict TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
";

/// A write waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Its id, also its place in the sending order.
    pub op: OpId,
    /// What to send.
    pub write: Write,
    /// The ticket as the operator saw it when making a patch or a delete:
    /// what "their" changes are measured against on a conflict.
    pub base: Option<Ticket>,
    /// Set while the write waits for the operator to settle a conflict:
    /// the server's ticket at that moment.
    pub conflict: Option<Ticket>,
    /// How many times sending failed for a passing reason.
    pub attempts: i64,
    /// The last such failure.
    pub last_error: Option<String>,
}

/// Version 1 kept tickets as JSON only; version 2 adds the columns a
/// snapshot and a newest-first start need. The outbox is untouched.
const MIGRATE_1_TO_2: &str = "
ALTER TABLE tickets ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET
    version = coalesce(json_extract(body, '$.version'), 0),
    updated_at = coalesce(CAST(strftime('%s', json_extract(body, '$.updated_at')) AS INTEGER), 0);
CREATE INDEX IF NOT EXISTS tickets_newest_first ON tickets(updated_at DESC, id);
PRAGMA user_version = 2;
";

/// Version 2 kept the feed cursor as the native server's number and chat
/// by contact; version 3 keeps the connector's opaque cursor (a string) and
/// chat by conversation (a contact's or a ticket's, as the connector keys
/// them). The outbox is untouched.
const MIGRATE_2_TO_3: &str = "
UPDATE state SET value = json_quote(value)
    WHERE key = 'since' AND json_valid(value) AND json_type(value) = 'integer';
ALTER TABLE messages ADD COLUMN conversation TEXT NOT NULL DEFAULT '';
UPDATE messages SET conversation = 'contact:' || contact_id;
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation);
PRAGMA user_version = 3;
";

/// How a conversation is written in the `messages` table.
fn conversation_column(key: &ConversationKey) -> String {
    match key {
        ConversationKey::Contact(c) => format!("contact:{c}"),
        ConversationKey::Ticket(t) => format!("ticket:{t}"),
    }
}

/// Tickets written per statement when storing a snapshot.
const ROWS_PER_INSERT: usize = 500;

/// Where a newest-first read of the tickets stands: the last ticket read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketCursor {
    updated_at: i64,
    id: TicketId,
}

/// What the cache holds besides the tickets, for a start without the network.
#[derive(Debug, Default)]
pub struct Cached {
    /// The operator of the last session.
    pub me: Option<Me>,
    /// The backend's metadata.
    pub meta: Option<Meta>,
    /// How many tickets are cached (read with [`Cache::tickets_page`]).
    pub tickets: u64,
    /// Feed cursor: changes up to here are in the cache.
    pub since: Option<Cursor>,
    /// Unsent writes, in order.
    pub outbox: Vec<OutboxEntry>,
}

/// The cache database.
#[derive(Debug, Clone)]
pub struct Cache {
    pool: SqlitePool,
    path: PathBuf,
    client_id: String,
}

/// Outcome of opening: the cache, and a notice for the operator when an
/// unreadable file had to be set aside.
pub struct Opened {
    /// The cache.
    pub cache: Cache,
    /// What happened to a file that could not be used, if anything.
    pub notice: Option<String>,
}

/// The cache file for a backend identity and a token: distinct operators and
/// distinct servers never share one. The token itself is not in the name.
pub fn file_for(dir: &Path, backend_identity: &str, token: &str) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(backend_identity.as_bytes());
    hash.update([0]);
    hash.update(token.as_bytes());
    let digest = hash.finalize();
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dir.join("cache").join(format!("{name}.db"))
}

impl Cache {
    /// Opens (or creates) the cache at `path`. A file that is not a deskterm
    /// cache, is of a newer schema, or is corrupt is renamed aside and a
    /// fresh cache is created in its place.
    pub async fn open(path: &Path) -> anyhow::Result<Opened> {
        if let Some(dir) = path.parent()
            && let Some(t) = private_files::own_dir(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the cache directory {}: {e}", dir.display())
            })?
        {
            tracing::warn!("{t}");
        }
        prepare(path)?;
        match Cache::try_open(path).await {
            Ok(cache) => Ok(Opened {
                cache,
                notice: None,
            }),
            Err(reason) => {
                let aside = set_aside(path)?;
                tracing::warn!("cache {} set aside: {reason}", path.display());
                prepare(path)?;
                let cache = Cache::try_open(path).await.map_err(|e| {
                    anyhow::anyhow!("cannot create the cache {}: {e}", path.display())
                })?;
                Ok(Opened {
                    cache,
                    notice: Some(format!(
                        "the local cache was unusable ({reason}); it was moved to {} and a fresh one started",
                        aside.display()
                    )),
                })
            }
        }
    }

    async fn try_open(path: &Path) -> Result<Cache, String> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| e.to_string())?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An outbox write must survive a power cut once it is acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot open it: {e}"))?;
        let app_id: i64 = sqlx::query_scalar("PRAGMA application_id")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("not a database: {e}"))?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("not a database: {e}"))?;
        let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
            .fetch_one(&pool)
            .await
            .map_err(|e| format!("not a database: {e}"))?;
        if app_id == 0 && tables == 0 {
            // A new file: make it ours.
            sqlx::raw_sql(SCHEMA)
                .execute(&pool)
                .await
                .map_err(|e| format!("cannot create tables: {e}"))?;
            sqlx::raw_sql("PRAGMA application_id = 1146309460; PRAGMA user_version = 3;")
                .execute(&pool)
                .await
                .map_err(|e| format!("cannot mark it: {e}"))?;
        } else if app_id != APPLICATION_ID {
            return Err("it is not a deskterm cache".into());
        } else if (1..SCHEMA_VERSION).contains(&version) {
            // Upgrade in place: a set-aside cache would strand unsent writes.
            for (from, step) in [(1, MIGRATE_1_TO_2), (2, MIGRATE_2_TO_3)] {
                if version <= from {
                    sqlx::raw_sql(step).execute(&pool).await.map_err(|e| {
                        format!("cannot upgrade it from schema version {from}: {e}")
                    })?;
                }
            }
        } else if version != SCHEMA_VERSION {
            return Err(format!(
                "it has schema version {version}, this deskterm reads {SCHEMA_VERSION}"
            ));
        }
        // What cannot be had again is checked whole: the outbox and the
        // state. The tickets, notes and messages are the server's, read again
        // by the next full load; checking them would read the whole file
        // (2-3 s for a million tickets) before the first screen.
        for table in ["state", "outbox"] {
            let check: String =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA quick_check({table})")))
                    .fetch_one(&pool)
                    .await
                    .map_err(|e| format!("it is corrupt: {e}"))?;
            if check != "ok" {
                return Err(format!("it is corrupt: {check}"));
            }
        }
        let mut cache = Cache {
            pool,
            path: path.to_path_buf(),
            client_id: String::new(),
        };
        cache.client_id = match cache
            .state::<String>("client_id")
            .await
            .map_err(|e| e.to_string())?
        {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                cache
                    .set_state("client_id", &id)
                    .await
                    .map_err(|e| e.to_string())?;
                id
            }
        };
        Ok(cache)
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records which backend this cache mirrors (shown by `deskterm outbox`).
    pub async fn set_backend(&self, description: &str) -> anyhow::Result<()> {
        self.set_state("backend", description).await
    }

    /// A summary for the operator: backend, tickets, cursor, unsent writes.
    pub async fn summary(&self) -> anyhow::Result<Summary> {
        let tickets: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets")
            .fetch_one(&self.pool)
            .await?;
        Ok(Summary {
            path: self.path.clone(),
            backend: self
                .state("backend")
                .await?
                .unwrap_or_else(|| "unknown".into()),
            tickets: tickets as u64,
            since: self.state("since").await?,
            outbox: self.outbox().await?,
        })
    }

    /// Closes the database (before the file is removed).
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// The idempotency key of a write: stable across restarts, unique across clients.
    pub fn idempotency_key(&self, op: OpId) -> String {
        format!("dkt-{}-{op}", self.client_id)
    }

    async fn state<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        let row: Option<String> = sqlx::query_scalar("SELECT value FROM state WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(text) => Ok(serde_json::from_str(&text).ok()),
        }
    }

    async fn set_state<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(serde_json::to_string(value)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Reads what a start before the network answers needs, except the
    /// tickets themselves (see [`Cache::tickets_page`]).
    pub async fn load(&self) -> anyhow::Result<Cached> {
        let tickets: i64 = sqlx::query_scalar("SELECT count(*) FROM tickets")
            .fetch_one(&self.pool)
            .await?;
        Ok(Cached {
            me: self.state("me").await?,
            meta: self.state("meta").await?,
            tickets: u64::try_from(tickets).unwrap_or(0),
            since: self.state("since").await?,
            outbox: self.outbox().await?,
        })
    }

    /// Up to `limit` cached tickets, most recently updated first, after
    /// `after`; the cursor of the page's last ticket comes with it. Each page
    /// is its own short read, so writes to the outbox never wait for a start.
    /// Rows that cannot be read (from an older build, say) are skipped.
    pub async fn tickets_page(
        &self,
        after: Option<TicketCursor>,
        limit: u32,
    ) -> anyhow::Result<(Vec<Ticket>, Option<TicketCursor>)> {
        let rows =
            match after {
                None => sqlx::query(
                    "SELECT updated_at, id, body FROM tickets ORDER BY updated_at DESC, id LIMIT ?",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
                Some(c) => {
                    sqlx::query(
                        "SELECT updated_at, id, body FROM tickets \
                     WHERE updated_at < ?1 OR (updated_at = ?1 AND id > ?2) \
                     ORDER BY updated_at DESC, id LIMIT ?3",
                    )
                    .bind(c.updated_at)
                    .bind(c.id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        let cursor = rows.last().map(|r| TicketCursor {
            updated_at: r.get(0),
            id: r.get(1),
        });
        let tickets = rows
            .iter()
            .filter_map(|r| parse(r.get::<&str, _>(2)))
            .collect();
        Ok((tickets, cursor))
    }

    /// One cached ticket, whole (with its description).
    pub async fn ticket(&self, id: TicketId) -> anyhow::Result<Option<Ticket>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM tickets WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(body.as_deref().and_then(parse))
    }

    /// Replaces every ticket at once (small sets, tests); a large set goes
    /// through [`Cache::begin_snapshot`] batch by batch.
    pub async fn replace_all(
        &self,
        me: &Me,
        meta: &Meta,
        tickets: &[Ticket],
        since: &Cursor,
    ) -> anyhow::Result<()> {
        let epoch = self.begin_snapshot().await?;
        self.put_snapshot(epoch, tickets).await?;
        self.finish_snapshot(epoch, me, meta, since).await
    }

    /// Starts storing a full snapshot; returns its epoch. Tickets already
    /// cached stay readable until [`Cache::finish_snapshot`].
    pub async fn begin_snapshot(&self) -> anyhow::Result<i64> {
        let epoch = self.state::<i64>("epoch").await?.unwrap_or(0) + 1;
        self.set_state("epoch", &epoch).await?;
        Ok(epoch)
    }

    /// Stores one batch of a snapshot, in one transaction. The snapshot is
    /// the server's word: it replaces what is cached whatever the versions.
    pub async fn put_snapshot(&self, epoch: i64, tickets: &[Ticket]) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in tickets.chunks(ROWS_PER_INSERT) {
            let mut sql =
                String::from("INSERT INTO tickets (id, version, updated_at, epoch, body) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 {
                    "(?,?,?,?,?)"
                } else {
                    ",(?,?,?,?,?)"
                });
            }
            sql.push_str(
                " ON CONFLICT(id) DO UPDATE SET version = excluded.version, \
                 updated_at = excluded.updated_at, epoch = excluded.epoch, body = excluded.body",
            );
            // Built from constant fragments only; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for t in chunk {
                query = query
                    .bind(t.id)
                    .bind(t.version)
                    .bind(t.updated_at.timestamp())
                    .bind(epoch)
                    .bind(serde_json::to_string(t)?);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Completes a snapshot: tickets it did not contain are forgotten, and
    /// the operator, metadata and feed cursor it came with are stored.
    pub async fn finish_snapshot(
        &self,
        epoch: i64,
        me: &Me,
        meta: &Meta,
        since: &Cursor,
    ) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tickets WHERE epoch <> ?")
            .bind(epoch)
            .execute(&mut *tx)
            .await?;
        for (key, value) in [
            ("me", serde_json::to_string(me)?),
            ("meta", serde_json::to_string(meta)?),
            ("since", serde_json::to_string(since)?),
        ] {
            sqlx::query("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores the signed-in operator (after a change to their profile).
    pub async fn put_me(&self, me: &Me) -> anyhow::Result<()> {
        self.set_state("me", me).await
    }

    /// Stores the metadata.
    pub async fn put_meta(&self, meta: &Meta) -> anyhow::Result<()> {
        self.set_state("meta", meta).await
    }

    /// Stores one ticket (newer versions only). It joins the current
    /// snapshot epoch, so the next full snapshot sweeps it if the server no
    /// longer has it.
    pub async fn put_ticket(&self, t: &Ticket) -> anyhow::Result<()> {
        let epoch = self.state::<i64>("epoch").await?.unwrap_or(0);
        sqlx::query(
            "INSERT INTO tickets (id, version, updated_at, epoch, body) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, \
             epoch = excluded.epoch, body = excluded.body WHERE excluded.version >= tickets.version",
        )
        .bind(t.id)
        .bind(t.version)
        .bind(t.updated_at.timestamp())
        .bind(epoch)
        .bind(serde_json::to_string(t)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a deleted ticket and its notes.
    pub async fn remove_ticket(&self, id: TicketId) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM tickets WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM notes WHERE ticket_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the feed cursor.
    pub async fn set_since(&self, since: &Cursor) -> anyhow::Result<()> {
        self.set_state("since", since).await
    }

    /// Replaces the notes of a ticket.
    pub async fn put_notes(&self, ticket: TicketId, notes: &[Note]) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM notes WHERE ticket_id = ?")
            .bind(ticket)
            .execute(&mut *tx)
            .await?;
        for n in notes {
            sqlx::query("INSERT OR REPLACE INTO notes (id, ticket_id, body) VALUES (?, ?, ?)")
                .bind(n.id)
                .bind(ticket)
                .bind(serde_json::to_string(n)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds one note.
    pub async fn add_note(&self, n: &Note) -> anyhow::Result<()> {
        sqlx::query("INSERT OR REPLACE INTO notes (id, ticket_id, body) VALUES (?, ?, ?)")
            .bind(n.id)
            .bind(n.ticket_id)
            .bind(serde_json::to_string(n)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The cached notes of a ticket, oldest first; `None` when never loaded.
    pub async fn notes(&self, ticket: TicketId) -> anyhow::Result<Vec<Note>> {
        let mut notes: Vec<Note> = sqlx::query("SELECT body FROM notes WHERE ticket_id = ?")
            .bind(ticket)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .filter_map(|row| parse(row.get::<String, _>(0).as_str()))
            .collect();
        notes.sort_by_key(|n| (n.created_at, n.id));
        Ok(notes)
    }

    /// Replaces the messages of a conversation.
    pub async fn put_messages(
        &self,
        conversation: &ConversationKey,
        messages: &[ChatMessage],
    ) -> anyhow::Result<()> {
        let key = conversation_column(conversation);
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM messages WHERE conversation = ?")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        for m in messages {
            sqlx::query(
                "INSERT OR REPLACE INTO messages (id, contact_id, body, conversation) VALUES (?, ?, ?, ?)",
            )
            .bind(m.id)
            .bind(m.contact_id)
            .bind(serde_json::to_string(m)?)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds one chat message to its conversation, keyed as `conversations`
    /// says; a message that belongs to none is not kept.
    pub async fn add_message(
        &self,
        m: &ChatMessage,
        conversations: Conversations,
    ) -> anyhow::Result<()> {
        let Some(key) = conversations.of_message(m) else {
            return Ok(());
        };
        sqlx::query(
            "INSERT OR REPLACE INTO messages (id, contact_id, body, conversation) VALUES (?, ?, ?, ?)",
        )
        .bind(m.id)
        .bind(m.contact_id)
        .bind(serde_json::to_string(m)?)
        .bind(conversation_column(&key))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The cached messages of a conversation, oldest first.
    pub async fn messages(
        &self,
        conversation: &ConversationKey,
    ) -> anyhow::Result<Vec<ChatMessage>> {
        let mut messages: Vec<ChatMessage> =
            sqlx::query("SELECT body FROM messages WHERE conversation = ?")
                .bind(conversation_column(conversation))
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .filter_map(|row| parse(row.get::<String, _>(0).as_str()))
                .collect();
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    /// Puts a write in the outbox; it is on disk when this returns.
    pub async fn enqueue(
        &self,
        op: OpId,
        write: &Write,
        base: Option<&Ticket>,
    ) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO outbox (op, write, base) VALUES (?, ?, ?)")
            .bind(op as i64)
            .bind(serde_json::to_string(write)?)
            .bind(base.map(serde_json::to_string).transpose()?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores several writes in one transaction: after a crash either all
    /// of them are in the outbox or none is.
    pub async fn enqueue_all(&self, writes: &[super::Queued]) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        for w in writes {
            sqlx::query("INSERT INTO outbox (op, write, base) VALUES (?, ?, ?)")
                .bind(w.op as i64)
                .bind(serde_json::to_string(&w.write)?)
                .bind(w.base.as_ref().map(serde_json::to_string).transpose()?)
                .execute(&mut *tx)
                .await
                .map_err(|e| anyhow::anyhow!("storing write {}: {e}", w.op))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The unsent writes, in order.
    pub async fn outbox(&self) -> anyhow::Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT op, write, base, conflict, attempts, last_error FROM outbox ORDER BY op",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let op: i64 = row.get(0);
            let Some(write) = parse::<Write>(row.get::<String, _>(1).as_str()) else {
                // Unreadable: keep it on disk (it is the operator's work) but do not send it.
                tracing::error!(
                    "outbox entry {op} cannot be read; left in {}",
                    self.path.display()
                );
                continue;
            };
            entries.push(OutboxEntry {
                op: op as OpId,
                write,
                base: row.get::<Option<String>, _>(2).as_deref().and_then(parse),
                conflict: row.get::<Option<String>, _>(3).as_deref().and_then(parse),
                attempts: row.get(4),
                last_error: row.get(5),
            });
        }
        Ok(entries)
    }

    /// The server took the write (or refused it for good): it leaves the outbox.
    pub async fn complete(&self, op: OpId) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM outbox WHERE op = ?")
            .bind(op as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a passing failure.
    pub async fn note_failure(&self, op: OpId, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE op = ?")
            .bind(error)
            .bind(op as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces a queued write (after a merge or the operator's decision).
    pub async fn rewrite(&self, entry: &OutboxEntry) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET write = ?, base = ?, conflict = ? WHERE op = ?")
            .bind(serde_json::to_string(&entry.write)?)
            .bind(entry.base.as_ref().map(serde_json::to_string).transpose()?)
            .bind(
                entry
                    .conflict
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()?,
            )
            .bind(entry.op as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What `deskterm outbox` shows of one cache.
#[derive(Debug)]
pub struct Summary {
    /// The file.
    pub path: PathBuf,
    /// The backend it mirrors.
    pub backend: String,
    /// Tickets held.
    pub tickets: u64,
    /// Feed cursor.
    pub since: Option<Cursor>,
    /// Unsent writes.
    pub outbox: Vec<OutboxEntry>,
}

/// The cache files in a data directory.
pub fn files(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("cache")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "db") && !p.to_string_lossy().contains(".unusable-")
        })
        .collect();
    files.sort();
    files
}

fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

/// Creates the cache file readable by its owner alone before SQLite opens it
/// (its `-wal` and `-shm` files take its mode), or tightens an existing one:
/// it holds every ticket, chat and unsent change.
fn prepare(path: &Path) -> anyhow::Result<()> {
    let tightened = private_files::prepare_database(path)
        .map_err(|e| anyhow::anyhow!("cannot create the cache {}: {e}", path.display()))?;
    for t in tightened {
        tracing::warn!("{t}");
    }
    Ok(())
}

/// Renames an unusable cache (and its WAL files) out of the way.
fn set_aside(path: &Path) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let aside = path.with_extension(format!("unusable-{stamp}.db"));
    std::fs::rename(path, &aside).map_err(|e| {
        anyhow::anyhow!(
            "the cache {} is unusable and cannot be moved aside: {e}",
            path.display()
        )
    })?;
    // The write-ahead log belongs to the file: it goes aside with it.
    for suffix in ["-wal", "-shm"] {
        let mut from = path.as_os_str().to_owned();
        from.push(suffix);
        let mut to = aside.as_os_str().to_owned();
        to.push(suffix);
        let _ = std::fs::rename(PathBuf::from(from), PathBuf::from(to));
    }
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::conflict::sample_ticket;

    #[tokio::test]
    async fn the_outbox_keeps_order_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path).await.unwrap().cache;
        let note = |b: &str| Write::AddNote {
            ticket: 1,
            body: b.into(),
        };
        cache.enqueue(20, &note("second"), None).await.unwrap();
        cache
            .enqueue(10, &note("first"), Some(&sample_ticket()))
            .await
            .unwrap();
        cache.note_failure(10, "offline").await.unwrap();
        let key = cache.idempotency_key(10);
        cache.close().await;

        let opened = Cache::open(&path).await.unwrap();
        assert!(opened.notice.is_none());
        let cache = opened.cache;
        assert_eq!(
            cache.idempotency_key(10),
            key,
            "keys are stable across restarts"
        );
        let outbox = cache.outbox().await.unwrap();
        assert_eq!(
            outbox.iter().map(|e| e.op).collect::<Vec<_>>(),
            vec![10, 20]
        );
        assert_eq!(outbox[0].attempts, 1);
        assert_eq!(outbox[0].last_error.as_deref(), Some("offline"));
        assert_eq!(outbox[0].base, Some(sample_ticket()));
        cache.complete(10).await.unwrap();
        assert_eq!(cache.outbox().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn writes_of_one_command_are_stored_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db")).await.unwrap().cache;
        let queued = |op: OpId| crate::sync::Queued {
            op,
            write: Write::AddNote {
                ticket: 1,
                body: format!("n{op}"),
            },
            base: None,
        };
        cache.enqueue(3, &queued(3).write, None).await.unwrap();
        // The third write collides with one already stored: none of the three stays.
        let err = cache
            .enqueue_all(&[queued(1), queued(2), queued(3)])
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("storing write 3"), "{err:#}");
        let ops = |o: Vec<OutboxEntry>| o.iter().map(|e| e.op).collect::<Vec<_>>();
        assert_eq!(ops(cache.outbox().await.unwrap()), [3]);
        cache
            .enqueue_all(&[queued(4), queued(5), queued(6)])
            .await
            .unwrap();
        assert_eq!(ops(cache.outbox().await.unwrap()), [3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn tickets_only_move_forward() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db")).await.unwrap().cache;
        let mut t = sample_ticket();
        t.version = 5;
        t.title = "new".into();
        cache.put_ticket(&t).await.unwrap();
        let mut old = t.clone();
        old.version = 4;
        old.title = "old".into();
        cache.put_ticket(&old).await.unwrap();
        assert_eq!(cache.ticket(1).await.unwrap().unwrap().title, "new");
    }

    async fn set_aside_when(contents: impl FnOnce(&Path)) -> (Opened, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        contents(&path);
        let opened = Cache::open(&path).await.unwrap();
        (opened, dir)
    }

    #[tokio::test]
    async fn a_corrupt_file_is_set_aside_with_a_message() {
        let (opened, dir) = set_aside_when(|p| {
            std::fs::write(
                p,
                b"this is not a database, just bytes that are long enough to look like a header",
            )
            .unwrap()
        })
        .await;
        let notice = opened.notice.expect("a notice");
        assert!(notice.contains("moved to"), "{notice}");
        assert!(
            opened.cache.outbox().await.unwrap().is_empty(),
            "a fresh cache works"
        );
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().contains("unusable"));
        assert!(aside, "the old file is kept aside, not deleted");
    }

    #[tokio::test]
    async fn a_damaged_outbox_is_found_on_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path).await.unwrap().cache;
        let note = Write::AddNote {
            ticket: 1,
            body: "unsent".into(),
        };
        cache.enqueue(1, &note, None).await.unwrap();
        let (root, page_size): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT rootpage FROM sqlite_master WHERE name = 'outbox'), \
                    (SELECT page_size FROM pragma_page_size)",
        )
        .fetch_one(&cache.pool)
        .await
        .unwrap();
        cache.close().await;
        // The outbox's first page no longer reads as a page of a table.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = usize::try_from((root - 1) * page_size).unwrap();
        bytes[at..at + 16].fill(0xee);
        std::fs::write(&path, bytes).unwrap();
        let opened = Cache::open(&path).await.unwrap();
        let notice = opened.notice.expect("a notice");
        assert!(notice.contains("corrupt"), "{notice}");
    }

    #[tokio::test]
    async fn a_foreign_database_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        {
            let pool = SqlitePoolOptions::new()
                .connect_with(
                    SqliteConnectOptions::new()
                        .filename(&path)
                        .create_if_missing(true),
                )
                .await
                .unwrap();
            sqlx::raw_sql("CREATE TABLE invoices (id INTEGER)")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let opened = Cache::open(&path).await.unwrap();
        let notice = opened.notice.expect("a notice");
        assert!(notice.contains("not a deskterm cache"), "{notice}");
    }

    #[tokio::test]
    async fn a_newer_schema_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path).await.unwrap().cache;
        sqlx::raw_sql("PRAGMA user_version = 99")
            .execute(&cache.pool)
            .await
            .unwrap();
        cache.close().await;
        let notice = Cache::open(&path).await.unwrap().notice.expect("a notice");
        assert!(notice.contains("schema version 99"), "{notice}");
    }

    #[tokio::test]
    async fn a_version_1_cache_is_upgraded_with_its_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        // A cache as the first release wrote it: tickets as JSON only.
        {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(
                    SqliteConnectOptions::from_str("sqlite://")
                        .unwrap()
                        .filename(&path)
                        .create_if_missing(true),
                )
                .await
                .unwrap();
            let v1 = SCHEMA.replace(
                "CREATE TABLE IF NOT EXISTS tickets (\n    id INTEGER PRIMARY KEY,\n    version INTEGER NOT NULL DEFAULT 0,\n    updated_at INTEGER NOT NULL DEFAULT 0,\n    epoch INTEGER NOT NULL DEFAULT 0,\n    body TEXT NOT NULL\n);\nCREATE INDEX IF NOT EXISTS tickets_newest_first ON tickets(updated_at DESC, id);",
                "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
            );
            let v1 = v1.replace(
                "CREATE TABLE IF NOT EXISTS messages (\n    id INTEGER PRIMARY KEY,\n    contact_id INTEGER NOT NULL,\n    body TEXT NOT NULL,\n    conversation TEXT NOT NULL DEFAULT ''\n);",
                "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, body TEXT NOT NULL);",
            )
            .replace(
                "CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation);",
                "",
            );
            assert!(
                v1.contains("body TEXT NOT NULL);") && !v1.contains("conversation"),
                "the version 1 tables replaced the current ones"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(v1))
                .execute(&pool)
                .await
                .unwrap();
            sqlx::raw_sql("PRAGMA application_id = 1146309460; PRAGMA user_version = 1;")
                .execute(&pool)
                .await
                .unwrap();
            let mut older = sample_ticket();
            older.id = 2;
            older.updated_at -= chrono::Duration::days(1);
            for t in [sample_ticket(), older] {
                sqlx::query("INSERT INTO tickets (id, body) VALUES (?, ?)")
                    .bind(t.id)
                    .bind(serde_json::to_string(&t).unwrap())
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            sqlx::query("INSERT INTO outbox (op, write) VALUES (7, ?)")
                .bind(
                    serde_json::to_string(&Write::AddNote {
                        ticket: 1,
                        body: "unsent".into(),
                    })
                    .unwrap(),
                )
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let opened = Cache::open(&path).await.unwrap();
        assert!(opened.notice.is_none(), "{:?}", opened.notice);
        let cache = opened.cache;
        let loaded = cache.load().await.unwrap();
        assert_eq!(loaded.tickets, 2);
        assert_eq!(
            loaded.outbox.len(),
            1,
            "the unsent note survives the upgrade"
        );
        let (first, cursor) = cache.tickets_page(None, 1).await.unwrap();
        assert_eq!(first.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1]);
        let (second, _) = cache.tickets_page(cursor, 1).await.unwrap();
        assert_eq!(
            second.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![2],
            "newest first"
        );
    }

    #[tokio::test]
    async fn a_version_2_cursor_becomes_opaque_and_the_outbox_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let cache = Cache::open(&path).await.unwrap().cache;
        cache
            .enqueue(
                7,
                &Write::AddNote {
                    ticket: 1,
                    body: "unsent".into(),
                },
                None,
            )
            .await
            .unwrap();
        // As version 2 wrote it: the native server's sequence number, and
        // chat by contact only.
        sqlx::raw_sql(
            "INSERT OR REPLACE INTO state (key, value) VALUES ('since', '42'); \
             DROP TABLE messages; \
             CREATE TABLE messages (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, body TEXT NOT NULL); \
             CREATE INDEX messages_by_contact ON messages(contact_id); \
             PRAGMA user_version = 2;",
        )
        .execute(&cache.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO messages (id, contact_id, body) VALUES (5, 3, ?)")
            .bind(serde_json::to_string(&sample_message(5, 3, None)).unwrap())
            .execute(&cache.pool)
            .await
            .unwrap();
        cache.close().await;
        let opened = Cache::open(&path).await.unwrap();
        assert!(opened.notice.is_none(), "{:?}", opened.notice);
        let loaded = opened.cache.load().await.unwrap();
        assert_eq!(loaded.since, Some(Cursor::new("42")));
        assert_eq!(loaded.outbox.len(), 1, "the unsent note survives");
        let chat = opened
            .cache
            .messages(&ConversationKey::Contact(3))
            .await
            .unwrap();
        assert_eq!(chat.iter().map(|m| m.id).collect::<Vec<_>>(), [5]);
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&opened.cache.pool)
            .await
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    fn sample_message(id: i64, contact: i64, ticket: Option<TicketId>) -> ChatMessage {
        ChatMessage {
            id,
            contact_id: contact,
            ticket_id: ticket,
            direction: deskterm_api::Direction::Inbound,
            operator: None,
            body: format!("m{id}"),
            channel: "web".into(),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[tokio::test]
    async fn chat_is_kept_per_conversation_as_the_connector_keys_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db")).await.unwrap().cache;
        // One contact, two tickets.
        let first = sample_message(1, 3, Some(10));
        let second = sample_message(2, 3, Some(11));
        let loose = sample_message(3, 3, None);
        for m in [&first, &second, &loose] {
            cache
                .add_message(m, Conversations::ByContact)
                .await
                .unwrap();
            cache.add_message(m, Conversations::ByTicket).await.unwrap();
        }
        let ids = |v: Vec<ChatMessage>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let by_ticket = cache.messages(&ConversationKey::Ticket(10)).await.unwrap();
        assert_eq!(ids(by_ticket), [1]);
        let by_ticket = cache.messages(&ConversationKey::Ticket(11)).await.unwrap();
        assert_eq!(ids(by_ticket), [2]);
        // A row is one message: the last keying wins, so the contact's
        // conversation holds only what was last stored under it.
        let by_contact = cache.messages(&ConversationKey::Contact(3)).await.unwrap();
        assert_eq!(ids(by_contact), [3], "the message with no ticket");
        cache
            .put_messages(
                &ConversationKey::Contact(3),
                &[first.clone(), second.clone()],
            )
            .await
            .unwrap();
        let by_contact = cache.messages(&ConversationKey::Contact(3)).await.unwrap();
        assert_eq!(ids(by_contact), [1, 2]);
        assert!(
            cache
                .messages(&ConversationKey::Ticket(10))
                .await
                .unwrap()
                .is_empty(),
            "moved to the contact's conversation"
        );
    }

    #[tokio::test]
    async fn a_snapshot_replaces_the_tickets_it_does_not_contain() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c.db")).await.unwrap().cache;
        let mut gone = sample_ticket();
        gone.id = 9;
        cache.put_ticket(&gone).await.unwrap();
        let epoch = cache.begin_snapshot().await.unwrap();
        let mut kept = sample_ticket();
        kept.version = 1;
        cache.put_snapshot(epoch, &[kept]).await.unwrap();
        // Until the snapshot is complete, the old tickets are still there.
        assert!(cache.ticket(9).await.unwrap().is_some());
        let me = Me {
            id: 1,
            name: "Ana".into(),
            email: "ana@example.com".into(),
            receive_ticket_emails: false,
        };
        let meta: Meta = serde_json::from_value(serde_json::json!({
            "statuses": [], "priorities": [], "categories": [], "operators": [],
            "tags": [], "channels": [], "server_version": "test",
            "capabilities": {"preconditions": true, "live_events": true,
                "custom_statuses": false, "stats": false, "history": false}
        }))
        .unwrap();
        cache
            .finish_snapshot(epoch, &me, &meta, &Cursor::new("42"))
            .await
            .unwrap();
        assert!(cache.ticket(9).await.unwrap().is_none());
        assert_eq!(cache.ticket(1).await.unwrap().map(|t| t.version), Some(1));
        assert_eq!(cache.load().await.unwrap().since, Some(Cursor::new("42")));
    }

    #[test]
    fn cache_files_differ_by_server_and_token() {
        let d = Path::new("/data");
        assert_ne!(file_for(d, "http://a", "t1"), file_for(d, "http://a", "t2"));
        assert_ne!(file_for(d, "http://a", "t1"), file_for(d, "http://b", "t1"));
        assert!(
            !file_for(d, "http://a", "secret-token")
                .to_string_lossy()
                .contains("secret")
        );
    }
}
