//! Answers to creates and sends made with an `Idempotency-Key`, kept so a
//! retry of the same request gets the same answer instead of a second copy.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskterm_api::OperatorId;
use serde::Serialize;
use sqlx::SqliteConnection;

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

/// Where a key applies: the same key on another route is another request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) operator: OperatorId,
    /// Method and path, e.g. `POST /tickets`.
    pub(crate) route: String,
    pub(crate) key: String,
}

impl Scope {
    /// The scope of a request by `operator` on `route`, when it carries a key.
    pub(crate) fn of(operator: OperatorId, route: String, key: Option<String>) -> Option<Scope> {
        key.map(|key| Scope {
            operator,
            route,
            key,
        })
    }
}

/// The answer given earlier to this key, if there is a key and it was seen.
pub(crate) async fn find(
    conn: &mut SqliteConnection,
    scope: Option<&Scope>,
) -> Result<Option<Answer>, ApiError> {
    let Some(scope) = scope else {
        return Ok(None);
    };
    let row: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT status, body, location, etag FROM idempotency_keys \
         WHERE operator_id = ? AND scope = ? AND key = ?",
    )
    .bind(scope.operator)
    .bind(&scope.route)
    .bind(&scope.key)
    .fetch_optional(conn)
    .await?;
    row.map(|(status, body, location, etag)| {
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
    conn: &mut SqliteConnection,
    scope: Option<&Scope>,
    answer: &Answer,
) -> Result<(), ApiError> {
    let Some(scope) = scope else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO idempotency_keys (operator_id, scope, key, status, body, location, etag, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(scope.operator)
    .bind(&scope.route)
    .bind(&scope.key)
    .bind(i64::from(answer.status.as_u16()))
    .bind(&answer.body)
    .bind(&answer.location)
    .bind(&answer.etag)
    .bind(time::to_db(time::now()))
    .execute(conn)
    .await?;
    Ok(())
}
