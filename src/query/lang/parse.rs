//! Text → [`Query`], or an error pointing at the bad token.
//!
//! Terms are separated by whitespace. A term is:
//! - `-` followed by a term: its negation;
//! - `"…"`: a phrase (`\"` and `\\` escape; any other `\x` is `x`);
//! - `field:v1,v2`, `field=v`, `field<v`, `field<=v`, `field>v`, `field>=v`,
//!   where the field is a run of ASCII letters or `_` (see [`Field::from_name`]);
//!   a value is bare (up to the next whitespace, `,` or `"`, with `\x`
//!   escapes) or quoted;
//! - `important`: the flag;
//! - anything else: a free word, up to the next whitespace, with `\x` escapes
//!   (`\-x` is the word `-x`, `a\:b` the word `a:b`, `\important` the word).
//!
//! Names that need the client's data (statuses, operators) stay strings here;
//! closed sets (priorities, macro-statuses, SLA states, dates) are checked.

use std::ops::Range;

use chrono::NaiveDate;
use deskterm_api::{MacroStatus, Priority};

use super::QueryError;
use super::ast::{
    Atom, CategoryValue, Cmp, Field, OperatorValue, PriorityTest, Query, Term, TimeField, TimeTest,
    Unit,
};
use crate::query::Sla;

/// Where a term and each of its values sit in the input, for errors found
/// when compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermSpan {
    /// The whole term, `-` included.
    pub whole: Range<usize>,
    /// Each value, in order; empty for phrases, words and flags.
    pub values: Vec<Range<usize>>,
}

/// Parses a query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    parse_spanned(text).map(|(q, _)| q)
}

/// Parses a query and tells where each term sits.
pub fn parse_spanned(text: &str) -> Result<(Query, Vec<TermSpan>), QueryError> {
    let mut p = Parser { src: text, pos: 0 };
    let mut terms = Vec::new();
    let mut spans = Vec::new();
    loop {
        p.skip_whitespace();
        if p.at_end() {
            break;
        }
        let (term, span) = p.term()?;
        terms.push(term);
        spans.push(span);
    }
    Ok((Query { terms }, spans))
}

fn err(span: Range<usize>, message: impl Into<String>) -> QueryError {
    QueryError {
        span,
        message: message.into(),
    }
}

/// A value as written: its text with escapes resolved, and whether it was quoted.
struct RawValue {
    text: String,
    quoted: bool,
    span: Range<usize>,
}

enum Op {
    /// `:` or `=`.
    Is,
    Cmp(Cmp),
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn at_token_end(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn term(&mut self) -> Result<(Term, TermSpan), QueryError> {
        let start = self.pos;
        let negated = self.peek() == Some('-');
        if negated {
            self.bump();
            if self.at_token_end() {
                return Err(err(
                    start..self.pos,
                    "'-' must be followed by a term, as in -status:closed",
                ));
            }
            if self.peek() == Some('-') {
                return Err(err(
                    self.pos..self.pos + 1,
                    "one '-' negates a term; write a word starting with '-' as \\-",
                ));
            }
        }
        let mut values = Vec::new();
        let atom = if self.peek() == Some('"') {
            let quote_start = self.pos;
            let text = self.quoted()?;
            if !self.at_token_end() {
                return Err(err(
                    self.pos..self.pos + self.peek().map_or(0, char::len_utf8),
                    "a space must follow the closing quote",
                ));
            }
            if text.is_empty() {
                return Err(err(quote_start..self.pos, "empty phrase"));
            }
            Atom::Phrase(text)
        } else {
            let ident_end = self.pos
                + self.src[self.pos..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
                    .count();
            let after = self.src[ident_end..].chars().next();
            if ident_end > self.pos && matches!(after, Some(':' | '<' | '>' | '=')) {
                self.field_term(ident_end, &mut values)?
            } else {
                self.word()?
            }
        };
        let span = TermSpan {
            whole: start..self.pos,
            values,
        };
        Ok((Term { negated, atom }, span))
    }

    /// A double-quoted string starting at the current `"`.
    fn quoted(&mut self) -> Result<String, QueryError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(err(start..self.pos, "unterminated quote")),
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) => out.push(c),
                    None => return Err(err(start..self.pos, "unterminated quote")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// A free word or the `important` flag.
    fn word(&mut self) -> Result<Atom, QueryError> {
        let start = self.pos;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                break;
            }
            let at = self.pos;
            self.bump();
            match c {
                '\\' => match self.bump() {
                    Some(e) => out.push(e),
                    None => return Err(err(at..self.pos, "nothing to escape after '\\'")),
                },
                '"' => {
                    return Err(err(
                        at..self.pos,
                        "a quote inside a word: quote the whole phrase, or write \\\"",
                    ));
                }
                c => out.push(c),
            }
        }
        if self.src[start..self.pos].eq_ignore_ascii_case("important") {
            Ok(Atom::Important)
        } else {
            Ok(Atom::Word(out))
        }
    }

