//! The numbers of `GET /stats`, each one aggregate query: what is open from
//! the counters kept by triggers (migration 0008), what happened in a
//! period from a range of an index on its time.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deskterm_api::{
    CategoryShare, CategoryTime, DayCount, MacroStatus, Priority, PriorityCount, ResponseTime,
    Stats, StatusCount,
};
use sqlx::SqlitePool;

use super::{categories, statuses};

/// Which tickets count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    /// One category (`Some(None)`: tickets without a category).
    pub(crate) category: Option<Option<i64>>,
    /// One operator (`Some(None)`: unassigned tickets).
    pub(crate) operator: Option<Option<i64>>,
}

impl Filter {
    /// SQL conditions on a ticket table aliased `t`, with their values.
    fn on_tickets(&self) -> (String, Vec<Option<i64>>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        for (column, value) in [
            ("category_id", self.category),
            ("operator_id", self.operator),
        ] {
            match value {
                None => {}
                Some(None) => sql.push_str(&format!(" AND t.{column} IS NULL")),
                Some(id) => {
                    sql.push_str(&format!(" AND t.{column} = ?"));
                    values.push(id);
                }
            }
        }
        (sql, values)
    }

    /// SQL conditions on the counters, with their values.
    fn on_counts(&self) -> (String, Vec<i64>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        for (column, value) in [
            ("category_key", self.category),
            ("operator_key", self.operator),
        ] {
            if let Some(id) = value {
                sql.push_str(&format!(" AND c.{column} = ?"));
                values.push(id.unwrap_or(0));
            }
        }
        (sql, values)
    }
}

/// The start of `day` as stored (UTC, RFC 3339 with milliseconds).
fn day_start(day: NaiveDate) -> String {
    format!("{day}T00:00:00.000Z")
}

