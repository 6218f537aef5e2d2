//! `GET /changes`: the change feed, page by page.

use axum::Json;
use axum::extract::State;
use deskterm_api::ChangesPage;
use serde::Deserialize;

use super::AppState;
use super::contacts::page_limit;
use crate::extract::Params;
use crate::feed;
use crate::problem::ApiResult;

/// Changes per page when the client does not say.
const DEFAULT_CHANGES: u32 = 100;

/// Query of `GET /changes`.
#[derive(Debug, Deserialize)]
pub(super) struct ChangesQuery {
    #[serde(default)]
    since: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// Changes after `since` (0 by default), oldest first; `resync` when the
/// cursor is from another database or older than what is kept.
pub(super) async fn page(
    State(state): State<AppState>,
    Params(query): Params<ChangesQuery>,
) -> ApiResult<Json<ChangesPage>> {
    let limit = page_limit(query.limit, DEFAULT_CHANGES)?;
    let since = query.since.unwrap_or(0);
    let pool = state.db.pool();
    let bounds = feed::bounds(pool).await?;
    if !bounds.usable(since) {
        return Ok(Json(ChangesPage {
            changes: Vec::new(),
            latest_seq: bounds.latest,
            resync: true,
        }));
    }
    let changes = feed::after(pool, since, limit).await?;
    // A write may have landed between the two reads.
    let latest_seq = changes
        .last()
        .map_or(bounds.latest, |c| c.seq.max(bounds.latest));
    Ok(Json(ChangesPage {
        changes,
        latest_seq,
        resync: false,
    }))
}
