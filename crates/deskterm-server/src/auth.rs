//! Operators and their bearer tokens: creating them, and checking the token
//! of every request. Only the SHA-256 of a token is stored, and tokens are
//! never logged.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deskterm_api::{ChangeKind, OperatorId, OperatorRef, Role};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use subtle::ConstantTimeEq;

use crate::auth_limit::{TokenKey, retry_after_secs};
use crate::db::Db;
use crate::problem::ApiError;
use crate::routes::AppState;
use crate::text::{chars, fold};
use crate::time;

/// Every operator token starts with this, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "dkt_";
/// Every channel token starts with this.
pub(crate) const CHANNEL_TOKEN_PREFIX: &str = "dkc_";
/// Longest operator name, in characters.
pub(crate) const OPERATOR_NAME_MAX_CHARS: usize = 100;
/// Longest e-mail address, in characters.
pub(crate) const EMAIL_MAX_CHARS: usize = 254;

/// A fresh token: `prefix` and 32 random bytes in hex.
pub(crate) fn new_token(prefix: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(format!("{prefix}{}", hex::encode(bytes)))
}

/// What is stored of a token.
pub(crate) fn token_hash(token: &str) -> TokenKey {
    Sha256::digest(token.as_bytes()).into()
}

/// Stores a new token for `operator_id` and returns it.
pub(crate) async fn store_token(
    conn: &mut AnyConnection,
    operator_id: OperatorId,
) -> anyhow::Result<String> {
    let token = new_token(TOKEN_PREFIX)?;
    sqlx::query(crate::sql::sql(
        "INSERT INTO tokens (operator_id, hash, created_at) VALUES (?, ?, ?)",
    ))
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
    conn: &mut AnyConnection,
    name: &str,
    email: &str,
    role: Role,
) -> anyhow::Result<OperatorRef> {
    let taken: Option<i64> = sqlx::query_scalar(crate::sql::sql(
        "SELECT id FROM operators WHERE email_folded = ?",
    ))
    .bind(fold(email))
    .fetch_optional(&mut *conn)
    .await?;
    if taken.is_some() {
        anyhow::bail!("an operator with the e-mail {email} already exists");
    }
    let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(
        "INSERT INTO operators (name, name_folded, email, email_folded, role, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    ))
    .bind(name)
    .bind(fold(name))
    .bind(email)
    .bind(fold(email))
    .bind(role.as_str())
    .bind(time::to_db(time::now()))
    .fetch_one(conn)
    .await?;
    Ok(OperatorRef {
        id,
        name: name.to_owned(),
    })
}

/// Creates an [`Role::Agent`] operator and returns it with its first bearer
/// token; see [`add_operator_as`].
pub async fn add_operator(
    db: &Db,
    name: &str,
    email: &str,
) -> anyhow::Result<(OperatorRef, String)> {
    add_operator_as(db, name, email, Role::Agent).await
}

/// Creates an operator with `role` and returns it with its first bearer token.
///
/// The name must not be blank and the e-mail must contain `@` and be unused.
pub async fn add_operator_as(
    db: &Db,
    name: &str,
    email: &str,
    role: Role,
) -> anyhow::Result<(OperatorRef, String)> {
    let (name, email) = check_operator(name, email)?;
    let mut tx = db.write().await?;
    let operator = insert_operator(tx.conn(), &name, &email, role).await?;
    let token = store_token(tx.conn(), operator.id).await?;
    // The operator list of `GET /meta` changed.
    tx.record(time::now(), ChangeKind::MetaChanged).await?;
    tx.commit().await?;
    tracing::info!(
        "operator {} ({}) added as {role}",
        operator.id,
        operator.name
    );
    Ok((operator, token))
}

/// A new bearer token for an existing operator; the operator's other tokens
/// keep working (see [`crate::rotate_token`] to replace them). A revoked
/// operator gets none.
pub async fn issue_token(db: &Db, operator_id: OperatorId) -> anyhow::Result<String> {
    let mut tx = db.write().await?;
    let revoked: Option<Option<String>> = sqlx::query_scalar(crate::sql::sql(
        "SELECT revoked_at FROM operators WHERE id = ?",
    ))
    .bind(operator_id)
    .fetch_optional(tx.conn())
    .await?;
    match revoked {
        None => anyhow::bail!("there is no operator with id {operator_id}"),
        Some(Some(_)) => anyhow::bail!("operator {operator_id} is revoked"),
        Some(None) => {}
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
    /// What they may do; see [`crate::roles`].
    pub(crate) role: Role,
}

/// The channel an inbound request is made by, and the token it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChannelCaller {
    /// Id of the channel token, recorded on the message it brings.
    pub(crate) token_id: i64,
    /// Id of the channel, which owns the idempotency keys of its messages.
    pub(crate) channel_id: i64,
    /// The channel's name, as added.
    pub(crate) channel: String,
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

/// Finds the active (not revoked) operator holding the token hashed to `presented`.
async fn operator_by_token(db: &Db, presented: &TokenKey) -> Result<Option<Caller>, ApiError> {
    let row: Option<(Vec<u8>, i64, String, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT t.hash, o.id, o.name, o.role FROM tokens t \
         JOIN operators o ON o.id = t.operator_id \
         WHERE t.hash = ? AND o.revoked_at IS NULL",
    ))
    .bind(presented.as_slice())
    .fetch_optional(db.pool())
    .await?;
    let Some((stored, id, name, role)) = row else {
        return Ok(None);
    };
    if !bool::from(stored.as_slice().ct_eq(presented.as_slice())) {
        return Ok(None);
    }
    let role = role
        .parse()
        .map_err(|e| ApiError::internal(format!("operator {id}: {e}")))?;
    Ok(Some(Caller { id, name, role }))
}

/// Finds the channel holding the token hashed to `presented`.
async fn channel_by_token(
    db: &Db,
    presented: &TokenKey,
) -> Result<Option<ChannelCaller>, ApiError> {
    let row: Option<(Vec<u8>, i64, i64, String)> = sqlx::query_as(crate::sql::sql(
        "SELECT t.hash, t.id, c.id, c.name FROM channel_tokens t \
         JOIN channels c ON c.id = t.channel_id WHERE t.hash = ?",
    ))
    .bind(presented.as_slice())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|(stored, token_id, channel_id, channel)| {
        bool::from(stored.as_slice().ct_eq(presented.as_slice())).then_some(ChannelCaller {
            token_id,
            channel_id,
            channel,
        })
    }))
}