    fn field_term(
        &mut self,
        ident_end: usize,
        spans: &mut Vec<Range<usize>>,
    ) -> Result<Atom, QueryError> {
        let name_span = self.pos..ident_end;
        let name = &self.src[name_span.clone()];
        let field = Field::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            err(
                name_span.clone(),
                format!(
                    "unknown field '{name}' (fields: {}); to search the text, write {name}\\{}…",
                    known.join(", "),
                    &self.src[ident_end..ident_end + 1]
                ),
            )
        })?;
        self.pos = ident_end;
        let op_start = self.pos;
        let op = match self.bump() {
            Some(':' | '=') => Op::Is,
            Some('<') if self.peek() == Some('=') => {
                self.bump();
                Op::Cmp(Cmp::Le)
            }
            Some('<') => Op::Cmp(Cmp::Lt),
            Some('>') if self.peek() == Some('=') => {
                self.bump();
                Op::Cmp(Cmp::Ge)
            }
            _ => Op::Cmp(Cmp::Gt),
        };
        let op_span = op_start..self.pos;
        let op_text = &self.src[op_span.clone()];
        if field == Field::Important {
            return Err(err(
                name_span.start..op_span.end,
                "'important' is a flag and takes no value: write important or -important",
            ));
        }
        let comparable = matches!(field, Field::Priority | Field::Updated | Field::Created);
        if let Op::Cmp(_) = op
            && !comparable
        {
            return Err(err(
                op_span,
                format!(
                    "{} takes ':' and a list of values, not '{op_text}'",
                    field.name()
                ),
            ));
        }
        if self.at_token_end() {
            return Err(err(
                name_span.start..op_span.end,
                format!("missing value after '{}{op_text}'", field.name()),
            ));
        }
        let raw = self.values()?;
        spans.extend(raw.iter().map(|v| v.span.clone()));
        let single = |what: &str| -> Result<&RawValue, QueryError> {
            match raw.as_slice() {
                [one] => Ok(one),
                [_, second, ..] => Err(err(
                    second.span.clone(),
                    format!("'{}{op_text}' takes one {what}", field.name()),
                )),
                [] => Err(err(op_span.clone(), "missing value")),
            }
        };
        let atom = match field {
            Field::Status => Atom::Status(texts(raw)),
            Field::Macro => Atom::Macro(each(&raw, macro_status)?),
            Field::Priority => match op {
                Op::Is => Atom::Priority(PriorityTest::In(each(&raw, priority)?)),
                Op::Cmp(cmp) => {
                    Atom::Priority(PriorityTest::Cmp(cmp, priority(single("priority")?)?))
                }
            },
            Field::Operator => Atom::Operator(
                raw.into_iter()
                    .map(|v| {
                        if !v.quoted && v.text.eq_ignore_ascii_case("me") {
                            OperatorValue::Me
                        } else if !v.quoted && v.text.eq_ignore_ascii_case("none") {
                            OperatorValue::Nobody
                        } else {
                            OperatorValue::Name(v.text)
                        }
                    })
                    .collect(),
            ),
            Field::Category => Atom::Category(
                raw.into_iter()
                    .map(|v| {
                        if !v.quoted && v.text.eq_ignore_ascii_case("none") {
                            CategoryValue::Nobody
                        } else {
                            CategoryValue::Name(v.text)
                        }
                    })
                    .collect(),
            ),
            Field::Tag => Atom::Tag(texts(raw)),
            Field::Sla => Atom::Sla(each(&raw, sla)?),
            Field::Channel => Atom::Channel(texts(raw)),
            Field::Contact => Atom::Contact(texts(raw)),
            Field::Reference => Atom::Reference(texts(raw)),
            Field::Updated | Field::Created => {
                let which = if field == Field::Updated {
                    TimeField::Updated
                } else {
                    TimeField::Created
                };
                let v = single("time")?;
                let test = match op {
                    Op::Is => match time_value(v)? {
                        TimeValue::Date(date) => TimeTest::Date { cmp: None, date },
                        TimeValue::Age(..) => {
                            return Err(err(
                                v.span.clone(),
                                format!(
                                    "'{0}:' takes a date (YYYY-MM-DD); for an age write {0}<{1} or {0}>{1}",
                                    field.name(),
                                    v.text
                                ),
                            ));
                        }
                    },
                    Op::Cmp(cmp) => match time_value(v)? {
                        TimeValue::Date(date) => TimeTest::Date {
                            cmp: Some(cmp),
                            date,
                        },
                        TimeValue::Age(amount, unit) => TimeTest::Age { cmp, amount, unit },
                    },
                };
                Atom::Time(which, test)
            }
            Field::Important => Atom::Important,
        };
        Ok(atom)
    }

    /// A comma-separated list of values, up to the end of the token.
    fn values(&mut self) -> Result<Vec<RawValue>, QueryError> {
        let mut out = Vec::new();
        loop {
            let start = self.pos;
            let (text, quoted) = if self.peek() == Some('"') {
                (self.quoted()?, true)
            } else {
                (self.bare_value()?, false)
            };
            if text.is_empty() {
                // Point at the quotes, or at the comma next to the gap.
                let span = if quoted {
                    start..self.pos
                } else if self.peek() == Some(',') {
                    self.pos..self.pos + 1
                } else {
                    self.pos.saturating_sub(1)..self.pos
                };
                return Err(err(span, "empty value"));
            }
            out.push(RawValue {
                text,
                quoted,
                span: start..self.pos,
            });
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                None => return Ok(out),
                Some(c) if c.is_whitespace() => return Ok(out),
                Some(c) => {
                    return Err(err(
                        self.pos..self.pos + c.len_utf8(),
                        "expected ',' or a space after the closing quote",
                    ));
                }
            }
        }
    }

    fn bare_value(&mut self) -> Result<String, QueryError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                break;
            }
            let at = self.pos;
            self.bump();
            match c {
                '\\' => match self.bump() {
                    Some(e) => out.push(e),
                    None => return Err(err(at..self.pos, "nothing to escape after '\\'")),
                },
                '"' => {
                    return Err(err(
                        at..self.pos,
                        "a quote inside a value: quote the whole value",
                    ));
                }
                c => out.push(c),
            }
        }
        Ok(out)
    }
}

