//! What a time term means as a range of Unix seconds.
//!
//! Relative terms compare the age `now - t`: `updated<7d` keeps tickets
//! updated less than 7 days ago (`t > now - 7d`), `updated>7d` those updated
//! more than 7 days ago (`t < now - 7d`); `<=`/`>=` include the boundary second.
//! Absolute terms compare calendar days in the context's time zone:
//! `<D` before day D, `<=D` up to the end of D, `>D` from the day after D,
//! `>=D` from the start of D, `:D` during D.

use chrono::{NaiveDate, NaiveTime};

use super::ast::{Cmp, TimeTest};

/// An inclusive range of Unix seconds; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Earliest second that passes.
    pub min: Option<i64>,
    /// Latest second that passes.
    pub max: Option<i64>,
}

impl Bounds {
    /// Whether `t` passes.
    #[inline]
    pub fn contains(&self, t: i64) -> bool {
        self.min.is_none_or(|m| t >= m) && self.max.is_none_or(|m| t <= m)
    }

    /// Whether every second in `self` is also in `other`.
    pub fn within(&self, other: &Bounds) -> bool {
        let lower = match (self.min, other.min) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a >= b,
        };
        let upper = match (self.max, other.max) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a <= b,
        };
        lower && upper
    }
}

/// The seconds a test accepts at `now`, with days starting at local midnight
/// `utc_offset` seconds east of UTC.
pub fn bounds(test: &TimeTest, now: i64, utc_offset: i32) -> Bounds {
    match *test {
        TimeTest::Age { cmp, amount, unit } => {
            let edge = now.saturating_sub(i64::from(amount).saturating_mul(unit.seconds()));
            match cmp {
                Cmp::Lt => Bounds {
                    min: Some(edge.saturating_add(1)),
                    max: None,
                },
                Cmp::Le => Bounds {
                    min: Some(edge),
                    max: None,
                },
                Cmp::Gt => Bounds {
                    min: None,
                    max: Some(edge.saturating_sub(1)),
                },
                Cmp::Ge => Bounds {
                    min: None,
                    max: Some(edge),
                },
            }
        }
        TimeTest::Date { cmp, date } => {
            let start = day_start(date, utc_offset);
            let next = start.saturating_add(86_400);
            match cmp {
                None => Bounds {
                    min: Some(start),
                    max: Some(next - 1),
                },
                Some(Cmp::Lt) => Bounds {
                    min: None,
                    max: Some(start - 1),
                },
                Some(Cmp::Le) => Bounds {
                    min: None,
                    max: Some(next - 1),
                },
                Some(Cmp::Gt) => Bounds {
                    min: Some(next),
                    max: None,
                },
                Some(Cmp::Ge) => Bounds {
                    min: Some(start),
                    max: None,
                },
            }
        }
    }
}

/// Unix seconds of local midnight starting `date`.
fn day_start(date: NaiveDate, utc_offset: i32) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp() - i64::from(utc_offset)
}

/// Whether a test's range moves with `now` (relative terms do).
pub fn is_relative(test: &TimeTest) -> bool {
    matches!(test, TimeTest::Age { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lang::ast::Unit;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn younger_than_excludes_the_boundary_second() {
        let now = 1_000_000;
        let b = bounds(
            &TimeTest::Age {
                cmp: Cmp::Lt,
                amount: 2,
                unit: Unit::Hour,
            },
            now,
            0,
        );
        assert!(b.contains(now));
        assert!(b.contains(now - 7_199));
        assert!(!b.contains(now - 7_200));
        let older = bounds(
            &TimeTest::Age {
                cmp: Cmp::Ge,
                amount: 2,
                unit: Unit::Hour,
            },
            now,
            0,
        );
        assert!(older.contains(now - 7_200));
        assert!(!older.contains(now - 7_199));
    }

    #[test]
    fn dates_are_whole_local_days() {
        let d = date("2026-01-01");
        let utc_midnight = 1_767_225_600;
        let on = bounds(&TimeTest::Date { cmp: None, date: d }, 0, 0);
        assert_eq!(on.min, Some(utc_midnight));
        assert_eq!(on.max, Some(utc_midnight + 86_399));
        let after = bounds(
            &TimeTest::Date {
                cmp: Some(Cmp::Gt),
                date: d,
            },
            0,
            3_600,
        );
        // Midnight of 2 January at UTC+1 is 23:00 UTC on the 1st.
        assert_eq!(after.min, Some(utc_midnight + 86_400 - 3_600));
        let before = bounds(
            &TimeTest::Date {
                cmp: Some(Cmp::Lt),
                date: d,
            },
            0,
            0,
        );
        assert!(before.contains(utc_midnight - 1));
        assert!(!before.contains(utc_midnight));
    }

    #[test]
    fn within_compares_both_ends() {
        let open = Bounds {
            min: None,
            max: None,
        };
        let week = Bounds {
            min: Some(10),
            max: None,
        };
        let day = Bounds {
            min: Some(20),
            max: Some(30),
        };
        assert!(day.within(&week));
        assert!(week.within(&open));
        assert!(!week.within(&day));
        assert!(!open.within(&week));
    }
}
