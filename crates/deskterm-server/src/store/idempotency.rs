//! Answers to creates and sends made with an `Idempotency-Key`, kept so a
//! retry of the same request gets the same answer instead of a second copy.
//! A key reused for a different request is refused with 422, as the IETF
//! draft on the header says, instead of answering for a body never stored.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use deskterm_api::{IDEMPOTENCY_KEY_HEADER, OperatorId};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::db::WriteTx;
use crate::problem::ApiError;
use crate::time;

/// A successful write's answer, as sent and as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    status: StatusCode,
    body: String,
    location: Option<String>,
    etag: Option<String>,
}

impl Answer {
    /// An answer with a JSON body.
    pub(crate) fn json(status: StatusCode, body: &impl Serialize) -> Result<Answer, ApiError> {
        Ok(Answer {
            status,
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
            location: None,
            etag: None,
        })
    }

    /// Adds a `Location` header.
    pub(crate) fn location(mut self, location: String) -> Answer {
        self.location = Some(location);
        self
    }

    /// Adds an `ETag` header.
    pub(crate) fn etag(mut self, etag: String) -> Answer {
        self.etag = Some(etag);
        self
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in [(header::LOCATION, self.location), (header::ETAG, self.etag)] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// Who a key belongs to: an operator, or a channel posting customers'
/// messages. Two owners never share a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Operator(OperatorId),
    Channel(i64),
}

impl Owner {
    /// As stored in `idempotency_keys.owner`.
    fn as_db(self) -> String {
        match self {
            Owner::Operator(id) => format!("operator:{id}"),
            Owner::Channel(id) => format!("channel:{id}"),
        }
    }
}

/// Where a key applies: the same key on another route is another request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) owner: Owner,
    /// Method and path, e.g. `POST /tickets`.
    pub(crate) route: String,
    pub(crate) key: String,
    /// SHA-256 (hex) of the route and the request body as read, so a reuse
    /// of the key with another request is told from a retry.
    pub(crate) request_hash: String,
}

impl Scope {
    /// The scope of a request by `owner` on `route` with `body`, when it
    /// carries a key. The body is hashed as read (re-serialized), so a retry
    /// that only spaces or orders its fields differently is the same request.
    pub(crate) fn of(
        owner: Owner,
        route: String,
        key: Option<String>,
        body: &impl Serialize,
    ) -> Result<Option<Scope>, ApiError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let body = serde_json::to_vec(body).map_err(ApiError::internal)?;
        let mut hash = Sha256::new();
        hash.update(route.as_bytes());
        hash.update(b"\n");
        hash.update(&body);
        Ok(Some(Scope {
            owner,
            route,
            key,
            request_hash: hex::encode(hash.finalize()),
        }))
    }
}

/// 422: the key was first used for another request.
fn reused_key() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "this {IDEMPOTENCY_KEY_HEADER} was already used for a different request; \
             use a new key for a new request"
        ),
    )
}

/// The answer given earlier to this key, if there is a key and it was seen
/// with the same request; 422 if it was seen with another one.
pub(crate) async fn find(
    conn: &mut AnyConnection,
    scope: Option<&Scope>,
) -> Result<Option<Answer>, ApiError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    type Row = (i64, String, Option<String>, Option<String>, Option<String>);
    let row: Option<Row> = sqlx::query_as(crate::sql::sql(
        "SELECT status, body, location, etag, request_hash FROM idempotency_keys \
         WHERE owner = ? AND scope = ? AND key = ?",
    ))
    .bind(scope.owner.as_db())
    .bind(&scope.route)
    .bind(&scope.key)
    .fetch_optional(conn)
    .await?;
    row.map(|(status, body, location, etag, request_hash)| {
        // Keys stored before requests were hashed replay as they always did.
        if request_hash.is_some_and(|h| h != scope.request_hash) {
            return Err(reused_key());
        }
        let status = u16::try_from(status)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| ApiError::internal(format!("bad stored status {status}")))?;
        Ok(Answer {
            status,
            body,
            location,
            etag,
        })
    })
    .transpose()
}

/// Keeps `answer` for this key, if there is one, and commits the write:
/// both land or neither, so a replay finds the answer of exactly the write
/// that happened.
pub(crate) async fn commit_with(
    mut tx: WriteTx,
    scope: Option<&Scope>,
    answer: Answer,
) -> Result<Answer, ApiError> {
    remember(tx.conn(), scope, &answer).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn remember(
    conn: &mut AnyConnection,
    scope: Option<&Scope>,
    answer: &Answer,
) -> Result<(), ApiError> {
    let Some(scope) = scope else {
        return Ok(());
    };
    sqlx::query(crate::sql::sql(
        "INSERT INTO idempotency_keys (owner, scope, key, request_hash, status, body, \
             location, etag, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ))
    .bind(scope.owner.as_db())
    .bind(&scope.route)
    .bind(&scope.key)
    .bind(&scope.request_hash)
    .bind(i64::from(answer.status.as_u16()))
    .bind(&answer.body)
    .bind(&answer.location)
    .bind(&answer.etag)
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the answers given before `before`; how many. A retry after that
/// is taken as a new request.
pub(crate) async fn prune(
    conn: &mut AnyConnection,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(crate::sql::sql(
        "DELETE FROM idempotency_keys WHERE created_at < ?",
    ))
    .bind(time::to_db(before))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
