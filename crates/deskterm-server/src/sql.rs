//! The text of the store's queries for the database a process serves.
//!
//! Queries are written once, in SQLite's SQL with `?` parameters. For
//! PostgreSQL [`sql`] numbers the parameters and respells the few words the
//! two spell differently; where they differ more, [`pick`] chooses between
//! two texts. [`Builder`] makes the queries assembled at run time.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, RwLock};

use sqlx::any::{AnyArguments, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::{Any, Arguments, ValueRef};

/// The kind of database a server keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// One SQLite file, for one server process.
    Sqlite,
    /// A PostgreSQL database, shareable by several server processes.
    Postgres,
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        })
    }
}

/// The kind of database this process serves, set by the first [`Db`](crate::db::Db) it
/// opens. One process serves one kind: the store's queries are written
/// once, with `?` parameters, and numbered for PostgreSQL by [`sql`].
static DIALECT: OnceLock<Dialect> = OnceLock::new();

/// The kind of database this process serves (SQLite until one is opened).
pub(crate) fn dialect() -> Dialect {
    DIALECT.get().copied().unwrap_or(Dialect::Sqlite)
}

pub(crate) fn set_dialect(wanted: Dialect) -> anyhow::Result<()> {
    let serving = *DIALECT.get_or_init(|| wanted);
    if serving != wanted {
        anyhow::bail!(
            "this process already serves a {serving} database and cannot open a {wanted} one too"
        );
    }
    Ok(())
}

/// PostgreSQL texts of the store's queries, made once each.
static NUMBERED: LazyLock<RwLock<HashMap<&'static str, &'static str>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// A query of the store for the database this process serves: as written
/// for SQLite, with its `?` parameters numbered (`$1`, `$2`…) for PostgreSQL.
/// Each distinct query text is numbered once and kept for the process's life.
pub(crate) fn sql(text: &'static str) -> &'static str {
    if dialect() == Dialect::Sqlite {
        return text;
    }
    if let Some(numbered) = NUMBERED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(text)
    {
        return numbered;
    }
    let mut known = NUMBERED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    known
        .entry(text)
        .or_insert_with(|| Box::leak(number_parameters(text).into_boxed_str()))
}

/// [`sql`] for a query built at run time.
pub(crate) fn sql_owned(text: impl Into<String>) -> String {
    let text = text.into();
    match dialect() {
        Dialect::Sqlite => text,
        Dialect::Postgres => number_parameters(&text),
    }
}

/// The text of a query for the database this process serves, where the two
/// need different SQL.
pub(crate) fn pick(sqlite: &'static str, postgres: &'static str) -> &'static str {
    match dialect() {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
    }
}

/// SQLite's words that PostgreSQL spells otherwise, outside quotes, in the
/// queries of the store: `(sqlite, postgres)`. An `INDEXED BY` hint is
/// dropped with the index name after it.
const RESPELLED: [(&str, &str); 4] = [
    ("CROSS JOIN ", "JOIN "),
    ("instr(", "strpos("),
    ("char(10)", "chr(10)"),
    ("INDEXED BY ", ""),
];

/// `text` for PostgreSQL: each `?` outside quotes numbered `$1`, `$2`… in
/// order (a numbered `?3` becomes `$3`), and [`RESPELLED`] words replaced.
fn number_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = c.len_utf8();
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
                out.push('$');
                if digits == 0 {
                    n += 1;
                    out.push_str(&n.to_string());
                } else {
                    out.push_str(&rest[1..=digits]);
                }
                rest = &rest[1 + digits..];
                continue;
            }
            None => {
                if let Some((from, to)) = RESPELLED.iter().find(|(from, _)| rest.starts_with(from))
                {
                    out.push_str(to);
                    rest = &rest[from.len()..];
                    if from.starts_with("INDEXED BY") {
                        let name = rest
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(rest.len());
                        rest = &rest[name..];
                    }
                    continue;
                }
            }
        }
        out.push(c);
        rest = &rest[len..];
    }
    out
}

/// A yes/no read from the database. SQLite keeps one as an integer (0 or 1)
/// and PostgreSQL as a boolean; this reads either. Write a plain `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub(crate) bool);

impl sqlx::Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            Ok(Flag(<bool as sqlx::Decode<Any>>::decode(value)?))
        } else {
            Ok(Flag(<i64 as sqlx::Decode<Any>>::decode(value)? != 0))
        }
    }
}

/// A query assembled at run time: text with `?` parameters and their
/// values, numbered for PostgreSQL when run.
#[derive(Default)]
pub(crate) struct Builder {
    text: String,
    args: AnyArguments,
    /// The first value that could not be encoded, reported when run.
    error: Option<String>,
}

impl Builder {
    /// A query starting with `text`.
    pub(crate) fn new(text: impl Into<String>) -> Builder {
        Builder {
            text: text.into(),
            ..Builder::default()
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: impl std::fmt::Display) -> &mut Builder {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = write!(self.text, "{text}");
        self
    }

    /// Appends a parameter with `value`.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Builder
    where
        T: sqlx::Encode<'static, Any> + sqlx::Type<Any> + Send + 'static,
    {
        if let Err(e) = self.args.add(value)
            && self.error.is_none()
        {
            self.error = Some(e.to_string());
        }
        self.text.push('?');
        self
    }

    /// Appends `(?, ?, …)` with `values`.
    pub(crate) fn push_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Builder
    where
        T: sqlx::Encode<'static, Any> + sqlx::Type<Any> + Send + 'static,
    {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_bind(value);
        }
        self.text.push(')');
        self
    }

    fn parts(self) -> Result<(String, AnyArguments), sqlx::Error> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e.into())),
            None => Ok((sql_owned(self.text), self.args)),
        }
    }

    /// The query, ready to run.
    pub(crate) fn build(
        self,
    ) -> Result<sqlx::query::Query<'static, Any, AnyArguments>, sqlx::Error> {
        let (text, args) = self.parts()?;
        Ok(sqlx::query_with(sqlx::AssertSqlSafe(text), args))
    }

    /// The query of one value, ready to run.
    pub(crate) fn build_query_scalar<O>(
        self,
    ) -> Result<sqlx::query::QueryScalar<'static, Any, O, AnyArguments>, sqlx::Error>
    where
        (O,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let (text, args) = self.parts()?;
        Ok(sqlx::query_scalar_with(sqlx::AssertSqlSafe(text), args))
    }
}

#[cfg(test)]
mod tests {
    use super::number_parameters;

    #[test]
    fn parameters_are_numbered_outside_quotes_and_sqlite_words_respelled() {
        assert_eq!(
            number_parameters("SELECT '?', \"a?\" FROM t WHERE a = ? AND b IN (?, ?)"),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(
            number_parameters("WHERE ?1 IS NULL OR instr(search, ?1) > 0 LIMIT ?2"),
            "WHERE $1 IS NULL OR strpos(search, $1) > 0 LIMIT $2"
        );
        assert_eq!(
            number_parameters(
                "FROM tickets t INDEXED BY tickets_by_title CROSS JOIN c ON x || char(10)"
            ),
            "FROM tickets t  JOIN c ON x || chr(10)"
        );
        assert_eq!(
            number_parameters("SELECT 'it''s ?' , ?"),
            "SELECT 'it''s ?' , $1"
        );
        assert_eq!(number_parameters("SELECT 'ñ', ?"), "SELECT 'ñ', $1");
    }
}
