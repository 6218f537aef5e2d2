//! `GET /stats?from=&to=&category=&operator=`: the helpdesk in numbers (see
//! [`deskterm_api::Stats`]); any operator may read them.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Days, NaiveDate};
use deskterm_api::Stats;
use serde::Deserialize;

use super::AppState;
use crate::extract::Params;
use crate::problem::{ApiError, ApiResult};
use crate::store::{categories, operators, stats};

/// The period when none is asked: the last 30 days, today included.
const DEFAULT_DAYS: u64 = 30;
/// The longest period, in days.
const MAX_DAYS: i64 = 3_660;

/// Query of `GET /stats`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatsParams {
    /// First day (`YYYY-MM-DD`, or an RFC 3339 time: its UTC day).
    from: Option<String>,
    /// Last day, included (same forms).
    to: Option<String>,
    /// A category's name (any case), or `none`.
    category: Option<String>,
    /// An operator's id, or `none`.
    operator: Option<String>,
}

/// A day as given: `2026-11-24` or `2026-11-24T10:00:00Z`.
fn day(field: &str, text: &str) -> ApiResult<NaiveDate> {
    let text = text.trim();
    text.parse::<NaiveDate>()
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.to_utc().date_naive())
        })
        .ok_or_else(|| ApiError::invalid_field(field, "a day is YYYY-MM-DD (or an RFC 3339 time)"))
}

/// The numbers for the period and filters asked.
pub(super) async fn get(
    State(state): State<AppState>,
    Params(params): Params<StatsParams>,
) -> ApiResult<Json<Stats>> {
    let today = crate::time::now().date_naive();
    let last = match &params.to {
        Some(text) => day("to", text)?,
        None => today,
    };
    let to = last
        .checked_add_days(Days::new(1))
        .ok_or_else(|| ApiError::invalid_field("to", "that day is out of range"))?;
    let from = match &params.from {
        Some(text) => day("from", text)?,
        None => to
            .checked_sub_days(Days::new(DEFAULT_DAYS))
            .ok_or_else(|| ApiError::invalid_field("to", "that day is out of range"))?,
    };
    if from >= to {
        return Err(ApiError::invalid_field("from", "`from` is after `to`"));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::invalid_field(
            "from",
            format!("a period is at most {MAX_DAYS} days"),
        ));
    }
    if !crate::time::storable(from.and_time(chrono::NaiveTime::MIN).and_utc())
        || !crate::time::storable(to.and_time(chrono::NaiveTime::MIN).and_utc())
    {
        return Err(ApiError::invalid_field("from", "that day is out of range"));
    }
    let pool = state.db.pool();
    let mut filter = stats::Filter::default();
    if let Some(text) = &params.category {
        let text = text.trim();
        filter.category = Some(if text.eq_ignore_ascii_case("none") {
            None
        } else {
            let found = categories::all(pool)
                .await?
                .into_iter()
                .find(|c| c.name.to_lowercase() == text.to_lowercase())
                .ok_or_else(|| {
                    ApiError::invalid_field("category", format!("there is no category {text:?}"))
                })?;
            Some(found.id)
        });
    }
    if let Some(text) = &params.operator {
        let text = text.trim();
        filter.operator = Some(if text.eq_ignore_ascii_case("none") {
            None
        } else {
            let id: i64 = text.parse().map_err(|_| {
                ApiError::invalid_field("operator", "an operator is an id, or `none`")
            })?;
            if !operators::exists(pool, id).await? {
                return Err(ApiError::invalid_field(
                    "operator",
                    format!("there is no operator {id}"),
                ));
            }
            Some(id)
        });
    }
    Ok(Json(stats::compute(pool, from, to, filter).await?))
}
