//! The numbers of `GET /stats`, each one aggregate query over rows that
//! triggers keep (migration 0008): what is open from the counters per
//! status, priority, category and operator; what happened in a period from
//! the rows per day, category and operator.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use deskterm_api::{
    CategoryShare, CategoryTime, DayCount, MacroStatus, Priority, PriorityCount, ResponseTime,
    Stats, StatusCount,
};
use sqlx::{AnyPool, Row};

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

/// Everything `GET /stats` answers, for `[from, to)`.
pub(crate) async fn compute(
    pool: &AnyPool,
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
        "SELECT c.status, c.priority, c.category_key, CAST(sum(c.count) AS BIGINT) FROM ticket_counts c \
         JOIN statuses s ON s.key = c.status \
         WHERE s.macro = 'in_progress' AND c.count > 0{conditions} \
         GROUP BY c.status, c.priority, c.category_key"
    );
    let mut query = sqlx::query_as::<_, (String, i64, i64, i64)>(sqlx::AssertSqlSafe(
        crate::sql::sql_owned(sql),
    ));
    for v in values.clone() {
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

    // What happened in the period, from the rows per day (migration 0008).
    let (from_day, to_day) = (from.to_string(), to.to_string());
    let period = |select: &str, group: &str| {
        format!(
            "SELECT {select} FROM ticket_days c WHERE c.day >= ? AND c.day < ?{conditions} {group}"
        )
    };
    let bound = |sql: String| {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(crate::sql::sql_owned(sql)))
            .bind(from_day.clone())
            .bind(to_day.clone());
        for v in &values {
            query = query.bind(*v);
        }
        query
    };

    // Closed in the period: how long each category's took.
    let rows = bound(period(
        "c.category_key, CAST(sum(c.closed) AS BIGINT), sum(c.close_seconds)",
        "GROUP BY c.category_key HAVING sum(c.closed) > 0",
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut time_to_close = Vec::new();
    for row in rows {
        let (key, closed, seconds): (i64, i64, f64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        time_to_close.push(CategoryTime {
            category: name(key),
            closed: u64::try_from(closed).unwrap_or(0),
            mean_seconds: (seconds / closed.max(1) as f64).max(0.0),
        });
    }
    time_to_close.sort_by(|a, b| b.closed.cmp(&a.closed).then(a.category.cmp(&b.category)));

    // Opened in the period: how soon an operator first answered in the chat.
    let row = bound(period(
        "CAST(coalesce(sum(c.opened), 0) AS BIGINT), CAST(coalesce(sum(c.answered), 0) AS BIGINT), coalesce(sum(c.response_seconds), 0.0)",
        "",
    ))
    .fetch_one(&mut *tx)
    .await?;
    let (opened, answered, seconds): (i64, i64, f64) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let first_response = ResponseTime {
        opened: u64::try_from(opened).unwrap_or(0),
        answered: u64::try_from(answered).unwrap_or(0),
        mean_seconds: (answered > 0).then(|| (seconds / answered as f64).max(0.0)),
    };

    // Per day: opened and closed.
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = BTreeMap::new();
    let mut day = from;
    while day < to {
        days.insert(day, (0, 0));
        day = day.succ_opt().unwrap_or(to);
    }
    let rows = bound(period(
        "c.day, CAST(sum(c.opened) AS BIGINT), CAST(sum(c.closed) AS BIGINT)",
        "GROUP BY c.day",
    ))
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let (day, opened, closed): (String, i64, i64) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if let Ok(day) = day.parse::<NaiveDate>()
            && let Some(entry) = days.get_mut(&day)
        {
            *entry = (
                u64::try_from(opened).unwrap_or(0),
                u64::try_from(closed).unwrap_or(0),
            );
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
