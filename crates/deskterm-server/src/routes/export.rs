//! `GET /tickets/export`: every ticket, as one snapshot consistent with a
//! change-feed cursor, streamed as newline-delimited JSON (the format is
//! described at [`deskterm_api::TICKET_EXPORT_PATH`]).
//!
//! The export runs in a read transaction on a connection of its own
//! ([`crate::db::Db::snapshot`]): the feed's position, the count and the
//! tickets all come from the database as it was at its first read, while
//! writers go on. A task reads the tickets most recently updated first (a
//! client's default list is complete on its first screen after the first
//! batch), a batch at a time (SQLite writes their JSON,
//! [`tickets::json_lines_after`]), and hands the
//! connection each batch through a small channel, so the server holds a few
//! batches per export whatever the number of tickets, and reading waits
//! while a slow client catches up. When the client goes away the channel
//! closes, the task stops at its next batch and the transaction ends with it.

use std::io;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskterm_api::{ExportHeader, ExportTrailer, NDJSON_CONTENT_TYPE};
use serde::Serialize;
use sqlx::{Any, Transaction};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use crate::extract::Params;
use crate::problem::{ApiError, ApiResult};
use crate::store::tickets;
use crate::time;

/// Tickets read, written as JSON and handed to the connection at a time:
/// about 100 KB of ordinary tickets (at most some 15 MB of the largest).
const BATCH: u32 = 128;
/// Batches read ahead of the client; past them the reading waits.
const CHUNKS_AHEAD: usize = 2;
/// What a refused export tells its client to wait before trying again, in seconds.
const RETRY_AFTER_SECS: u32 = 5;

type Chunks = mpsc::Sender<Result<Bytes, io::Error>>;

/// What an export may be narrowed to.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportParams {
    /// Leave out tickets closed before this time (RFC 3339): the client
    /// replicates only what was closed since.
    closed_since: Option<String>,
}

/// Starts the export: the header is read before the answer starts, the
/// tickets follow as they are read.
pub(super) async fn export(
    State(state): State<AppState>,
    Params(params): Params<ExportParams>,
) -> ApiResult<Response> {
    let closed_since = match params.closed_since.as_deref() {
        None => None,
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| time::to_db(t.with_timezone(&chrono::Utc)))
                .map_err(|e| {
                    ApiError::invalid_field(
                        "closed_since",
                        format!("not a time like 2026-01-31T00:00:00Z: {e}"),
                    )
                })?,
        ),
    };
    let mut snapshot = match state.db.snapshot().await {
        Ok(snapshot) => snapshot,
        Err(sqlx::Error::PoolTimedOut) => return Ok(busy()),
        Err(e) => return Err(e.into()),
    };
    // The first read fixes the snapshot, so the cursor and the count are the
    // ones of the tickets that follow.
    // (The latest `seq` as `feed::bounds` reads it.)
    let (since, total): (i64, i64) = sqlx::query_as(crate::sql::sql(crate::sql::pick(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), \
                         (SELECT MAX(seq) FROM changes), 0), \
                (SELECT COUNT(*) FROM tickets \
                 WHERE ?1 IS NULL OR closed_at IS NULL OR closed_at >= ?1)",
        "SELECT COALESCE((SELECT MAX(seq) FROM changes), 0), \
                (SELECT COUNT(*) FROM tickets \
                 WHERE ?1::text IS NULL OR closed_at IS NULL OR closed_at >= ?1)",
    )))
    .bind(closed_since.as_deref())
    .fetch_one(&mut *snapshot)
    .await?;
    let header = ExportHeader {
        since,
        total: u64::try_from(total).unwrap_or_default(),
    };
    let mut first = Vec::new();
    line(&mut first, &header).map_err(ApiError::internal)?;
    let (chunks, body) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(send_tickets(snapshot, header, closed_since, first, chunks));
    let mut response = Body::from_stream(ReceiverStream::new(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(NDJSON_CONTENT_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// 503: every export connection stayed taken for the whole wait.
fn busy() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "other ticket exports are under way; try again shortly",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// Appends `value` as one JSON line.
fn line(out: &mut Vec<u8>, value: &impl Serialize) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, value)?;
    out.push(b'\n');
    Ok(())
}

/// Sends the header chunk `first`, the tickets of `snapshot` and the
/// trailer. Any failure cuts the answer short, without a trailer, which the
/// client reads as an incomplete export.
async fn send_tickets(
    mut snapshot: Transaction<'static, Any>,
    header: ExportHeader,
    closed_since: Option<String>,
    first: Vec<u8>,
    chunks: Chunks,
) {
    // The header goes out at once: the client knows the export has started.
    if chunks.send(Ok(first.into())).await.is_err() {
        return;
    }
    let (mut after, mut count) = (None, 0u64);
    loop {
        let scope = closed_since.as_deref();
        match tickets::json_lines_after(&mut snapshot, after.as_ref(), scope, BATCH).await {
            Ok(Some(batch)) => {
                after = Some(batch.last);
                count += batch.count;
                if chunks.send(Ok(batch.text.into())).await.is_err() {
                    // The client went away; dropping the snapshot ends the transaction.
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let at =
                    after.map_or_else(|| "the start".to_owned(), |a| format!("ticket {}", a.id));
                return cut(&chunks, format!("reading tickets after {at}: {e}")).await;
            }
        }
    }
    // Read-only: nothing to keep. Ending it before the last send frees the
    // snapshot even if the client is slow to take the end.
    if let Err(e) = snapshot.rollback().await {
        tracing::warn!("ending the export's read transaction: {e}");
    }
    if count != header.total {
        return cut(
            &chunks,
            format!("counted {} tickets but read {count}", header.total),
        )
        .await;
    }
    let mut end = Vec::new();
    if let Err(e) = line(&mut end, &ExportTrailer { count }) {
        return cut(&chunks, format!("the trailer: {e}")).await;
    }
    // Nobody listening any more is fine: the export is over either way.
    let _ = chunks.send(Ok(end.into())).await;
}

/// Logs why the export stops and breaks the answer off.
async fn cut(chunks: &Chunks, why: String) {
    tracing::error!("ticket export cut short: {why}");
    let _ = chunks.send(Err(io::Error::other(why))).await;
}
