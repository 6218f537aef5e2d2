//! Operators and their bearer tokens: creating them, and checking the token
//! of every request. Only the SHA-256 of a token is stored, and tokens are
//! never logged.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deskterm_api::{ChangeKind, OperatorId, OperatorRef};
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;
use subtle::ConstantTimeEq;

use crate::db::Db;
use crate::problem::ApiError;
use crate::routes::AppState;
use crate::text::{chars, fold};
use crate::time;

/// Every token starts with this, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "dkt_";
/// Longest operator name, in characters.
pub(crate) const OPERATOR_NAME_MAX_CHARS: usize = 100;
/// Longest e-mail address, in characters.
pub(crate) const EMAIL_MAX_CHARS: usize = 254;

/// A fresh token: the prefix and 32 random bytes in hex.
fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// What is stored of a token.
fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Stores a new token for `operator_id` and returns it.
async fn store_token(
    conn: &mut SqliteConnection,
    operator_id: OperatorId,
) -> anyhow::Result<String> {
    let token = new_token()?;
    sqlx::query("INSERT INTO tokens (operator_id, hash, created_at) VALUES (?, ?, ?)")
        .bind(operator_id)
        .bind(token_hash(&token).as_slice())
        .bind(time::to_db(time::now()))
        .execute(conn)
        .await?;
    Ok(token)
}

/// Checks an operator's name and e-mail; returns them trimmed.
pub(crate) fn check_operator(name: &str, email: &str) -> anyhow::Result<(String, String)> {
    let name = name.trim();
    let email = email.trim();
    if name.is_empty() {
        anyhow::bail!("the operator's name is empty");
    }
    if chars(name) > OPERATOR_NAME_MAX_CHARS {
        anyhow::bail!("the operator's name is longer than {OPERATOR_NAME_MAX_CHARS} characters");
    }
    if !email.contains('@') || chars(email) > EMAIL_MAX_CHARS {
        anyhow::bail!("{email:?} is not an e-mail address");
    }
    Ok((name.to_owned(), email.to_owned()))
}

/// Inserts an operator (already checked); fails clearly when the e-mail is taken.
pub(crate) async fn insert_operator(
    conn: &mut SqliteConnection,
    name: &str,
    email: &str,
) -> anyhow::Result<OperatorRef> {
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM operators WHERE email_folded = ?")
        .bind(fold(email))
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        anyhow::bail!("an operator with the e-mail {email} already exists");
    }
    let id = sqlx::query(
        "INSERT INTO operators (name, name_folded, email, email_folded, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(fold(name))
    .bind(email)
    .bind(fold(email))
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(OperatorRef {
        id,
        name: name.to_owned(),
    })
}

/// Creates an operator and returns it with its first bearer token.
///
/// The name must not be blank and the e-mail must contain `@` and be unused.
pub async fn add_operator(
    db: &Db,
    name: &str,
    email: &str,
) -> anyhow::Result<(OperatorRef, String)> {
    let (name, email) = check_operator(name, email)?;
    let mut tx = db.write().await?;
    let operator = insert_operator(tx.conn(), &name, &email).await?;
    let token = store_token(tx.conn(), operator.id).await?;
    // The operator list of `GET /meta` changed.
    tx.record(time::now(), ChangeKind::MetaChanged).await?;
    tx.commit().await?;
    tracing::info!("operator {} ({}) added", operator.id, operator.name);
    Ok((operator, token))
}

/// A new bearer token for an existing operator; the operator's other tokens keep working.
pub async fn issue_token(db: &Db, operator_id: OperatorId) -> anyhow::Result<String> {
    let mut tx = db.write().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM operators WHERE id = ?")
        .bind(operator_id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        anyhow::bail!("there is no operator with id {operator_id}");
    }
    let token = store_token(tx.conn(), operator_id).await?;
    tx.commit().await?;
    Ok(token)
}

/// The operator a request is made by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// Operator id.
    pub(crate) id: OperatorId,
    /// Display name.
    pub(crate) name: String,
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("an Authorization: Bearer <token> header is required")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not a bearer token"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header is not a bearer token",
        ));
    }
    Ok(token)
}

/// Finds the operator holding `token`.
async fn operator_by_token(db: &Db, token: &str) -> Result<Option<Caller>, ApiError> {
    let presented = token_hash(token);
    let row: Option<(Vec<u8>, i64, String)> = sqlx::query_as(
        "SELECT t.hash, o.id, o.name FROM tokens t JOIN operators o ON o.id = t.operator_id \
         WHERE t.hash = ?",
    )
    .bind(presented.as_slice())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|(stored, id, name)| {
        bool::from(stored.as_slice().ct_eq(presented.as_slice())).then_some(Caller { id, name })
    }))
}

/// Middleware: answers 401 unless the request carries a valid operator token,
/// and hands the operator to the handler.
pub(crate) async fn require_operator(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match bearer(&parts) {
        Ok(token) => operator_by_token(&state.db, token).await,
        Err(e) => Err(e),
    };
    match caller {
        Ok(Some(caller)) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => ApiError::unauthorized("the token is not valid").into_response(),
        Err(e) => e.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("a route is missing the operator check"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn operators_are_checked() {
        assert!(check_operator(" ", "a@b").is_err());
        assert!(check_operator("Ana", "ana").is_err());
        assert_eq!(
            check_operator(" Ana ", " ana@example.com ").unwrap(),
            ("Ana".to_owned(), "ana@example.com".to_owned())
        );
    }
}
