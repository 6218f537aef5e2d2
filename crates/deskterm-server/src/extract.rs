//! Request extractors that answer problem documents instead of axum's plain
//! text rejections: JSON bodies, query strings, path parameters, `If-Match`
//! and `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use deskterm_api::IDEMPOTENCY_KEY_HEADER;
use serde::de::DeserializeOwned;

use crate::limits::{BodyReadLimit, Limits};
use crate::problem::ApiError;

/// A JSON request body. Wrong content type is 415, unreadable JSON 400, a
/// body too large 413, one that does not arrive within the server's body
/// read limit 408, and JSON of the wrong shape 422 naming the field.
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let limit = request
            .extensions()
            .get::<BodyReadLimit>()
            .map_or(Limits::default().body_read, |l| l.0);
        let read = tokio::time::timeout(limit, Bytes::from_request(request, state)).await;
        let read = read.map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body did not arrive within {} s", limit.as_secs_f64()),
            )
        })?;
        let bytes = read.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the body is larger than {} bytes",
                        deskterm_api::REQUEST_BODY_MAX_BYTES
                    ),
                )
            } else {
                ApiError::bad_request(format!("the body could not be read: {}", e.body_text()))
            }
        })?;
        parse_json(&bytes).map(Body)
    }
}

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Reads a JSON object, telling syntax errors (400) from shape errors (422,
/// by field). Only an object is a request body: serde would also read a
/// struct from an array by position, so `["title", null, null, "urgent"]`
/// would silently become a patch.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    require_object(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if !inner.is_data() {
            return ApiError::bad_request(format!("the body is not valid JSON: {inner}"));
        }
        let message = strip_position(&inner.to_string());
        let path = e.path().to_string();
        let field = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.trim_end_matches('`');
                if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            }
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::invalid_field(&field, message)
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Refuses any body but an object: valid JSON of another kind is 422
/// naming it, and text that is not JSON at all is 400 (a struct read from a
/// broken array would otherwise report a field of an array).
fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Ok(());
    };
    let kind = match first {
        b'{' => return Ok(()),
        b'[' => "an array",
        b'"' => "a string",
        b'n' => "null",
        b't' | b'f' => "a boolean",
        _ => "a number",
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    Err(ApiError::invalid_field(
        "body",
        format!("the body must be a JSON object, not {kind}"),
    ))
}

/// serde_json messages end with " at line L column C"; a field map does not need that.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A query string; an unreadable one is 400.
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| Params(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A path parameter; one of the wrong type (`/tickets/abc`) is 404, since no such thing exists.
#[derive(Debug)]
pub(crate) struct PathParam<T>(pub(crate) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathParam(v))
            .map_err(|_| ApiError::not_found(format!("the resource {}", parts.uri.path())))
    }
}

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IfMatch {
    /// No header: the write is refused with 428.
    Missing,
    /// `*`: whatever the current version is.
    Any,
    /// A version; anything unreadable never matches.
    Version(Option<i64>),
}

impl IfMatch {
    /// Whether a ticket at `version` satisfies the precondition (`Missing` never does).
    pub(crate) fn matches(self, version: i64) -> bool {
        match self {
            IfMatch::Missing => false,
            IfMatch::Any => true,
            IfMatch::Version(v) => v == Some(version),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch::Missing);
        };
        let value = value.to_str().unwrap_or_default().trim();
        Ok(if value == "*" {
            IfMatch::Any
        } else {
            IfMatch::Version(deskterm_api::parse_etag(value))
        })
    }
}

/// The optional `Idempotency-Key` of a create or a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdempotencyKey(pub(crate) Option<String>);

/// Longest accepted idempotency key.
const IDEMPOTENCY_KEY_MAX: usize = 200;

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_KEY_HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let key = value.to_str().map(str::trim).unwrap_or_default();
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_MAX {
            return Err(ApiError::bad_request(format!(
                "the {IDEMPOTENCY_KEY_HEADER} header must hold 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters"
            )));
        }
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskterm_api::{NewStatus, NewTicket};

    #[test]
    fn syntax_is_400_and_shape_is_422_by_field() {
        let e = parse_json::<NewTicket>(b"{\"title\": ").unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e =
            parse_json::<NewTicket>(br#"{"title": "x", "contact_id": 1} trailing"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_json::<NewStatus>(br#"{"label": "Waiting"}"#).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = serde_json::to_value(ProblemOf(e)).unwrap();
        assert_eq!(body["errors"]["macro"], "missing field `macro`");
        let e = parse_json::<NewTicket>(br#"{"title": "x", "contact_id": 1, "priority": "asap"}"#)
            .unwrap_err();
        let body = serde_json::to_value(ProblemOf(e)).unwrap();
        assert!(
            body["errors"]["priority"]
                .as_str()
                .unwrap()
                .starts_with("unknown variant `asap`")
        );
    }

    #[test]
    fn json_content_types() {
        let v = |s: &'static str| header::HeaderValue::from_static(s);
        assert!(is_json(Some(&v("application/json"))));
        assert!(is_json(Some(&v("application/json; charset=utf-8"))));
        assert!(is_json(Some(&v("application/merge-patch+json"))));
        assert!(!is_json(Some(&v("text/plain"))));
        assert!(!is_json(None));
    }

    /// The problem document of an error, for assertions.
    struct ProblemOf(ApiError);

    impl serde::Serialize for ProblemOf {
        fn serialize<Ser: serde::Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
            self.0.problem().serialize(s)
        }
    }
}
