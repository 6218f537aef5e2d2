//! `GET /tickets/{id}/history`: every change to a ticket, oldest first,
//! keyset-paged by entry id. A deleted ticket's history stays readable; a
//! ticket that never existed is 404.

use axum::Json;
use axum::extract::State;
use deskterm_api::{HistoryPage, TicketId};
use serde::Deserialize;

use super::AppState;
use super::contacts::page_limit;
use crate::extract::{Params, PathParam};
use crate::problem::{ApiError, ApiResult};
use crate::store::history;

/// Entries per page when the client does not say.
const DEFAULT_ENTRIES: u32 = 100;

/// Query of `GET /tickets/{id}/history`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HistoryParams {
    /// The previous page's `next_cursor`: entries after it.
    after: Option<String>,
    /// Page size, 1..=1000; 100 by default.
    limit: Option<u32>,
}

/// The entry id a cursor names; it is the id of the last entry seen.
fn cursor(after: Option<&str>) -> ApiResult<i64> {
    match after {
        None => Ok(0),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 0)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "the cursor `after` is not one this server gave out: pass the previous \
                     page's next_cursor",
                )
            }),
    }
}

/// One page of a ticket's history after the cursor, oldest first.
pub(super) async fn page(
    State(state): State<AppState>,
    PathParam(id): PathParam<TicketId>,
    Params(params): Params<HistoryParams>,
) -> ApiResult<Json<HistoryPage>> {
    let limit = page_limit(params.limit, DEFAULT_ENTRIES)?;
    let after = cursor(params.after.as_deref())?;
    let pool = state.db.pool();
    if !history::known(pool, id).await? {
        return Err(ApiError::not_found(format!("ticket {id}")));
    }
    // One more than asked tells whether a next page exists, without counting.
    let mut items = history::of_ticket(pool, id, after, limit.saturating_add(1)).await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(Json(HistoryPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_an_entry_id() {
        assert_eq!(cursor(None).unwrap(), 0);
        assert_eq!(cursor(Some("42")).unwrap(), 42);
        for bad in ["", "x", "-1", "1.5", "99999999999999999999"] {
            assert!(cursor(Some(bad)).is_err(), "{bad:?}");
        }
    }
}
