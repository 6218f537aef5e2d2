//! Timestamps as the database keeps them: RFC 3339 text with exactly three
//! fractional digits and `Z`, so that text order is time order.

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Utc};

/// The current time, cut to the millisecond the database keeps.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The stored form of `t` (sub-millisecond digits are dropped).
pub(crate) fn to_db(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Whether `t` can be stored without breaking text order (four-digit years only).
pub(crate) fn storable(t: DateTime<Utc>) -> bool {
    (0..=9999).contains(&t.year())
}

/// Reads a stored timestamp.
pub(crate) fn from_db(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(format!("bad stored time {text:?}: {e}").into()))
}

/// Reads an optional stored timestamp.
pub(crate) fn from_db_opt(text: Option<&str>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    text.map(from_db).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_sorts_like_time() {
        let a = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.9Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = DateTime::parse_from_rfc3339("2026-01-02T03:04:06Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(to_db(a), "2026-01-02T03:04:05.900Z");
        assert_eq!(to_db(b), "2026-01-02T03:04:06.000Z");
        assert!(to_db(a) < to_db(b));
        assert_eq!(from_db(&to_db(a)).unwrap(), a);
    }

    #[test]
    fn now_round_trips() {
        let t = now();
        assert_eq!(from_db(&to_db(t)).unwrap(), t);
    }
}
