//! [`Query`] → text, canonically: terms in the user's order, one space
//! apart, canonical field names (`op`, `cat`, `ref`, `priority`), `:` rather
//! than `=`, values bare when they can be and quoted otherwise, words with
//! the fewest escapes that keep them words. `parse(print(q)) == q` for every
//! query whose lists and strings are non-empty.

use std::fmt::{self, Write};

use super::ast::{Atom, CategoryValue, OperatorValue, PriorityTest, Query, Term, TimeTest};
use super::parse::sla_name;

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('-')?;
        }
        write!(f, "{}", self.atom)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field().map_or("", |fld| fld.name());
        match self {
            Atom::Status(v)
            | Atom::Tag(v)
            | Atom::Channel(v)
            | Atom::Contact(v)
            | Atom::Reference(v) => list(f, field, v, |f, s| value(f, s, false)),
            Atom::Macro(v) => list(f, field, v, |f, m| f.write_str(m.as_str())),
            Atom::Priority(PriorityTest::In(v)) => {
                list(f, field, v, |f, p| f.write_str(p.as_str()))
            }
            Atom::Priority(PriorityTest::Cmp(cmp, p)) => {
                write!(f, "{field}{}{}", cmp.as_str(), p.as_str())
            }
            Atom::Operator(v) => list(f, field, v, |f, o| match o {
                OperatorValue::Me => f.write_str("me"),
                OperatorValue::Nobody => f.write_str("none"),
                OperatorValue::Name(n) => value(
                    f,
                    n,
                    n.eq_ignore_ascii_case("me") || n.eq_ignore_ascii_case("none"),
                ),
            }),
            Atom::Category(v) => list(f, field, v, |f, c| match c {
                CategoryValue::Nobody => f.write_str("none"),
                CategoryValue::Name(n) => value(f, n, n.eq_ignore_ascii_case("none")),
            }),
            Atom::Sla(v) => list(f, field, v, |f, s| f.write_str(sla_name(*s))),
            Atom::Important => f.write_str(field),
            Atom::Time(_, TimeTest::Age { cmp, amount, unit }) => {
                write!(f, "{field}{}{amount}{}", cmp.as_str(), unit.suffix())
            }
            Atom::Time(_, TimeTest::Date { cmp, date }) => {
                let op = cmp.map_or(":", |c| c.as_str());
                write!(f, "{field}{op}{}", date.format("%Y-%m-%d"))
            }
            Atom::Phrase(p) => quoted(f, p),
            Atom::Word(w) => word(f, w),
        }
    }
}

fn list<T>(
    f: &mut fmt::Formatter<'_>,
    field: &str,
    values: &[T],
    mut each: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    f.write_str(field)?;
    f.write_char(':')?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        each(f, v)?;
    }
    Ok(())
}

/// A field value: bare unless it is empty, holds a separator, a quote or a
/// backslash, or would read as a keyword (`reserved`).
fn value(f: &mut fmt::Formatter<'_>, s: &str, reserved: bool) -> fmt::Result {
    let bare = !reserved
        && !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '"' | '\\'));
    if bare { f.write_str(s) } else { quoted(f, s) }
}

fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// A free word, escaped where it would otherwise read as something else: a
/// negation, a phrase, the `important` flag, a field, or two words.
fn word(f: &mut fmt::Formatter<'_>, w: &str) -> fmt::Result {
    let ident_len = w
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
        .count();
    let flag = w.eq_ignore_ascii_case("important");
    for (i, c) in w.char_indices() {
        let escape = c == '\\'
            || c == '"'
            || c.is_whitespace()
            || (i == 0 && (c == '-' || flag))
            || (i == ident_len && ident_len > 0 && matches!(c, ':' | '<' | '>' | '='));
        if escape {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::query::lang::parse::parse;

    fn canonical(text: &str) -> String {
        parse(text).unwrap().to_string()
    }

    #[test]
    fn canonical_spelling_keeps_the_users_order() {
        assert_eq!(
            canonical("  lote  operator:ME  prio=HIGH category:Billing  STATUS:open "),
            "lote op:me priority:high cat:Billing status:open"
        );
        assert_eq!(
            canonical("reference=hd-1 sla:AT_RISK macro:Closed"),
            "ref:hd-1 sla:at_risk macro:closed"
        );
    }

    #[test]
    fn values_are_quoted_only_when_needed() {
        assert_eq!(
            canonical(r#"contact:"Ana Ruiz",ana tag:"vip""#),
            r#"contact:"Ana Ruiz",ana tag:vip"#
        );
        assert_eq!(canonical(r#"op:"ME",none"#), r#"op:"ME",none"#);
        assert_eq!(canonical(r#"cat:"none""#), r#"cat:"none""#);
        assert_eq!(canonical(r#"tag:a\,b"#), r#"tag:"a,b""#);
        assert_eq!(canonical(r#""a \"b\" \c""#), r#""a \"b\" c""#);
    }

    #[test]
    fn words_are_escaped_only_where_ambiguous() {
        assert_eq!(canonical(r"\important"), r"\important");
        assert_eq!(canonical(r"\-x a\:b 10:30 \a\b"), r"\-x a\:b 10:30 ab");
        assert_eq!(canonical(r"x\ y"), r"x\ y");
    }

    #[test]
    fn times_print_as_written() {
        assert_eq!(
            canonical("updated<7d created>=2026-01-01 updated:2026-03-02 created>90m"),
            "updated<7d created>=2026-01-01 updated:2026-03-02 created>90m"
        );
        assert_eq!(canonical("priority<=normal"), "priority<=normal");
    }

    #[test]
    fn printing_is_idempotent() {
        for text in [
            r#"-status:open,"Waiting parts" op:me "refund" -lote \important"#,
            r#"priority>=high cat:none,"none" contact:"A \"B\"""#,
        ] {
            let once = canonical(text);
            assert_eq!(canonical(&once), once);
        }
    }
}