/// The client's address, when the server knows the connection.
fn client_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// 429 with `Retry-After`, for a token or address with too many failures.
fn too_many_failures(wait: std::time::Duration) -> Response {
    let secs = retry_after_secs(wait);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many failed sign-ins from this token or address; retry in {secs} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// The presented token, checked against the failed-sign-in limits: `Err` is
/// the answer to give at once (401 without a usable header, 429 when limited).
fn presented(state: &AppState, parts: &Parts) -> Result<(Option<IpAddr>, TokenKey), Box<Response>> {
    let address = client_address(parts);
    match bearer(parts) {
        Ok(token) => {
            let key = token_hash(token);
            match state.failed_auth.refused(address, Some(&key)) {
                Some(wait) => Err(Box::new(too_many_failures(wait))),
                None => Ok((address, key)),
            }
        }
        Err(e) => {
            if let Some(wait) = state.failed_auth.refused(address, None) {
                return Err(Box::new(too_many_failures(wait)));
            }
            state.failed_auth.failed(address, None);
            Err(Box::new(e.into_response()))
        }
    }
}

/// Middleware: answers 401 unless the request carries a valid operator token
/// of an operator not revoked, and hands the operator to the handler. Failed
/// attempts are counted; too many answer 429 (see [`crate::auth_limit`]).
pub(crate) async fn require_operator(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let (address, key) = match presented(&state, &parts) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    match operator_by_token(&state.db, &key).await {
        Ok(Some(caller)) => {
            state.failed_auth.succeeded(&key);
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => {
            state.failed_auth.failed(address, Some(&key));
            let detail = match bearer(&parts) {
                Ok(t) if t.starts_with(CHANNEL_TOKEN_PREFIX) => {
                    "a channel token only works on its channel's inbound path"
                }
                _ => "the token is not valid (revoked, rotated or mistyped)",
            };
            ApiError::unauthorized(detail).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Middleware of `/channels/{channel}/inbound`: answers 401 unless the request
/// carries a channel token, 403 for an operator's token (operators do not
/// post as customers), and hands the channel to the handler, which checks it
/// is the channel of the path.
pub(crate) async fn require_channel(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let (address, key) = match presented(&state, &parts) {
        Ok(p) => p,
        Err(answer) => return *answer,
    };
    match channel_by_token(&state.db, &key).await {
        Ok(Some(channel)) => {
            state.failed_auth.succeeded(&key);
            parts.extensions.insert(channel);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => match operator_by_token(&state.db, &key).await {
            Ok(Some(_)) => ApiError::new(
                StatusCode::FORBIDDEN,
                "customer messages are posted with the channel's token \
                 (`deskterm channel add NAME` prints it), not an operator's",
            )
            .into_response(),
            Ok(None) => {
                state.failed_auth.failed(address, Some(&key));
                ApiError::unauthorized("the channel token is not valid").into_response()
            }
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ChannelCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ChannelCaller, ApiError> {
        parts
            .extensions
            .get::<ChannelCaller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("a route is missing the channel check"))
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
        let a = new_token(TOKEN_PREFIX).unwrap();
        let b = new_token(TOKEN_PREFIX).unwrap();
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
