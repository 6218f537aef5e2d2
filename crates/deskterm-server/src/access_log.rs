//! The request log: method, path, status and time at `info`; the query
//! string only at `debug`, since search terms (`?q=ana…`) are customer data.

use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, OnRequest, TraceLayer};
use tracing::{Level, Span};

/// The layer that logs every request.
pub(crate) type AccessLog =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, QueryAtDebug>;

/// Logs every request, its query only at `debug`.
pub(crate) fn layer() -> AccessLog {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(QueryAtDebug)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

/// A request's span: its method and path, never its query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = request.uri().path(),
        )
    }
}

/// The query of a request, logged at `debug` inside its span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryAtDebug;

impl<B> OnRequest<B> for QueryAtDebug {
    fn on_request(&mut self, request: &Request<B>, _span: &Span) {
        if let Some(query) = request.uri().query() {
            tracing::debug!(query, "request query");
        }
    }
}
