//! Every error the API answers: an RFC 9457 problem document
//! (`application/problem+json`) with the matching status code.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskterm_api::{PROBLEM_CONTENT_TYPE, Problem, Ticket};

/// A failed request, ready to be answered.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    problem: Problem,
}

/// What handlers return.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A problem with `status` and a sentence saying what went wrong.
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Problem {
                type_uri: "about:blank".to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: Some(detail.into()),
                errors: BTreeMap::new(),
                current: None,
            },
        }
    }

    /// 400: the request cannot be read.
    pub(crate) fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no valid operator token.
    pub(crate) fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, detail)
    }

    /// 404: `what` does not exist.
    pub(crate) fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{} not found", what.into()))
    }

    /// 422 with one message per invalid field.
    pub(crate) fn invalid(errors: BTreeMap<String, String>) -> ApiError {
        let detail = if errors.len() == 1 {
            "a field is invalid".to_owned()
        } else {
            format!("{} fields are invalid", errors.len())
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail).with_errors(errors)
    }

    /// 422 about a single field.
    pub(crate) fn invalid_field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::invalid(BTreeMap::from([(field.to_owned(), message.into())]))
    }

    /// 409: the value of `field` is already taken.
    pub(crate) fn conflict(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::new(StatusCode::CONFLICT, message.clone())
            .with_errors(BTreeMap::from([(field.to_owned(), message)]))
    }

    /// 428: a write that needs `If-Match` came without it.
    pub(crate) fn precondition_required() -> ApiError {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "this write needs an If-Match header with the ticket's ETag",
        )
    }

    /// 412: the ticket changed since the client read it; `current` is how it is now.
    pub(crate) fn precondition_failed(current: Ticket) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "ticket {} changed meanwhile (now at version {})",
                current.reference, current.version
            ),
        );
        e.problem.current = Some(Box::new(current));
        e
    }

    /// 500: something broke on our side. The cause goes to the log, not to the client.
    pub(crate) fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!("request failed: {cause}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; its log says why",
        )
    }

    fn with_errors(mut self, errors: BTreeMap<String, String>) -> ApiError {
        self.problem.errors = errors;
        self
    }

    /// The problem document of the answer.
    #[cfg(test)]
    pub(crate) fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The status code of the answer.
    #[cfg(test)]
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.problem.fmt(f)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::internal(format!("database: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.problem) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!("problem document not serializable: {e}");
                br#"{"type":"about:blank","title":"Internal Server Error","status":500}"#.to_vec()
            }
        };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Collects field errors while a body is checked, then answers them all at once.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// Notes that `field` is invalid; the first message for a field is kept.
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// Adds `inner`'s errors as fields of `prefix` (`new_contact.email`).
    pub(crate) fn nest(&mut self, prefix: &str, inner: FieldErrors) {
        for (field, message) in inner.0 {
            self.add(&format!("{prefix}.{field}"), message);
        }
    }

    /// Whether nothing was invalid so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `field` already has an error.
    pub(crate) fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// `Ok` when nothing was invalid, else the 422 to answer.
    pub(crate) fn check(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}