fn texts(raw: Vec<RawValue>) -> Vec<String> {
    raw.into_iter().map(|v| v.text).collect()
}

fn each<T>(
    raw: &[RawValue],
    f: impl Fn(&RawValue) -> Result<T, QueryError>,
) -> Result<Vec<T>, QueryError> {
    raw.iter().map(f).collect()
}

fn one_of<T: Copy>(v: &RawValue, what: &str, table: &[(&str, T)]) -> Result<T, QueryError> {
    let lower = v.text.to_lowercase();
    table
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            err(
                v.span.clone(),
                format!("unknown {what} '{}' ({})", v.text, names.join(", ")),
            )
        })
}

fn priority(v: &RawValue) -> Result<Priority, QueryError> {
    let table = Priority::ALL.map(|p| (p.as_str(), p));
    one_of(v, "priority", &table)
}

fn macro_status(v: &RawValue) -> Result<MacroStatus, QueryError> {
    one_of(
        v,
        "macro-status",
        &[
            (MacroStatus::InProgress.as_str(), MacroStatus::InProgress),
            (MacroStatus::Closed.as_str(), MacroStatus::Closed),
        ],
    )
}

fn sla(v: &RawValue) -> Result<Option<Sla>, QueryError> {
    one_of(
        v,
        "SLA state",
        &[
            ("ok", Some(Sla::Ok)),
            ("at_risk", Some(Sla::AtRisk)),
            ("breached", Some(Sla::Breached)),
            ("none", None),
        ],
    )
}

/// The spelling of an SLA state in queries.
pub(super) fn sla_name(s: Option<Sla>) -> &'static str {
    match s {
        Some(Sla::Ok) => "ok",
        Some(Sla::AtRisk) => "at_risk",
        Some(Sla::Breached) => "breached",
        None => "none",
    }
}

enum TimeValue {
    Age(u32, Unit),
    Date(NaiveDate),
}

