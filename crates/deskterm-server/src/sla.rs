//! Service levels, `[sla]` in the server's configuration file: response and
//! resolution targets per priority (and per category), the share of a
//! target left when a ticket is "at risk", and the statuses that pause the
//! clock.
//!
//! The rules, applied in the transaction of every change to a ticket:
//! - until an operator first answers the customer in the chat, the ticket is
//!   due the response target after it was opened; from then on, the
//!   resolution target after it was opened;
//! - while it is in a pausing status (`pending` by default) the clock
//!   stops, and the due time moves by as long as it stood still;
//! - a closed ticket has no due time; reopened, it is due again by the rules;
//! - a change of priority or category takes the new targets.
//!
//! `sla_state` (ok, at_risk, breached) is computed by the server and kept
//! with the ticket; a timer wakes when the next ticket's state changes by
//! the passage of time alone and pushes that change to clients. Without
//! `[sla]`, due times stay as operators set them, and their state is still
//! kept (the at-risk window is then a share of the time from opening).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deskterm_api::{ChangeKind, Priority, SlaState, TicketId};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;

use crate::db::Db;
use crate::time;

/// A duration as written in the configuration: `90s`, `30m`, `4h`, `2d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let text = String::deserialize(d)?;
        parse_span(&text)
            .map(Span)
            .map_err(serde::de::Error::custom)
    }
}

/// `90s`, `30m`, `4h`, `2d` (a whole number and a unit).
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} needs a unit: s, m, h or d (as in \"4h\")"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a number followed by s, m, h or d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    if seconds == 0 || seconds > 366 * 86_400 {
        return Err(format!("{text:?} is not between 1 second and a year"));
    }
    Ok(Duration::from_secs(seconds))
}

/// A target per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// For `low`.
    pub low: Span,
    /// For `normal`.
    pub normal: Span,
    /// For `high`.
    pub high: Span,
    /// For `urgent`.
    pub urgent: Span,
}

impl Targets {
    fn of(&self, p: Priority) -> Duration {
        match p {
            Priority::Low => self.low.0,
            Priority::Normal => self.normal.0,
            Priority::High => self.high.0,
            Priority::Urgent => self.urgent.0,
        }
    }
}

/// Targets of one category, replacing the general ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryTargets {
    /// Response targets.
    pub response: Option<Targets>,
    /// Resolution targets.
    pub resolution: Option<Targets>,
}

/// `[sla]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// Until the first answer.
    pub response: Targets,
    /// From the first answer on, to closing.
    pub resolution: Targets,
    /// The share of the target left when a ticket is at risk (0 to 1).
    #[serde(default = "default_at_risk")]
    pub at_risk: f64,
    /// Status keys that stop the clock.
    #[serde(default = "default_paused")]
    pub paused: Vec<String>,
    /// Targets per category name (any case).
    #[serde(default)]
    pub category: BTreeMap<String, CategoryTargets>,
}

fn default_at_risk() -> f64 {
    0.25
}

fn default_paused() -> Vec<String> {
    vec!["pending".to_owned()]
}

impl SlaSettings {
    /// What the types alone cannot check.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.at_risk) {
            return Err(format!(
                "[sla] at_risk is a share from 0 to below 1, not {}",
                self.at_risk
            ));
        }
        Ok(())
    }

    fn target(&self, category: Option<&str>, priority: Priority, answered: bool) -> Duration {
        let own = category.and_then(|c| {
            self.category
                .iter()
                .find(|(name, _)| name.to_lowercase() == c.to_lowercase())
                .map(|(_, t)| t)
        });
        let targets = if answered {
            own.and_then(|t| t.resolution).unwrap_or(self.resolution)
        } else {
            own.and_then(|t| t.response).unwrap_or(self.response)
        };
        targets.of(priority)
    }
}

