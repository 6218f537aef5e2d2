//! `GET /events`: the change feed as Server-Sent Events.
//!
//! A stream starts after the client's cursor (`Last-Event-ID`, or `?since=`,
//! or the newest change when it has none). It subscribes to live
//! announcements *before* reading the stored backlog, then sends every
//! change exactly once and in order: announcements at or below the last
//! change sent are skipped, and whenever one does not follow on directly
//! (the stream lagged, or another process wrote) the table is read again.
//! The stream ends when the server stops or the client goes away.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use deskterm_api::{Change, Resync, SSE_EVENT_CHANGE, SSE_EVENT_RESYNC};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use crate::db::Db;
use crate::extract::Params;
use crate::feed;
use crate::problem::{ApiError, ApiResult};

/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a stream looks at the table for changes written by another
/// process to an SQLite file (a command-line tool, a second server). On
/// PostgreSQL every writer tells every server (`NOTIFY`), so streams do not
/// look by themselves.
const RECHECK: Duration = Duration::from_secs(5);
/// Changes read from the table at a time.
const BATCH: u32 = 500;
/// Events buffered for a slow client before the stream waits for it.
const BUFFER: usize = 64;

/// Query of `GET /events`.
#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    #[serde(default)]
    since: Option<i64>,
}

type Events = mpsc::Sender<Result<Event, Infallible>>;

/// Opens the stream.
pub(super) async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<EventsQuery>,
) -> ApiResult<Response> {
    let cursor = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be a change seq"))?,
        ),
        None => query.since,
    };
    // Subscribe first: a change committed while the backlog is read is then not missed.
    let live = state.db.subscribe();
    let bounds = feed::bounds(state.db.pool()).await?;
    let (start, resync) = match cursor {
        None => (bounds.latest, false),
        Some(since) if bounds.usable(since) => (since, false),
        Some(_) => (bounds.latest, true),
    };
    let (events, receiver) = mpsc::channel(BUFFER);
    let (db, stopping) = (state.db.clone(), state.stopping.subscribe());
    tokio::spawn(async move {
        // However it ends, the stream is over; nothing to report.
        let _ = follow(db, live, start, resync, stopping, events).await;
    });
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Why a stream stops.
struct Gone;

async fn send(events: &Events, event: Event) -> Result<(), Gone> {
    events.send(Ok(event)).await.map_err(|_| Gone)
}

async fn send_change(events: &Events, change: &Change) -> Result<(), Gone> {
    let data = match serde_json::to_string(change) {
        Ok(data) => data,
        Err(e) => {
            tracing::error!("change {} not serializable: {e}", change.seq);
            return Err(Gone);
        }
    };
    let event = Event::default()
        .event(SSE_EVENT_CHANGE)
        .id(change.seq.to_string())
        .data(data);
    send(events, event).await
}

/// Sends every stored change after `last`, moving `last` along.
async fn catch_up(db: &Db, last: &mut i64, events: &Events) -> Result<(), Gone> {
    loop {
        let batch = match feed::after(db.pool(), *last, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!("live stream cannot read the change feed: {e}");
                return Err(Gone);
            }
        };
        for change in &batch {
            send_change(events, change).await?;
            *last = change.seq;
        }
        if batch.len() < BATCH as usize {
            return Ok(());
        }
    }
}

async fn stopped(mut stopping: watch::Receiver<bool>) {
    // An error means the server state is gone: stop as well.
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

/// Feeds one stream until the client leaves or the server stops (both end it with [`Gone`]).
async fn follow(
    db: Db,
    mut live: broadcast::Receiver<Arc<Change>>,
    mut last: i64,
    resync: bool,
    stopping: watch::Receiver<bool>,
    events: Events,
) -> Result<(), Gone> {
    let stopped = stopped(stopping);
    tokio::pin!(stopped);
    if resync {
        let data = serde_json::to_string(&Resync { latest_seq: last }).map_err(|_| Gone)?;
        let event = Event::default()
            .event(SSE_EVENT_RESYNC)
            .id(last.to_string())
            .data(data);
        send(&events, event).await?;
    }
    catch_up(&db, &mut last, &events).await?;
    let rechecks = crate::sql::dialect() != crate::sql::Dialect::Postgres;
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    recheck.reset();
    loop {
        tokio::select! {
            _ = &mut stopped => return Err(Gone),
            _ = events.closed() => return Err(Gone),
            _ = recheck.tick(), if rechecks => catch_up(&db, &mut last, &events).await?,
            received = live.recv() => match received {
                Ok(change) if change.seq <= last => {}
                Ok(change) if change.seq == last + 1 => {
                    send_change(&events, &change).await?;
                    last = change.seq;
                }
                // A gap: read what is missing from the table.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    catch_up(&db, &mut last, &events).await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Err(Gone),
            },
        }
    }
}