/// Everything `GET /stats` answers, for `[from, to)`.
pub(crate) async fn compute(
    pool: &SqlitePool,
    from: NaiveDate,
    to: NaiveDate,
    filter: Filter,
) -> Result<Stats, sqlx::Error> {
    // One read transaction: every number is of the same moment.
    let mut tx = pool.begin().await?;
    let statuses = statuses::all(&mut *tx).await?;
    let names: BTreeMap<i64, String> = categories::all(&mut *tx)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let name = |key: i64| (key != 0).then(|| names.get(&key).cloned()).flatten();

    // Open now, from the counters.
    let (conditions, values) = filter.on_counts();
    let sql = format!(
        "SELECT c.status, c.priority, c.category_key, sum(c.count) FROM ticket_counts c \
         JOIN statuses s ON s.key = c.status \
         WHERE s.macro = 'in_progress' AND c.count > 0{conditions} \
         GROUP BY c.status, c.priority, c.category_key"
    );
    let mut query = sqlx::query_as::<_, (String, i64, i64, i64)>(sqlx::AssertSqlSafe(sql));
    for v in values {
        query = query.bind(v);
    }
    let rows = query.fetch_all(&mut *tx).await?;
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_priority: BTreeMap<i64, u64> = BTreeMap::new();
    let mut by_category: BTreeMap<i64, u64> = BTreeMap::new();
    let mut open = 0u64;
    for (status, priority, category, count) in rows {
        let count = u64::try_from(count).unwrap_or(0);
        open += count;
        *by_status.entry(status).or_default() += count;
        *by_priority.entry(priority).or_default() += count;
        *by_category.entry(category).or_default() += count;
    }
    let open_by_status = statuses
        .iter()
        .filter(|s| s.macro_status == MacroStatus::InProgress)
        .map(|s| StatusCount {
            status: s.key.clone(),
            label: s.label.clone(),
            count: by_status.get(&s.key).copied().unwrap_or(0),
        })
        .collect();
    let open_by_priority = Priority::ALL
        .iter()
        .map(|p| PriorityCount {
            priority: *p,
            count: by_priority.get(&i64::from(p.rank())).copied().unwrap_or(0),
        })
        .collect();
    let mut open_by_category: Vec<CategoryShare> = by_category
        .into_iter()
        .map(|(key, count)| CategoryShare {
            category: name(key),
            count,
            share: if open == 0 {
                0.0
            } else {
                count as f64 / open as f64
            },
        })
        .collect();
    open_by_category.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));

    let (from_text, to_text) = (day_start(from), day_start(to));
    let (conditions, values) = filter.on_tickets();

    // Closed in the period: how long each category's took.
    let sql = format!(
        "SELECT coalesce(t.category_id, 0), count(*), \
                avg((julianday(t.closed_at) - julianday(t.created_at)) * 86400.0) \
         FROM tickets t INDEXED BY tickets_by_closed \
         WHERE t.closed_at >= ? AND t.closed_at < ?{conditions} \
         GROUP BY coalesce(t.category_id, 0)"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, Option<f64>)>(sqlx::AssertSqlSafe(sql))
        .bind(&from_text)
        .bind(&to_text);
    for v in &values {
        query = query.bind(*v);
    }
    let mut time_to_close: Vec<CategoryTime> = query
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(key, closed, mean)| CategoryTime {
            category: name(key),
            closed: u64::try_from(closed).unwrap_or(0),
            mean_seconds: mean.unwrap_or(0.0).max(0.0),
        })
        .collect();
    time_to_close.sort_by(|a, b| b.closed.cmp(&a.closed).then(a.category.cmp(&b.category)));

    // Opened in the period: how soon an operator first answered in the chat.
    let sql = format!(
        "SELECT count(*), count(first), avg((julianday(first) - julianday(created)) * 86400.0) \
         FROM (SELECT t.created_at AS created, \
                      (SELECT min(m.created_at) FROM messages m \
                       WHERE m.ticket_id = t.id AND m.direction = 'outbound') AS first \
               FROM tickets t INDEXED BY tickets_by_created_for_stats \
               WHERE t.created_at >= ? AND t.created_at < ?{conditions})"
    );
    let mut query = sqlx::query_as::<_, (i64, i64, Option<f64>)>(sqlx::AssertSqlSafe(sql))
        .bind(&from_text)
        .bind(&to_text);
    for v in &values {
        query = query.bind(*v);
    }
    let (opened, answered, mean) = query.fetch_one(&mut *tx).await?;
    let first_response = ResponseTime {
        opened: u64::try_from(opened).unwrap_or(0),
        answered: u64::try_from(answered).unwrap_or(0),
        mean_seconds: mean.map(|m| m.max(0.0)),
    };

    // Per day: opened and closed.
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    let mut day = from;
    while day < to {
        days.insert(day, (0, 0));
        day = day.succ_opt().unwrap_or(to);
    }
    for (column, index, opened) in [
        ("created_at", "tickets_by_created_for_stats", true),
        ("closed_at", "tickets_by_closed", false),
    ] {
        let sql = format!(
            "SELECT substr(t.{column}, 1, 10), count(*) FROM tickets t INDEXED BY {index} \
             WHERE t.{column} >= ? AND t.{column} < ?{conditions} \
             GROUP BY substr(t.{column}, 1, 10)"
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(&from_text)
            .bind(&to_text);
        for v in &values {
            query = query.bind(*v);
        }
        for (day, count) in query.fetch_all(&mut *tx).await? {
            let Ok(day) = day.parse::<NaiveDate>() else {
                continue;
            };
            if let Some(entry) = days.get_mut(&day) {
                let count = u64::try_from(count).unwrap_or(0);
                if opened {
                    entry.0 = count;
                } else {
                    entry.1 = count;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(Stats {
        from,
        to,
        open,
        open_by_status,
        open_by_priority,
        open_by_category,
        time_to_close,
        first_response,
        days: days
            .into_iter()
            .map(|(day, (opened, closed))| DayCount {
                day,
                opened,
                closed,
            })
            .collect(),
    })
}