/// A stored state.
pub(crate) fn state_from_db(text: Option<String>) -> Result<Option<SlaState>, sqlx::Error> {
    Ok(match text.as_deref() {
        None => None,
        Some("ok") => Some(SlaState::Ok),
        Some("at_risk") => Some(SlaState::AtRisk),
        Some("breached") => Some(SlaState::Breached),
        Some(other) => {
            return Err(sqlx::Error::Decode(
                format!("bad stored SLA state {other:?}").into(),
            ));
        }
    })
}

/// The state at `now` of a ticket due at `due`, its at-risk window
/// `window` long; and when it changes next by time alone.
fn state_at(
    due: DateTime<Utc>,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> (SlaState, Option<DateTime<Utc>>) {
    let at_risk = due - window;
    if now >= due {
        (SlaState::Breached, None)
    } else if now >= at_risk {
        (SlaState::AtRisk, Some(due))
    } else {
        (SlaState::Ok, Some(at_risk))
    }
}

fn seconds(d: chrono::Duration) -> i64 {
    d.num_seconds().max(0)
}

/// Applies the rules to ticket `id` as it is now in `conn`'s transaction:
/// its due time (by `[sla]` when configured), its pause, its state and when
/// the state changes next. True when the due time or the state changed.
pub(crate) async fn refresh(
    conn: &mut AnyConnection,
    id: TicketId,
    settings: Option<&SlaSettings>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let Some(row) = sqlx::query(crate::sql::sql(
        "SELECT t.status, t.priority, c.name AS category, t.created_at, t.first_response_at, \
                t.closed_at, t.sla_due_at, t.sla_state, t.sla_target_seconds, \
                t.sla_paused_since, t.sla_paused_seconds, s.macro \
         FROM tickets t LEFT JOIN categories c ON c.id = t.category_id \
         LEFT JOIN statuses s ON s.key = t.status WHERE t.id = ?",
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(false);
    };
    let status: String = row.try_get("status")?;
    let rank: i64 = row.try_get("priority")?;
    let priority = Priority::ALL
        .into_iter()
        .find(|p| i64::from(p.rank()) == rank)
        .unwrap_or(Priority::Normal);
    let category: Option<String> = row.try_get("category")?;
    let created = time::from_db(row.try_get("created_at")?)?;
    let answered = row
        .try_get::<Option<String>, _>("first_response_at")?
        .is_some();
    let closed = row.try_get::<Option<String>, _>("closed_at")?.is_some()
        || row.try_get::<Option<String>, _>("macro")?.as_deref() == Some("closed");
    let due_before = time::from_db_opt(row.try_get("sla_due_at")?)?;
    let state_before = state_from_db(row.try_get("sla_state")?)?;
    let mut target: Option<i64> = row.try_get("sla_target_seconds")?;
    let mut paused_since = time::from_db_opt(row.try_get("sla_paused_since")?)?;
    let mut paused_seconds: i64 = row.try_get("sla_paused_seconds")?;

    let mut due = due_before;
    let mut frozen = false;
    if let Some(sla) = settings {
        let pausing = sla.paused.contains(&status);
        if closed {
            due = None;
            target = None;
            paused_since = None;
        } else if pausing {
            // The clock stops; the due time moves when it starts again.
            paused_since.get_or_insert(now);
            frozen = true;
        } else {
            if let Some(since) = paused_since.take() {
                paused_seconds += seconds(now - since);
            }
            let t = sla.target(category.as_deref(), priority, answered);
            let t = i64::try_from(t.as_secs()).unwrap_or(i64::MAX / 4);
            target = Some(t);
            due = Some(created + chrono::Duration::seconds(t + paused_seconds));
        }
    } else if closed {
        // Without [sla], a closed ticket's state is no longer kept.
        frozen = false;
    }
    let at_risk = settings.map_or(default_at_risk(), |s| s.at_risk);
    let (state, next) = match due {
        Some(_) if closed => (None, None),
        None => (None, None),
        Some(_) if frozen => (state_before, None),
        Some(due) => {
            let span = target.map_or_else(|| due - created, chrono::Duration::seconds);
            let window = chrono::Duration::milliseconds(
                (span.num_milliseconds().max(0) as f64 * at_risk) as i64,
            );
            let (state, next) = state_at(due, window, now);
            (Some(state), next)
        }
    };
    sqlx::query(crate::sql::sql(
        "UPDATE tickets SET sla_due_at = ?, sla_state = ?, sla_target_seconds = ?, \
             sla_paused_since = ?, sla_paused_seconds = ?, sla_next_at = ? WHERE id = ?",
    ))
    .bind(due.map(time::to_db))
    .bind(state.map(SlaState::as_str))
    .bind(target)
    .bind(paused_since.map(time::to_db))
    .bind(paused_seconds)
    .bind(next.map(time::to_db))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(due != due_before || state != state_before)
}

/// `sla_next_at` of a ticket whose state was never computed (migration 0009).
const NEVER: &str = "0000-01-01T00:00:00.000Z";

/// The longest the timer sleeps without looking (a ticket written by
/// another process, or by a write that did not wake it).
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// Keeps states right as time passes: wakes when the next ticket's state
/// changes, when any change is made (it may have set an earlier one), or at
/// the latest every minute; brings the due tickets' states
/// up to date, and pushes each change to clients. Ends when the server stops.
pub(crate) async fn run(
    db: Db,
    settings: Option<SlaSettings>,
    mut stopping: watch::Receiver<bool>,
) {
    // Every change may have set an earlier next time: look again then.
    let mut changes = db.subscribe();
    loop {
        let next: Option<String> = match sqlx::query_scalar(crate::sql::sql(
            "SELECT min(sla_next_at) FROM tickets WHERE sla_next_at IS NOT NULL",
        ))
        .fetch_one(db.pool())
        .await
        {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!("SLA timer: {e}");
                None
            }
        };
        let now = time::now();
        let wait = next
            .and_then(|n| time::from_db(&n).ok())
            .map(|n| (n - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(LONGEST_SLEEP)
            .min(LONGEST_SLEEP);
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopping.wait_for(|s| *s) => return,
                change = changes.recv() => {
                    if matches!(change, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    continue;
                }
            }
        }
        if let Err(e) = pass(&db, settings.as_ref()).await {
            tracing::warn!("SLA timer: {e:#}");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    }
}

/// One pass: every ticket whose state is due to change, in one transaction.
async fn pass(db: &Db, settings: Option<&SlaSettings>) -> anyhow::Result<()> {
    let now = time::now();
    let mut tx = db.write().await?;
    let due: Vec<(TicketId, String)> = sqlx::query_as(
        crate::sql::sql("SELECT id, sla_next_at FROM tickets WHERE sla_next_at <= ? ORDER BY sla_next_at LIMIT 1000"),
    )
    .bind(time::to_db(now))
    .fetch_all(tx.conn())
    .await?;
    for (id, next) in due {
        // A ticket written in bulk (the demo, the generator, a migrated
        // database) gets its first state quietly: clients read it with the
        // ticket; a state that moves with time is pushed.
        let first = next == NEVER;
        if refresh(tx.conn(), id, settings, now).await?
            && !first
            && let Some(ticket) = crate::store::tickets::get(tx.conn(), id).await?
        {
            tx.record(now, ChangeKind::TicketUpserted(ticket)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_seconds_minutes_hours_and_days() {
        assert_eq!(parse_span("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_span("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_span(" 4h "), Ok(Duration::from_secs(14_400)));
        assert_eq!(parse_span("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["4", "h", "4w", "0m", "-3h", "400d", "4 h"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_state_follows_the_due_time_and_the_window() {
        let due = DateTime::from_timestamp(10_000, 0).unwrap_or_default();
        let window = chrono::Duration::seconds(1_000);
        let at = |s| DateTime::from_timestamp(s, 0).unwrap_or_default();
        assert_eq!(
            state_at(due, window, at(8_000)),
            (SlaState::Ok, Some(at(9_000)))
        );
        assert_eq!(
            state_at(due, window, at(9_000)),
            (SlaState::AtRisk, Some(due))
        );
        assert_eq!(
            state_at(due, window, at(10_000)),
            (SlaState::Breached, None)
        );
    }
}
