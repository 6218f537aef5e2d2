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
        let message = if inner.is_data() {
            strip_position(&inner.to_string())
        } else if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            // serde_json calls some wrong types syntax errors (`false` for
            // an enum); valid JSON of the wrong shape is still a shape error.
            "the value has the wrong type".to_owned()
        } else {
            return ApiError::bad_request(format!("the body is not valid JSON: {inner}"));
        };
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
        let e = parse_json::<NewTicket>(br#"{"title": "x", "contact_id": 1, "priority": false}"#)
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = serde_json::to_value(ProblemOf(e)).unwrap();
        assert_eq!(body["errors"]["priority"], "the value has the wrong type");
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

/// Property tests: the extractors take whatever a client sends without
/// panicking. 512 cases each unless `PROPTEST_CASES` says otherwise.
#[cfg(test)]
mod properties {
    use super::*;
    use axum::http::{HeaderValue, Request};
    use deskterm_api::{
        InboundMessage, MePatch, NewContact, NewMessage, NewNote, NewStatus, NewTicket, TicketPatch,
    };
    use futures_util::FutureExt;
    use proptest::prelude::*;
    use serde_json::Value;

    fn config() -> ProptestConfig {
        let mut config = ProptestConfig::default();
        if std::env::var_os("PROPTEST_CASES").is_none() {
            config.cases = 512;
        }
        config.failure_persistence = None;
        config
    }

    /// Any JSON value, nested a few levels.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("title".to_owned()),
                        Just("body".to_owned()),
                        Just("priority".to_owned()),
                        Just("contact_id".to_owned()),
                        "[a-z_]{1,12}",
                    ],
                    inner,
                    0..8
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Parses `bytes` as every body type; panics if any accepts a non-object.
    fn parse_as_every_body(bytes: &[u8]) -> Vec<Result<(), ApiError>> {
        fn one<T: DeserializeOwned>(bytes: &[u8]) -> Result<(), ApiError> {
            parse_json::<T>(bytes).map(|_| ())
        }
        vec![
            one::<NewTicket>(bytes),
            one::<TicketPatch>(bytes),
            one::<NewNote>(bytes),
            one::<NewContact>(bytes),
            one::<NewMessage>(bytes),
            one::<InboundMessage>(bytes),
            one::<NewStatus>(bytes),
            one::<MePatch>(bytes),
        ]
    }

    fn is_object(bytes: &[u8]) -> bool {
        matches!(serde_json::from_slice::<Value>(bytes), Ok(Value::Object(_)))
    }

    fn parts_with(name: &str, value: &[u8]) -> Option<Parts> {
        let value = HeaderValue::from_bytes(value).ok()?;
        let (parts, ()) = Request::builder()
            .header(name, value)
            .body(())
            .ok()?
            .into_parts();
        Some(parts)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn bodies_of_any_bytes_never_panic_and_only_objects_pass(
            bytes in prop::collection::vec(any::<u8>(), 0..256)
        ) {
            for result in parse_as_every_body(&bytes) {
                if result.is_ok() {
                    prop_assert!(is_object(&bytes), "accepted {:?}", String::from_utf8_lossy(&bytes));
                }
            }
        }

        #[test]
        fn valid_json_is_422_unless_an_object_of_the_right_shape(value in json_value(), pad in "[ \t\r\n]{0,3}") {
            let text = format!("{pad}{value}{pad}");
            for result in parse_as_every_body(text.as_bytes()) {
                match result {
                    Ok(()) => prop_assert!(value.is_object(), "accepted {text}"),
                    Err(e) => prop_assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", text),
                }
            }
        }

        #[test]
        fn if_match_of_any_value_never_panics(value in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Some(mut parts) = parts_with("if-match", &value) {
                let got = IfMatch::from_request_parts(&mut parts, &()).now_or_never();
                let got = got.expect("no waiting").expect("If-Match is never refused");
                prop_assert_ne!(got, IfMatch::Missing);
            }
        }

        #[test]
        fn idempotency_keys_of_any_value_never_panic(value in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Some(mut parts) = parts_with(IDEMPOTENCY_KEY_HEADER, &value) {
                let got = IdempotencyKey::from_request_parts(&mut parts, &()).now_or_never();
                match got.expect("no waiting") {
                    Ok(IdempotencyKey(Some(key))) => {
                        prop_assert!(!key.is_empty() && key.len() <= IDEMPOTENCY_KEY_MAX);
                        prop_assert_eq!(key.trim(), key.as_str());
                    }
                    Ok(IdempotencyKey(None)) => prop_assert!(false, "a key header read as none"),
                    Err(e) => prop_assert_eq!(e.status(), StatusCode::BAD_REQUEST),
                }
            }
        }
    }
}