fn time_value(v: &RawValue) -> Result<TimeValue, QueryError> {
    let t = v.text.as_str();
    let bad = || {
        err(
            v.span.clone(),
            format!("'{t}' is neither an age (30m, 12h, 7d, 2w) nor a date (YYYY-MM-DD)"),
        )
    };
    let b = t.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        let num = |r: Range<usize>| t[r].parse::<u32>().unwrap_or(0);
        let year = i32::try_from(num(0..4)).unwrap_or(0);
        return NaiveDate::from_ymd_opt(year, num(5..7), num(8..10))
            .map(TimeValue::Date)
            .ok_or_else(|| err(v.span.clone(), format!("no such date '{t}'")));
    }
    let Some(last) = t.chars().last() else {
        return Err(bad());
    };
    let unit = match last {
        'm' => Unit::Minute,
        'h' => Unit::Hour,
        'd' => Unit::Day,
        'w' => Unit::Week,
        _ => return Err(bad()),
    };
    let digits = &t[..t.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let amount = digits
        .parse::<u32>()
        .map_err(|_| err(v.span.clone(), format!("'{digits}' is too large")))?;
    Ok(TimeValue::Age(amount, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Term {
        let q = parse(text).unwrap();
        assert_eq!(q.terms.len(), 1, "{text}: {q:?}");
        q.terms.into_iter().next().unwrap()
    }

    fn atom(text: &str) -> Atom {
        one(text).atom
    }

    fn error(text: &str) -> (Range<usize>, String) {
        let e = parse(text).unwrap_err();
        (e.span, e.message)
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn status_values_are_kept_as_written() {
        assert_eq!(
            atom("status:open,Pending"),
            Atom::Status(s(&["open", "Pending"]))
        );
        assert_eq!(
            atom("STATUS=\"waiting parts\""),
            Atom::Status(s(&["waiting parts"]))
        );
    }

    #[test]
    fn macro_priority_and_sla_are_checked_at_parse_time() {
        assert_eq!(
            atom("macro:closed,IN_PROGRESS"),
            Atom::Macro(vec![MacroStatus::Closed, MacroStatus::InProgress])
        );
        assert_eq!(
            atom("priority:high,urgent"),
            Atom::Priority(PriorityTest::In(vec![Priority::High, Priority::Urgent]))
        );
        assert_eq!(
            atom("prio=low"),
            Atom::Priority(PriorityTest::In(vec![Priority::Low]))
        );
        for (text, cmp) in [
            ("priority>=high", Cmp::Ge),
            ("priority>high", Cmp::Gt),
            ("priority<high", Cmp::Lt),
            ("priority<=high", Cmp::Le),
        ] {
            assert_eq!(
                atom(text),
                Atom::Priority(PriorityTest::Cmp(cmp, Priority::High)),
                "{text}"
            );
        }
        assert_eq!(
            atom("sla:at_risk,none"),
            Atom::Sla(vec![Some(Sla::AtRisk), None])
        );
    }

    #[test]
    fn operator_keywords_unless_quoted() {
        assert_eq!(
            atom("op:me,none,Marco"),
            Atom::Operator(vec![
                OperatorValue::Me,
                OperatorValue::Nobody,
                OperatorValue::Name("Marco".into())
            ])
        );
        assert_eq!(
            atom("operator:\"me\""),
            Atom::Operator(vec![OperatorValue::Name("me".into())])
        );
        assert_eq!(
            atom("cat:none,billing"),
            Atom::Category(vec![
                CategoryValue::Nobody,
                CategoryValue::Name("billing".into())
            ])
        );
        assert_eq!(
            atom("category:\"none\""),
            Atom::Category(vec![CategoryValue::Name("none".into())])
        );
    }

    #[test]
    fn name_fields() {
        assert_eq!(atom("tag:vip,b2b"), Atom::Tag(s(&["vip", "b2b"])));
        assert_eq!(atom("channel:email"), Atom::Channel(s(&["email"])));
        assert_eq!(
            atom("contact:\"Ana Ruiz\""),
            Atom::Contact(s(&["Ana Ruiz"]))
        );
        assert_eq!(atom("ref:HD-000123"), Atom::Reference(s(&["HD-000123"])));
    }

    #[test]
    fn flag_phrase_and_words() {
        assert_eq!(atom("important"), Atom::Important);
        assert_eq!(atom("IMPORTANT"), Atom::Important);
        assert_eq!(atom("\\important"), Atom::Word("important".into()));
        assert_eq!(
            atom(r#""say \"hi\" \\o""#),
            Atom::Phrase(r#"say "hi" \o"#.into())
        );
        assert_eq!(atom("lote"), Atom::Word("lote".into()));
        assert_eq!(atom("10:30"), Atom::Word("10:30".into()));
        assert_eq!(atom("a\\:b"), Atom::Word("a:b".into()));
        assert_eq!(atom("\\-x"), Atom::Word("-x".into()));
        assert_eq!(atom("a\\ b"), Atom::Word("a b".into()));
    }

    #[test]
    fn negation_applies_to_any_term() {
        assert_eq!(
            one("-status:closed"),
            Term::not(Atom::Status(s(&["closed"])))
        );
        assert_eq!(one("-important"), Term::not(Atom::Important));
        assert_eq!(one("-\"x y\""), Term::not(Atom::Phrase("x y".into())));
        assert_eq!(one("-lote"), Term::not(Atom::Word("lote".into())));
    }

    #[test]
    fn times_relative_and_absolute() {
        assert_eq!(
            atom("updated<7d"),
            Atom::Time(
                TimeField::Updated,
                TimeTest::Age {
                    cmp: Cmp::Lt,
                    amount: 7,
                    unit: Unit::Day
                }
            )
        );
        assert_eq!(
            atom("created>=30m"),
            Atom::Time(
                TimeField::Created,
                TimeTest::Age {
                    cmp: Cmp::Ge,
                    amount: 30,
                    unit: Unit::Minute
                }
            )
        );
        let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(
            atom("updated>2026-01-01"),
            Atom::Time(
                TimeField::Updated,
                TimeTest::Date {
                    cmp: Some(Cmp::Gt),
                    date: jan1
                }
            )
        );
        assert_eq!(
            atom("created:2026-01-01"),
            Atom::Time(
                TimeField::Created,
                TimeTest::Date {
                    cmp: None,
                    date: jan1
                }
            )
        );
    }

    #[test]
    fn several_terms_in_order_with_spans() {
        let text = "  status:open,pending  op:me \"refund\" lote";
        let (q, spans) = parse_spanned(text).unwrap();
        assert_eq!(q.terms.len(), 4);
        assert_eq!(&text[spans[0].whole.clone()], "status:open,pending");
        assert_eq!(&text[spans[0].values[1].clone()], "pending");
        assert_eq!(&text[spans[2].whole.clone()], "\"refund\"");
        assert_eq!(&text[spans[3].whole.clone()], "lote");
        assert_eq!(parse("   ").unwrap(), Query::default());
    }

    #[test]
    fn errors_point_at_the_bad_token() {
        let (span, msg) = error("lote foo:bar");
        assert_eq!(span, 5..8);
        assert!(msg.contains("unknown field 'foo'"), "{msg}");
        let (span, msg) = error("status:open \"refund");
        assert_eq!(span, 12..19);
        assert!(msg.contains("unterminated"), "{msg}");
        let (span, msg) = error("priority:hihg");
        assert_eq!(span, 9..13);
        assert!(
            msg.contains("unknown priority 'hihg'") && msg.contains("urgent"),
            "{msg}"
        );
        let (span, msg) = error("updated>2026-02-30");
        assert_eq!(span, 8..18);
        assert!(msg.contains("no such date"), "{msg}");
        let (span, msg) = error("created<7y");
        assert_eq!(span, 8..10);
        assert!(msg.contains("neither an age"), "{msg}");
        let (span, msg) = error("updated:7d");
        assert_eq!(span, 8..10);
        assert!(msg.contains("takes a date"), "{msg}");
        let (span, _) = error("status<open");
        assert_eq!(span, 6..7);
        let (span, msg) = error("x status:");
        assert_eq!(span, 2..9);
        assert!(msg.contains("missing value"), "{msg}");
        let (span, msg) = error("status:open,");
        assert_eq!(span, 11..12);
        assert!(msg.contains("empty value"), "{msg}");
        let (span, _) = error("status:,open");
        assert_eq!(span, 7..8);
        let (span, _) = error("priority>=high,urgent");
        assert_eq!(span, 15..21);
        let (span, _) = error("- x");
        assert_eq!(span, 0..1);
        let (span, _) = error("--x");
        assert_eq!(span, 1..2);
        let (span, _) = error("important:yes");
        assert_eq!(span, 0..10);
        let (span, _) = error("ab\"c");
        assert_eq!(span, 2..3);
        let (span, _) = error("\"ab\"c");
        assert_eq!(span, 4..5);
        let (span, _) = error("\"\"");
        assert_eq!(span, 0..2);
        let (span, _) = error("tag:\"a\"b");
        assert_eq!(span, 7..8);
        let (span, msg) = error("sla:late");
        assert_eq!(span, 4..8);
        assert!(msg.contains("at_risk"), "{msg}");
    }

    #[test]
    fn spans_are_byte_ranges_in_non_ascii_text() {
        let text = "pedido ñandú foo:x";
        let (span, _) = error(text);
        assert_eq!(&text[span], "foo");
    }
}
