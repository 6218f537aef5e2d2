//! Administration of a server's database, behind the `deskterm operator`,
//! `deskterm token` and `deskterm channel` commands: listing and revoking
//! operators, rotating their tokens, adding channels with their tokens.
//! Whoever can open the database file administers the helpdesk.

use deskterm_api::{OperatorId, Role};
use sqlx::AnyConnection;

use crate::auth::{CHANNEL_TOKEN_PREFIX, new_token, store_token, token_hash};
use crate::db::Db;
use crate::problem::FieldErrors;
use crate::rules;
use crate::text::fold;
use crate::time;

/// An operator as `deskterm operator list` shows it: never a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSummary {
    /// Server id.
    pub id: OperatorId,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// What they may do.
    pub role: Role,
    /// Whether they were revoked (they then hold no token).
    pub revoked: bool,
    /// How many tokens they hold.
    pub tokens: u64,
}

/// Every operator, revoked ones included, by id.
pub async fn list_operators(db: &Db) -> anyhow::Result<Vec<OperatorSummary>> {
    let rows: Vec<(i64, String, String, String, crate::sql::Flag, i64)> =
        sqlx::query_as(crate::sql::sql(
            "SELECT o.id, o.name, o.email, o.role, o.revoked_at IS NOT NULL, \
             (SELECT COUNT(*) FROM tokens t WHERE t.operator_id = o.id) \
         FROM operators o ORDER BY o.id",
        ))
        .fetch_all(db.pool())
        .await?;
    rows.into_iter()
        .map(|(id, name, email, role, revoked, tokens)| {
            Ok(OperatorSummary {
                id,
                name,
                email,
                role: role
                    .parse()
                    .map_err(|e| anyhow::anyhow!("operator {id}: {e}"))?,
                revoked: revoked.0,
                tokens: u64::try_from(tokens).unwrap_or_default(),
            })
        })
        .collect()
}

/// The operator `who` names: an id, or an e-mail address (any case).
async fn find_operator(conn: &mut AnyConnection, who: &str) -> anyhow::Result<OperatorId> {
    let who = who.trim();
    let found: Option<i64> = match who.parse::<i64>() {
        Ok(id) => {
            sqlx::query_scalar(crate::sql::sql("SELECT id FROM operators WHERE id = ?"))
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
        Err(_) => {
            sqlx::query_scalar(crate::sql::sql(
                "SELECT id FROM operators WHERE email_folded = ?",
            ))
            .bind(fold(who))
            .fetch_optional(conn)
            .await?
        }
    };
    found.ok_or_else(|| anyhow::anyhow!("there is no operator {who:?} (give an id or an e-mail)"))
}

/// Revokes the operator `who` (id or e-mail): every token they hold stops
/// working at once (each request checks the database), and they cannot be
/// given a new one. Their name stays on what they did. Returns their id.
pub async fn revoke_operator(db: &Db, who: &str) -> anyhow::Result<OperatorId> {
    let mut tx = db.write().await?;
    let id = find_operator(tx.conn(), who).await?;
    sqlx::query(crate::sql::sql("DELETE FROM tokens WHERE operator_id = ?"))
        .bind(id)
        .execute(tx.conn())
        .await?;
    sqlx::query(crate::sql::sql(
        "UPDATE operators SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
    ))
    .bind(time::to_db(time::now()))
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    tracing::info!("operator {id} revoked");
    Ok(id)
}

/// Replaces every token of the operator `who` (id or e-mail) with one new
/// token, returned: the old ones stop working at once.
pub async fn rotate_token(db: &Db, who: &str) -> anyhow::Result<String> {
    let mut tx = db.write().await?;
    let id = find_operator(tx.conn(), who).await?;
    let crate::sql::Flag(revoked) = sqlx::query_scalar(crate::sql::sql(
        "SELECT revoked_at IS NOT NULL FROM operators WHERE id = ?",
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if revoked {
        anyhow::bail!("operator {id} is revoked; add them again to give them access");
    }
    sqlx::query(crate::sql::sql("DELETE FROM tokens WHERE operator_id = ?"))
        .bind(id)
        .execute(tx.conn())
        .await?;
    let token = store_token(tx.conn(), id).await?;
    tx.commit().await?;
    tracing::info!("the token of operator {id} was rotated");
    Ok(token)
}

/// Adds the channel `name` (a word such as `whatsapp`, checked like every
/// channel name) and returns its token, the only credential
/// `POST /channels/{name}/inbound` accepts. A channel is added once.
pub async fn add_channel(db: &Db, name: &str) -> anyhow::Result<String> {
    let name = channel_name(name)?;
    let mut tx = db.write().await?;
    if channel_id(tx.conn(), &name).await?.is_some() {
        anyhow::bail!("the channel {name} exists already");
    }
    let channel = insert_channel(tx.conn(), &name).await?;
    let token = insert_channel_token(tx.conn(), channel).await?;
    tx.commit().await?;
    tracing::info!("channel {name} added");
    Ok(token)
}

/// A new token of the channel `name`, added first if missing: how the
/// simulated customers post through the channel endpoint. The token is
/// only in memory; its hash stays with the messages it brought.
pub(crate) async fn channel_token(db: &Db, name: &str) -> anyhow::Result<String> {
    let name = channel_name(name)?;
    let mut tx = db.write().await?;
    let channel = match channel_id(tx.conn(), &name).await? {
        Some(id) => id,
        None => insert_channel(tx.conn(), &name).await?,
    };
    let token = insert_channel_token(tx.conn(), channel).await?;
    tx.commit().await?;
    Ok(token)
}

fn channel_name(name: &str) -> anyhow::Result<String> {
    let mut errors = FieldErrors::default();
    let name = rules::channel(name, "channel", &mut errors);
    errors
        .check()
        .map_err(|e| anyhow::anyhow!("the channel name: {e}"))?;
    Ok(name)
}

async fn channel_id(conn: &mut AnyConnection, name: &str) -> anyhow::Result<Option<i64>> {
    Ok(sqlx::query_scalar(crate::sql::sql(
        "SELECT id FROM channels WHERE name_folded = ?",
    ))
    .bind(fold(name))
    .fetch_optional(conn)
    .await?)
}

async fn insert_channel(conn: &mut AnyConnection, name: &str) -> anyhow::Result<i64> {
    let now = time::to_db(time::now());
    Ok(sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO channels (name, name_folded, created_at) VALUES (?, ?, ?) RETURNING id",
    ))
    .bind(name)
    .bind(fold(name))
    .bind(&now)
    .fetch_one(conn)
    .await?)
}

async fn insert_channel_token(conn: &mut AnyConnection, channel: i64) -> anyhow::Result<String> {
    let token = new_token(CHANNEL_TOKEN_PREFIX)?;
    sqlx::query(crate::sql::sql(
        "INSERT INTO channel_tokens (channel_id, hash, created_at) VALUES (?, ?, ?)",
    ))
    .bind(channel)
    .bind(token_hash(&token).as_slice())
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?;
    Ok(token)
}
